"""Small controls painted from the palette: pills (the model chip, tool chips) and round icon buttons (Send, Stop, Attach).

They paint themselves at every paint from the widget's palette, never from
colours kept at creation, so a switch between light and dark needs nothing
from them; the accent is `QPalette.Highlight`. Qt's style sheets were not used:
a sheet's `palette(...)` is read when the widget is polished, not when the
palette later changes. Icons are drawn as paths rather than read from an icon
theme, which a bare X server or a packaged app may not have.
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QPushButton, QToolButton, QWidget

Role = QPalette.ColorRole


def blend(one: QColor, other: QColor, amount: float) -> QColor:
    """`one` moved `amount` (0 to 1) of the way towards `other`: low-contrast borders and fills in any theme."""
    def mix(a: float, b: float) -> float:
        return a + (b - a) * amount

    return QColor.fromRgbF(mix(one.redF(), other.redF()), mix(one.greenF(), other.greenF()),
                           mix(one.blueF(), other.blueF()), mix(one.alphaF(), other.alphaF()))


def border_color(palette: QPalette) -> QColor:
    """A 1 px border that is seen but does not shout: the text colour faintly over the window's."""
    return blend(palette.color(Role.Window), palette.color(Role.WindowText), 0.22)


def outline_pen(palette: QPalette, focused: bool, focused_width: float = 2) -> QPen:
    """A control's outline: the accent, `focused_width` wide, with the keyboard focus; else the faint 1 px border."""
    return QPen(palette.color(Role.Highlight), focused_width) if focused else QPen(border_color(palette), 1)


class PillButton(QToolButton):
    """A rounded chip with a short text; its border turns to the accent when it has the keyboard focus."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setText(text)
        self.setAutoRaise(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        metrics = self.fontMetrics()
        return QSize(metrics.horizontalAdvance(self.text()) + 2 * metrics.height(), metrics.height() + 12)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return self.sizeHint()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        palette = self.palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        radius = rect.height() / 2
        fill = palette.color(Role.Button)
        if self.isDown():
            fill = blend(fill, palette.color(Role.Highlight), 0.3)
        elif self.underMouse():
            fill = blend(fill, palette.color(Role.Highlight), 0.15)
        focused = self.hasFocus()
        painter.setPen(outline_pen(palette, focused))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect, radius, radius)
        painter.setPen(palette.color(QPalette.ColorGroup.Normal if self.isEnabled() else QPalette.ColorGroup.Disabled,
                                     Role.ButtonText))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.text())


class Glyph(Enum):
    """What a round button shows."""

    SEND = "send"
    STOP = "stop"
    ATTACH = "attach"
    ARROW = "arrow"
    """Send's arrow turned to the right: a starter's (`StarterButton`)."""


class RoundButton(QPushButton):
    """A round button showing a glyph: filled with the accent (Send), the text colour (Stop), or plain (Attach).

    It has no text, so it is given an accessible name and a tooltip where it is made.
    """

    def __init__(self, glyph: Glyph, filled: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.glyph = glyph
        self._filled = filled
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        side = max(32, round(self.fontMetrics().height() * 2))
        return QSize(side, side)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return self.sizeHint()

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        palette = self.palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        side = min(self.width(), self.height()) - 2
        circle = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        fill, ink = self._colors(palette)
        if fill is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawEllipse(circle)
        if self.hasFocus():
            painter.setPen(QPen(palette.color(Role.Highlight), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(circle.adjusted(1, 1, -1, -1) if fill is None else circle.adjusted(-0.5, -0.5, 0.5, 0.5))
        paint_glyph(painter, self.glyph, circle, ink)

    def _colors(self, palette: QPalette) -> tuple[QColor | None, QColor]:
        """The circle's fill (None: none but on hover) and the glyph's colour, for the button's state."""
        hovered = self.underMouse() or self.isDown()
        if not self._filled:
            fill = blend(palette.color(Role.Base), palette.color(Role.Text), 0.1) if hovered else None
            return fill, palette.color(Role.Text)
        if not self.isEnabled():  # still a button to see, in grey: it says what Enter will do once there is text
            return blend(palette.color(Role.Base), palette.color(Role.Text), 0.3), palette.color(Role.Base)
        if self.glyph is Glyph.STOP:
            return palette.color(Role.Text), palette.color(Role.Base)
        accent = palette.color(Role.Highlight)
        return (accent.lighter(112) if hovered else accent), palette.color(Role.HighlightedText)


_TURNS = {Glyph.ARROW: 90, Glyph.ATTACH: 40}
"""Degrees a glyph is turned clockwise: the starters' arrow is Send's, the paperclip is drawn upright."""


def paint_glyph(painter: QPainter, glyph: Glyph, box: QRectF, color: QColor) -> None:
    """Draws `glyph` in the middle of `box`, drawn on a 24-unit grid scaled to half the box."""
    painter.save()
    scale = box.width() / 24 * 0.55
    painter.translate(box.center())
    painter.scale(scale, scale)
    painter.translate(-12, -12)
    turn = _TURNS.get(glyph, 0)
    if turn:  # about the grid's middle
        painter.translate(12, 12)
        painter.rotate(turn)
        painter.translate(-12, -12)
    pen = QPen(color, 2.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
    if glyph is Glyph.STOP:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(QRectF(6, 6, 12, 12), 2, 2)
    elif glyph in (Glyph.SEND, Glyph.ARROW):
        painter.setPen(pen)
        painter.drawLine(QPointF(12, 20), QPointF(12, 4))
        painter.drawPolyline([QPointF(5, 11), QPointF(12, 4), QPointF(19, 11)])
    else:
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(_paperclip())
    painter.restore()


def _paperclip() -> QPainterPath:
    """Two nested U shapes joined at the top, upright on the 24-unit grid (the caller tilts it)."""
    path = QPainterPath(QPointF(14, 7))
    path.lineTo(14, 17)
    path.arcTo(QRectF(10, 15, 4, 4), 0, -180)  # the inner bottom: from x 14 to x 10
    path.lineTo(10, 5)
    path.arcTo(QRectF(10, 1.75, 6.5, 6.5), 180, -180)  # the top: from the inner left to the outer right
    path.lineTo(16.5, 17.5)
    path.arcTo(QRectF(7.5, 13, 9, 9), 0, -180)  # the outer bottom
    path.lineTo(7.5, 8)
    return path
