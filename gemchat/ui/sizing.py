"""Dialog heights for wrapped text: Qt sizes a window from its minimum, not from the lines its labels wrap to."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QScrollArea, QWidget

SCREEN_SHARE = 0.9
"""The most of the screen's height a dialog grows to; past it, its scrolled part scrolls."""


def grow_to_fit(window: QWidget, scrolled: QScrollArea | None = None) -> None:
    """Makes `window` tall enough for its word-wrapped labels at its current width; never shorter.

    A dialog given a size (`resize(width, 0)`) keeps it when shown, and its minimum
    height ignores how many lines a long path or message wraps to, so they are cut.
    With `scrolled` (the part of the window in a scroll area), the window grows
    to show all of that part, but no taller than `SCREEN_SHARE` of the screen:
    with a large font, the rest scrolls rather than falling off the screen.
    """
    layout = window.layout()
    if layout is None:
        return
    layout.activate()
    if scrolled is None:
        window.resize(window.width(), max(window.height(), layout.totalHeightForWidth(window.width())))
        return
    margins = layout.contentsMargins()
    body = scrolled.widget()
    body_layout = body.layout() if body is not None else None
    width = window.width() - margins.left() - margins.right() - 2 * scrolled.frameWidth()
    if body_layout is None:
        return
    body_layout.activate()
    wanted = body_layout.totalHeightForWidth(width) + 2 * scrolled.frameWidth()
    others = [item for n in range(layout.count()) if (item := layout.itemAt(n)) is not None
              and item.widget() is not scrolled]
    rest = (margins.top() + margins.bottom() + sum(item.sizeHint().height() for item in others)
            + max(0, layout.spacing()) * len(others))
    screen = window.screen() or QGuiApplication.primaryScreen()
    most = int(screen.availableGeometry().height() * SCREEN_SHARE)
    window.resize(window.width(), min(max(window.height(), wanted + rest), most))
