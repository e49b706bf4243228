"""Dialog heights for wrapped text: Qt sizes a window from its minimum, not from the lines its labels wrap to."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def grow_to_fit(window: QWidget) -> None:
    """Makes `window` tall enough for its word-wrapped labels at its current width; never shorter.

    A dialog given a size (`resize(width, 0)`) keeps it when shown, and its minimum
    height ignores how many lines a long path or message wraps to, so they are cut.
    """
    layout = window.layout()
    if layout is None:
        return
    layout.activate()
    window.resize(window.width(), max(window.height(), layout.totalHeightForWidth(window.width())))
