"""The blocks of the conversation's document: how they look, how a message's blocks are marked, and how
rendered HTML goes in and out without losing the formats around it.

Formats are made from the palette on first use, not at construction: the
window's first paint must not wait for them; they are made again when the
palette changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QPalette,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocumentFragment,
)
from PySide6.QtWidgets import QTextBrowser

from gemchat.core.message_labels import Role, Status
from gemchat.ui.theme import is_dark, markdown_colours

if TYPE_CHECKING:  # Markdown modules load on first render, after the window is shown.
    from PySide6.QtGui import QTextDocument

    from gemchat.core.markdown import MarkdownStyle
    from gemchat.core.messages import Message

# QTextFormat.UserProperty is 0x100000; written out because touching QTextFormat's
# enums at import costs start-up time (PySide builds them on first use).
MESSAGE_ID = 0x100000 + 1  # on a message's header block
ROLE = 0x100000 + 2  # on a message's header block
THOUGHTS = 0x100000 + 3  # on the blocks of an answer's thoughts
CODE = 0x100000 + 5  # on a code block's blocks: 0 its header line (language, Copy), 1 a line of code
MESSAGE_GAP = 24
"""Room above each message."""
BUBBLE_GAP = 12
"""Between "You" and the question's bubble (the bubble's padding takes part of it)."""
MARK_ROOM = 20
"""Room left of an answer's model name for the Gemini mark."""
CODE_PAD = 12
"""Room between a code card's edge and its text."""
_CODE_HEADER_STATE = 0x6763  # `gemchat.core.markdown.CODE_HEADER_STATE`, not imported: Markdown loads late

# QTextCursor.insertHtml merges the fragment's first block into the block at the
# cursor and drops that block's format (Qt keeps it only at position 0), so a
# throwaway first paragraph takes that place and is removed right after.
_SACRIFICE = "<p>\u200b</p>"


class Formats:
    """The character and block formats of the conversation, in the current palette's colours.

    Attributes:
        dark: whether the palette the formats were (or will be) made from is dark.
        user_tint: the background of a question's bubble.
        header_user, header_model: the "You" and model-name lines above messages.
        mark: the colour of the Gemini mark before an answer's model name (`Decorations` draws it).
        body, note, error: a question's text; muted notes (status, facts); an error's reason.
        header_block, user_header_block, user_body_block, body_block: the block formats.
    """

    def __init__(self, browser: QTextBrowser) -> None:
        self._browser = browser
        self.dark = is_dark(browser.palette())
        self._made = False
        self._style: MarkdownStyle | None = None

    def ready(self) -> Formats:
        """The formats, made now if this is their first use (after the window's first paint)."""
        if not self._made:
            self.remake()
        return self

    def remake(self) -> None:
        """Makes the formats from the palette as it is now."""
        self._made = True
        palette = self._browser.palette()
        self.dark = is_dark(palette)
        text = palette.color(QPalette.ColorRole.Text)
        base = palette.color(QPalette.ColorRole.Base)
        accent = palette.color(QPalette.ColorRole.Highlight)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        self.user_tint = mix(base, accent, 0.22 if self.dark else 0.13)
        self.header_user = _smaller(muted)
        self.header_model = _smaller(muted)
        self.mark = accent
        self.body = QTextCharFormat()  # no font: the document's, so the text size applies (`TextZoom`)
        self.body.setForeground(text)
        self.note = QTextCharFormat()
        self.note.setFontItalic(True)
        self.note.setForeground(muted)
        self.error = QTextCharFormat()
        self.error.setForeground(QColor("#f28b82" if self.dark else "#c5221f"))
        self._make_block_formats()
        self._style = None
        link = palette.color(QPalette.ColorRole.Link).name()
        self._browser.document().setDefaultStyleSheet(
            f"a {{ color: {link}; }} "
            "p, li { line-height: 125%; } "
            "pre, code { font-family: 'DejaVu Sans Mono', 'Menlo', 'Consolas', monospace; } "
        )

    def _make_block_formats(self) -> None:
        self.header_block = QTextBlockFormat()
        self.header_block.setTopMargin(MESSAGE_GAP)
        self.header_block.setBottomMargin(4)
        # A question's "You" is a quiet label over its bubble, on the right; the bubble's
        # blocks are fitted to the text by `Column` and painted by `Decorations`.
        self.user_header_block = QTextBlockFormat(self.header_block)
        self.user_header_block.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.user_header_block.setBottomMargin(BUBBLE_GAP)
        self.user_header_block.setRightMargin(4)
        self.model_header_block = QTextBlockFormat(self.header_block)
        self.model_header_block.setLeftMargin(MARK_ROOM)
        self.user_body_block = QTextBlockFormat()
        self.body_block = QTextBlockFormat()
        self.body_block.setTopMargin(4)

    def markdown_style(self) -> MarkdownStyle:
        """The colours rendered Markdown is given, matching the palette."""
        if self._style is None:
            from gemchat.core.markdown import palette_style

            self._style = palette_style(*self.markdown_colours())
        return self._style

    def markdown_colours(self) -> tuple[bool, str, str]:
        """What the palette gives rendered Markdown (`core.markdown.palette_style`): dark, muted text, the page."""
        self.ready()
        return markdown_colours(self._browser.palette())

    def link(self, href: str, tooltip: str | None = None) -> QTextCharFormat:
        """A link in a note (Retry, a version arrow, a source): `links` decides what a click does."""
        link = QTextCharFormat(self.note)
        link.setFontItalic(False)
        link.setAnchor(True)
        link.setAnchorHref(href)
        link.setFontUnderline(True)
        link.setForeground(self._browser.palette().color(QPalette.ColorRole.Link))
        if tooltip is not None:
            link.setToolTip(tooltip)
        return link


def _smaller(color: QColor) -> QTextCharFormat:
    """A message's header line: muted and a little smaller than its text (relative: it zooms with it)."""
    fmt = QTextCharFormat()
    fmt.setForeground(color)
    fmt.setProperty(QTextCharFormat.Property.FontSizeAdjustment, -1)
    return fmt


def answer_facts(message: Message) -> str:
    """One unobtrusive line under an answer: its tokens, speed and time to the first words."""
    if message.role is not Role.MODEL or message.status is Status.STREAMING:
        return ""
    parts = []
    usage = message.usage or {}
    tokens = usage.get("candidates_token_count") or usage.get("candidatesTokenCount")
    if tokens:
        parts.append(f"{tokens} tokens")
        if message.duration_ms and message.first_token_ms is not None:
            generating = (message.duration_ms - message.first_token_ms) / 1000
            if generating > 0.05:
                parts.append(f"{tokens / generating:.0f} tokens/s")
    from gemchat.core.context import thinking_tokens

    if thinking := thinking_tokens(usage):
        parts.append(f"{thinking:,} thinking tokens")
    if message.first_token_ms is not None:
        parts.append(f"{message.first_token_ms / 1000:.1f} s to the first token")
    return "  ·  ".join(parts)


def mix(base: QColor, tint: QColor, amount: float) -> QColor:
    return QColor(
        round(base.red() + (tint.red() - base.red()) * amount),
        round(base.green() + (tint.green() - base.green()) * amount),
        round(base.blue() + (tint.blue() - base.blue()) * amount),
    )


# -- marks ------------------------------------------------------------------------------------


def header_block_of(document: QTextDocument, message_id: int) -> QTextBlock | None:
    """The first block of a message (searched from the end: the newest messages change most)."""
    block = document.lastBlock()
    while block.isValid():
        fmt = block.blockFormat()
        if fmt.hasProperty(MESSAGE_ID) and fmt.intProperty(MESSAGE_ID) == message_id:
            return block
        block = block.previous()
    return None


def next_header(block: QTextBlock) -> QTextBlock | None:
    """The first block of the message after the one `block` is in."""
    block = block.next()
    while block.isValid():
        if block.blockFormat().hasProperty(MESSAGE_ID):
            return block
        block = block.next()
    return None


def message_of(block: QTextBlock) -> tuple[int, Role] | None:
    """The id and role of the message a block belongs to."""
    while block.isValid():
        fmt = block.blockFormat()
        if fmt.hasProperty(MESSAGE_ID):
            return fmt.intProperty(MESSAGE_ID), Role(fmt.stringProperty(ROLE))
        block = block.previous()
    return None


# -- rendered HTML in and out -------------------------------------------------------------------


def insert_html_blocks(cursor: QTextCursor, html: str) -> None:
    """Inserts `html` as new blocks after the cursor's block, each keeping its own format.

    The cursor must be at the end of a block; it ends at the end of the last inserted block.
    """
    if not html:
        return
    start = cursor.position()
    cursor.insertFragment(QTextDocumentFragment.fromHtml(_SACRIFICE + html))
    eraser = QTextCursor(cursor.document())
    eraser.setPosition(start)
    eraser.setPosition(start + 1, QTextCursor.MoveMode.KeepAnchor)
    eraser.removeSelectedText()
    if "<pre" in html or "-qt-user-state" in html:
        _make_code_cards(cursor, start)


def _make_code_cards(cursor: QTextCursor, start: int) -> None:
    """Marks the code blocks inserted from `start` to the cursor as cards (`Decorations` draws them).

    Their lines wrap instead of widening the whole conversation (`Decorations`
    marks where a line goes on), and the square background Qt would paint
    behind each block gives way to one rounded card. Each run of lines is
    changed in one edit: a streamed answer's last run is inserted again every
    frame, and an edit per line cost it a few milliseconds.
    """
    document = cursor.document()
    block = document.findBlock(start).next()  # the block at `start` was there before (its user state may be stale)
    end = cursor.position()
    runs: list[tuple[int, QTextBlock, QTextBlock]] = []  # kind, first block, last block
    while block.isValid() and block.position() <= end:
        fmt = block.blockFormat()
        kind = 0 if block.userState() == _CODE_HEADER_STATE else 1 if fmt.nonBreakableLines() else None
        if kind is not None and not fmt.hasProperty(CODE):
            if runs and kind == 1 and runs[-1][0] == 1 and runs[-1][2].next() == block:
                runs[-1] = (1, runs[-1][1], block)
            else:
                runs.append((kind, block, block))
        block = block.next()
    marker = QTextCursor(document)
    for kind, first, last in runs:
        fmt = first.blockFormat()
        card = QTextBlockFormat()
        card.setProperty(CODE, kind)
        card.setNonBreakableLines(False)
        # No brush. Not QBrush(Qt.BrushStyle.NoBrush): matching that call to QBrush's constructors made
        # QGradient's enums (180 presets) in Python, 5-7 ms in the turn that showed the first code block.
        card.setBackground(QBrush())
        card.setLeftMargin(fmt.leftMargin() + CODE_PAD)
        card.setRightMargin(fmt.rightMargin() + CODE_PAD)
        if kind == 0:
            card.setBottomMargin(8)  # the header strip's own room under the language and Copy
        marker.setPosition(first.position())
        marker.setPosition(last.position(), QTextCursor.MoveMode.KeepAnchor)
        marker.mergeBlockFormat(card)


def insert_pieces(cursor: QTextCursor, pieces: Sequence[str]) -> None:
    """Inserts Markdown pieces, each a fragment of its own (see `render_pieces` for why)."""
    for html in pieces:
        insert_html_blocks(cursor, html)


def remove_blocks_after(cursor: QTextCursor, start: int, end: int) -> None:
    """Removes [start, end), where `start` ends a block that must keep its formats.

    When that block is empty, Qt keeps the formats of the block after it instead
    (a list item, a heading), so they are put back. The cursor ends at `start`.
    """
    cursor.setPosition(start)
    if end <= start:
        return
    block = cursor.block()
    block_format, char_format = block.blockFormat(), block.charFormat()
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    cursor.removeSelectedText()
    if cursor.block().blockFormat() != block_format:
        cursor.setBlockFormat(block_format)
    if cursor.block().charFormat() != char_format:
        cursor.setBlockCharFormat(char_format)
