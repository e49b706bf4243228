"""What the conversation draws around its text: the questions' bubbles, the code cards, wrapped-line marks.

QTextDocument paints a block's background as a plain rectangle per block,
so the rounded shapes are painted here, under the text, for the blocks in
view only: the cost per frame does not grow with the chat, and the document
itself (which streams) is never touched to draw them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QTextBlock, QTextLine
from PySide6.QtWidgets import QTextBrowser

from gemchat.core.message_labels import Role
from gemchat.ui.chat_view.blocks import CODE, CODE_PAD, ROLE, Formats
from gemchat.ui.chat_view.column import BUBBLE, BUBBLE_PAD_X, BUBBLE_PAD_Y

RADIUS = 12.0
CODE_RADIUS = 8.0
MARK = "✦"
"""The Gemini mark, before an answer's model name."""
WRAP_MARK = "↪"
"""Drawn before a code line's continuation, so a wrapped line is not read as a new one."""


class Decorations:
    """Paints under and over the visible blocks of the conversation."""

    def __init__(self, browser: QTextBrowser, formats: Formats) -> None:
        self._browser = browser
        self._formats = formats
        self._in_view: list[QTextBlock] = []  # found once a paint, by `paint_under`

    def paint_under(self, painter: QPainter) -> None:
        """Bubbles and code cards, under the text (call before the document is drawn, then `paint_over`)."""
        self._in_view = self._visible_blocks()  # the same blocks for `paint_over`, after the text
        groups = _groups(self._in_view)
        if not groups:
            return  # nothing to draw: the formats (and Markdown) still need not be loaded
        formats = self._formats.ready()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        for kind, group in groups:
            if kind == "bubble":
                painter.setBrush(formats.user_tint)
                painter.drawRoundedRect(self._bubble_rect(group), RADIUS, RADIUS)
            else:
                style = formats.markdown_style()
                self._paint_card(painter, group, QColor(style.code_background), QColor(style.code_header_background))

    def paint_over(self, painter: QPainter) -> None:
        """The Gemini mark before answers' model names, an outline around code cards' Copy, and a mark
        before each continuation of a wrapped code line."""
        muted = self._browser.palette().color(QPalette.ColorRole.PlaceholderText)
        painter.setFont(self._browser.document().defaultFont())  # the text's size, zoomed with it
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        wrap_width = painter.fontMetrics().horizontalAdvance(WRAP_MARK)
        in_view, self._in_view = self._in_view, []
        for block in in_view:
            fmt = block.blockFormat()
            text = block.layout()
            origin = text.position()
            if fmt.hasProperty(ROLE) and fmt.stringProperty(ROLE) == Role.MODEL.value:
                painter.setPen(self._formats.mark)  # made with the block that has the property
                line = text.lineAt(0)
                painter.drawText(QPointF(origin.x(), origin.y() + line.y() + line.ascent()), MARK)
            elif fmt.hasProperty(CODE) and fmt.intProperty(CODE) == 0 and block.text().endswith("Copy"):
                line = text.lineAt(text.lineCount() - 1)
                left, right = _x_of(line, len(block.text()) - 4), _x_of(line, len(block.text()))
                painter.setPen(muted)
                painter.drawRoundedRect(QRectF(origin.x() + left - 5, origin.y() + line.y() - 1,
                                               right - left + 10, line.height() + 2), 5, 5)
            elif fmt.hasProperty(CODE) and text.lineCount() > 1:
                painter.setPen(muted)
                for number in range(1, text.lineCount()):
                    line = text.lineAt(number)
                    painter.drawText(QPointF(origin.x() + line.x() - wrap_width - 2,
                                             origin.y() + line.y() + line.ascent()), WRAP_MARK)

    def _visible_blocks(self) -> list[QTextBlock]:
        """The blocks in view, with the whole of any bubble or card that is partly in view."""
        browser = self._browser
        document = browser.document()
        layout = document.documentLayout()
        top = browser.verticalScrollBar().value()
        bottom = top + browser.viewport().height()
        position = layout.hitTest(QPointF(0, top), Qt.HitTestAccuracy.FuzzyHit)
        block = document.findBlock(max(0, position))
        if block.previous().isValid() and _kind(block) is not None and _kind(block.previous()) == _kind(block):
            block = block.previous()  # a bubble's or card's rounded top stays out of view
        found = []
        while block.isValid() and layout.blockBoundingRect(block).top() <= bottom:
            found.append(block)
            block = block.next()
        return found

    def _bubble_rect(self, group: list[QTextBlock]) -> QRectF:
        layout = self._browser.document().documentLayout()
        first, last = layout.blockBoundingRect(group[0]), layout.blockBoundingRect(group[-1])
        fmt = group[0].blockFormat()
        left = first.left() + fmt.leftMargin() - BUBBLE_PAD_X
        right = first.left() + fmt.leftMargin() + first.width() + BUBBLE_PAD_X
        top = first.top() - BUBBLE_PAD_Y  # a block's bounding rect leaves its margins out
        bottom = last.bottom() + BUBBLE_PAD_Y
        return QRectF(left, top, right - left, bottom - top)

    def _paint_card(self, painter: QPainter, group: list[QTextBlock], code: QColor, header: QColor) -> None:
        layout = self._browser.document().documentLayout()
        first, last = layout.blockBoundingRect(group[0]), layout.blockBoundingRect(group[-1])
        fmt = group[0].blockFormat()
        left = first.left() + fmt.leftMargin() - CODE_PAD
        right = first.left() + fmt.leftMargin() + first.width() + CODE_PAD
        top = first.top() - 6
        bottom = last.bottom() + 8
        card = QRectF(left, top, right - left, bottom - top)
        painter.setBrush(code)
        painter.drawRoundedRect(card, CODE_RADIUS, CODE_RADIUS)
        if group[0].blockFormat().intProperty(CODE) == 0:  # the header strip, clipped to the card's corners
            strip_bottom = first.bottom() + 4
            painter.save()
            painter.setClipRect(QRectF(left, top, card.width(), strip_bottom - top))
            painter.setBrush(header)
            painter.drawRoundedRect(card, CODE_RADIUS, CODE_RADIUS)
            painter.restore()


def _x_of(line: QTextLine, position: int) -> float:
    """Where a position of a line's block is across it (PySide returns the position too, as a tuple)."""
    found: Any = line.cursorToX(position)
    return float(found[0] if isinstance(found, tuple) else found)


def _kind(block: QTextBlock) -> str | None:
    fmt = block.blockFormat()
    if fmt.hasProperty(BUBBLE):
        return "bubble"
    if fmt.hasProperty(CODE):
        return "code"
    return None


def _groups(blocks: list[QTextBlock]) -> list[tuple[str, list[QTextBlock]]]:
    """Runs of blocks of one bubble or one code card (a new card starts at each header line)."""
    groups: list[tuple[str, list[QTextBlock]]] = []
    for block in blocks:
        kind = _kind(block)
        if kind is None:
            continue
        starts_card = kind == "code" and block.blockFormat().intProperty(CODE) == 0
        previous = block.previous()
        if groups and groups[-1][0] == kind and not starts_card and groups[-1][1][-1] == previous:
            groups[-1][1].append(block)
        else:
            groups.append((kind, [block]))
    return groups
