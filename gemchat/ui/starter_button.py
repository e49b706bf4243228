"""A starter of an empty chat: its word in bold over its question, after an arrow, laid out as a command link.

Not Qt's QCommandLinkButton: that asks the style for its arrow when it is made,
and the first themed icon a process asks for costs 31 M instructions (10-20 ms,
Qt's icon loader setting itself up) before the window's first paint, for a black
arrow unseen in the dark theme. Nor is the style asked to draw the panel: making
`QStyle`'s Python enums would cost more still. It is painted from the palette at
every paint, as the window's other painted controls are (`gemchat.ui.painted`),
with a command link's margins; its arrow is Send's, turned, in the accent colour.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QPushButton, QSizePolicy, QWidget

from gemchat.ui.painted import Glyph, blend, outline_pen, paint_glyph

LEFT, TOP, RIGHT, BOTTOM = 7, 10, 4, 10
"""QCommandLinkButton's margins."""
ARROW_SIDE = 20
GAP = 6
"""Between the arrow and the words."""
ARROW_BOX = 36
"""The box `paint_glyph` draws the arrow in (it fills about half of it), centred on the arrow's place."""
RADIUS = 8.0
Role = QPalette.ColorRole


class StarterButton(QPushButton):
    """`text()` is the word in bold; `description` the question under it, wrapped to the width.

    At rest only the arrow and the words show; under the pointer, pressed or with the
    keyboard focus, a card with a faint border (the accent's, with the focus).
    """

    def __init__(self, title: str, description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)  # not (title, parent): matching that call makes QIcon's Python enums (3 ms)
        self.setText(title)
        self.description = description
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)  # repainted as the pointer comes and goes
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred,
                             QSizePolicy.ControlType.PushButton)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setAccessibleDescription(description)

    def _title_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        return font

    def _text_left(self) -> int:
        return LEFT + ARROW_SIDE + GAP

    def _description_height(self, width: int) -> int:
        room = QRect(0, 0, max(1, width - self._text_left() - RIGHT), 10_000)
        return self.fontMetrics().boundingRect(room, Qt.TextFlag.TextWordWrap, self.description).height()

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt override)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt override)
        words = QFontMetrics(self._title_font()).height() + self._description_height(width)
        return TOP + max(ARROW_SIDE, words) + BOTTOM

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        width = self._text_left() + RIGHT + max(QFontMetrics(self._title_font()).horizontalAdvance(self.text()),
                                                 self.fontMetrics().averageCharWidth() * 30)
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(self._text_left() + RIGHT + self.fontMetrics().averageCharWidth() * 8,
                     TOP + ARROW_SIDE + BOTTOM)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        palette = self.palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        focused, hovered = self.hasFocus(), self.underMouse()
        if focused or hovered or self.isDown():
            base, text = palette.color(Role.Base), palette.color(Role.Text)
            painter.setBrush(blend(base, text, 0.1 if self.isDown() else 0.04 if hovered else 0.0))
            painter.setPen(outline_pen(palette, focused))
            painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), RADIUS, RADIUS)
        group = QPalette.ColorGroup.Normal if self.isEnabled() else QPalette.ColorGroup.Disabled
        # `paint_glyph` draws on 55 % of its box: a 36 px box gives a 13 px arrow with a 1.8 px stroke.
        box = QRectF(0, 0, ARROW_BOX, ARROW_BOX)
        box.moveCenter(QRectF(LEFT, TOP, ARROW_SIDE, ARROW_SIDE).center())
        paint_glyph(painter, Glyph.ARROW, box, palette.color(group, Role.Highlight))
        painter.setPen(palette.color(group, Role.ButtonText))
        left, width = self._text_left(), self.width() - self._text_left() - RIGHT
        title_height = QFontMetrics(self._title_font()).height()
        top_left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        painter.setFont(self._title_font())
        painter.drawText(QRect(left, TOP, width, title_height), top_left, self.text())
        painter.setFont(self.font())
        painter.drawText(QRect(left, TOP + title_height, width, self.height() - TOP - title_height - BOTTOM),
                         int(top_left) | int(Qt.TextFlag.TextWordWrap), self.description)
