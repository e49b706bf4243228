"""The text size of the conversation and the message box: one level, in percent, that every such widget follows.

Each widget given to `TextZoom.follow` keeps the size it had then as its
100 %, and is given that size times the level, now and at every change. Only
the size is set: family and the rest still come from the application, and in
the conversation's document every format is relative to the widget's font
(headings `font-size: x-large`, code in `<pre>`), so all of it scales with one
change and no re-rendering. Ctrl+wheel over a followed widget zooms too.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFont, QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from gemchat.settings import TEXT_ZOOM_RANGE

STEP = 10
"""Percent per key press or wheel notch."""
NORMAL = 100
WHEEL_NOTCH = 120
"""A wheel's notch in `QWheelEvent.angleDelta` units (eighths of a degree); touchpads send less per event."""


class TextZoom(QObject):
    """The level, the widgets that follow it, and Ctrl+wheel over them.

    Signals:
        changed(int): the level changed (a key, the wheel, `set_level`); the new percentage.
    """

    changed = Signal(int)

    def __init__(self, level: int = NORMAL, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._level = _bounded(level)
        self._normal: dict[QWidget, QFont] = {}  # each followed widget's font at 100 %
        self._watched: dict[QObject, QWidget] = {}  # where its wheel events arrive -> the widget
        self._wheel = 0  # angle turned with Ctrl held, not yet a whole step

    @property
    def level(self) -> int:
        return self._level

    def follow(self, widget: QWidget) -> None:
        """Sizes `widget`'s text at the level from now on; its present font is its 100 %."""
        self._normal[widget] = QFont(widget.font())
        target = widget.viewport() if isinstance(widget, QAbstractScrollArea) else widget
        self._watched[target] = widget
        target.installEventFilter(self)
        widget.destroyed.connect(lambda: self._forget(widget, target))
        self._apply(widget)

    def set_level(self, level: int) -> None:
        """Sizes every followed widget at `level` percent (kept within `TEXT_ZOOM_RANGE`)."""
        level = _bounded(level)
        if level == self._level:
            return
        self._level = level
        for widget in self._normal:
            self._apply(widget)
        self.changed.emit(level)

    def zoom_in(self) -> None:
        self.zoom_by(1)

    def zoom_out(self) -> None:
        self.zoom_by(-1)

    def reset(self) -> None:
        self.set_level(NORMAL)

    def zoom_by(self, steps: int) -> None:
        """`steps` steps larger (smaller when negative); a level between steps (hand-edited) goes to the next one."""
        if steps:
            below = self._level // STEP * STEP
            start = below if steps > 0 or below == self._level else below + STEP
            self.set_level(start + steps * STEP)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        """Ctrl+wheel over a followed widget zooms, a step a notch, instead of scrolling."""
        if (event.type() == QEvent.Type.Wheel and isinstance(event, QWheelEvent) and watched in self._watched
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            delta = event.angleDelta().y()
            if delta * self._wheel < 0:  # turned back: what was left over the other way is dropped
                self._wheel = 0
            self._wheel += delta
            steps = int(self._wheel / WHEEL_NOTCH)
            self._wheel -= steps * WHEEL_NOTCH
            self.zoom_by(steps)
            return True
        return super().eventFilter(watched, event)

    def _apply(self, widget: QWidget) -> None:
        normal = self._normal[widget]
        font = QFont()  # only the size is set: the rest is still inherited
        if normal.pointSizeF() > 0:
            font.setPointSizeF(normal.pointSizeF() * self._level / NORMAL)
        else:  # a font sized in pixels
            font.setPixelSize(max(1, round(normal.pixelSize() * self._level / NORMAL)))
        widget.setFont(font)

    def _forget(self, widget: QWidget, target: QObject) -> None:
        self._normal.pop(widget, None)
        self._watched.pop(target, None)


def _bounded(level: int) -> int:
    low, high = TEXT_ZOOM_RANGE
    return max(low, min(high, int(level)))
