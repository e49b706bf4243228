"""How a search result is drawn: its chat and who wrote it, muted, over the snippet with the matches in bold.

Painted by an item delegate rather than a rich-text `QLabel` per result: fifty labels
each parsed their HTML and laid it out before anything was shown (55-120 ms for a
list, against 10 ms for SQLite's search); a delegate lays out only the rows in
sight, once each.
"""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QSize, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPalette, QTextCharFormat, QTextLayout
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from gemchat.core.messages import MATCH_END, MATCH_START, Role, SearchHit

HIT = Qt.ItemDataRole.UserRole
SNIPPET_LINES = 2  # a snippet is 16 words: two lines of the dialog; longer ones end with "…"
MARGIN_X, MARGIN_Y = 6, 4
_CACHED = 256  # layouts kept (a few screens of results at a few widths)


class Marked(NamedTuple):
    """A snippet as plain text, and where its matched words are (start, length)."""

    text: str
    matches: list[tuple[int, int]]


def marked(snippet: str) -> Marked:
    """The snippet on one line, without its match markers, and the places of the matches."""
    text, matches = "", []
    for n, part in enumerate(" ".join(snippet.split()).split(MATCH_START)):
        inside, _, after = part.partition(MATCH_END) if n else ("", "", part)
        if inside:
            matches.append((len(text), len(inside)))
        text += inside + after
    return Marked(text, matches)


def heading(hit: SearchHit) -> str:
    """What the muted line above a snippet says: a chat's title is a result of its own."""
    if hit.message_id is None:
        return "Chat"
    return f"{hit.chat_title or 'New chat'} · {'You' if hit.role is Role.USER else 'Gemini'}"


def spoken(hit: SearchHit) -> str:
    """The result as one line of text: what a screen reader reads for its row."""
    return f"{heading(hit)}: {marked(hit.snippet).text}"


class _Laid(NamedTuple):
    head: QTextLayout
    snippet: QTextLayout  # its lines, the last perhaps shortened to make room for "…"
    ellipsis_at: QPointF | None


class HitDelegate(QStyledItemDelegate):
    """Paints a `SearchHit` (in the item's `HIT` role) on a row of fixed height."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._laid: dict[tuple[int, int | None, str, int, str], _Laid] = {}

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:  # noqa: N802
        small = QFontMetricsF(_small(option.font))
        text = QFontMetricsF(option.font)
        return QSize(200, round(2 * MARGIN_Y + small.lineSpacing() + SNIPPET_LINES * text.lineSpacing()))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        hit = index.data(HIT)
        background = QStyleOptionViewItem(option)
        self.initStyleOption(background, index)
        background.text = ""
        widget = option.widget
        style = widget.style() if widget is not None else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, background, painter, widget)
        if not isinstance(hit, SearchHit):
            return
        rect = option.rect.adjusted(MARGIN_X, MARGIN_Y, -MARGIN_X, -MARGIN_Y)
        laid = self._layout(hit, option, rect.width())
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette: QPalette = option.palette
        ink = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        muted = ink if selected else palette.color(QPalette.ColorRole.PlaceholderText)
        painter.save()
        painter.setClipRect(option.rect)
        origin = QPointF(rect.topLeft())
        painter.setPen(muted)
        laid.head.draw(painter, origin)
        painter.setPen(ink)
        laid.snippet.draw(painter, origin)
        if laid.ellipsis_at is not None:
            painter.setFont(option.font)
            painter.drawText(origin + laid.ellipsis_at, "…")
        painter.restore()

    def _layout(self, hit: SearchHit, option: QStyleOptionViewItem, width: int) -> _Laid:
        font: QFont = option.font
        key = (hit.chat_id, hit.message_id, hit.snippet, width, font.key())
        laid = self._laid.get(key)
        if laid is None:
            if len(self._laid) >= _CACHED:
                self._laid.clear()
            laid = self._laid[key] = _lay_out(hit, font, width)
        return laid


def _small(font: QFont) -> QFont:
    small = QFont(font)
    small.setPointSizeF(font.pointSizeF() * 0.85 if font.pointSizeF() > 0 else 9)
    return small


def _lay_out(hit: SearchHit, font: QFont, width: int) -> _Laid:
    """The heading on one line (cut with "…"), then up to `SNIPPET_LINES` lines of snippet."""
    small = _small(font)
    head = QTextLayout(QFontMetricsF(small).elidedText(heading(hit), Qt.TextElideMode.ElideRight, width), small)
    head.beginLayout()
    line = head.createLine()
    line.setLineWidth(width)
    line.setPosition(QPointF(0, 0))
    head.endLayout()
    top = line.height()
    snippet = marked(hit.snippet)
    bold = QTextCharFormat()
    bold.setFontWeight(QFont.Weight.Bold)
    formats = []
    for start, length in snippet.matches:
        fmt = QTextLayout.FormatRange()
        fmt.start, fmt.length, fmt.format = start, length, bold
        formats.append(fmt)
    layout = QTextLayout(snippet.text, font)
    layout.setFormats(formats)
    ellipsis_at = None
    layout.beginLayout()
    for n in range(SNIPPET_LINES):
        line = layout.createLine()
        if not line.isValid():
            break
        line.setLineWidth(width)
        if n == SNIPPET_LINES - 1 and line.textStart() + line.textLength() < len(snippet.text):
            line.setLineWidth(max(0.0, width - QFontMetricsF(font).horizontalAdvance("…")))
            ellipsis_at = QPointF(line.naturalTextWidth(), top + line.ascent())
        line.setPosition(QPointF(0, top))
        top += line.height()
    layout.endLayout()
    return _Laid(head, layout, ellipsis_at)
