"""Puts rendered Markdown into the conversation's QTextDocument, a piece at a time.

`gemchat.core.markdown` says what HTML is settled and what the tail is; this
inserts settled HTML once and swaps the tail, inside one edit block so the
layout runs once per frame. While an answer streams it is the last thing in
the document, so its regions are kept as lengths counted from the document's
end: text inserted above it (older messages loaded on scroll, its thoughts)
leaves them valid without any cursor to keep up to date.
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtGui import QTextCursor, QTextDocument, QTextDocumentFragment

from gemchat.core.markdown import MarkdownStyle, RenderUpdate, StreamingMarkdown

# QTextCursor.insertHtml merges the fragment's first block into the block at the
# cursor and drops that block's format (Qt keeps it only at position 0), so a
# throwaway first paragraph takes that place and is removed right after.
_SACRIFICE = "<p>\u200b</p>"


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


class StreamRegion:
    """The end of the document where one streaming answer is being written.

    Attributes:
        message_id: the answer's message id.
        markdown: its source and the settled/tail split.
    """

    def __init__(self, document: QTextDocument, message_id: int, style: MarkdownStyle) -> None:
        self._document = document
        self.message_id = message_id
        self.markdown = StreamingMarkdown(message_id, style)
        self._settled_length = 0  # characters of settled blocks, just above the tail
        self._tail_length = 0  # characters from the tail's start to the document's end

    def render(self, final: bool = False) -> None:
        """Shows what arrived since the last call; `final` settles everything."""
        update = self.markdown.finish() if final else self.markdown.update()
        self.apply(update)

    def apply(self, update: RenderUpdate) -> None:
        end = self._document.characterCount() - 1
        cursor = QTextCursor(self._document)
        cursor.beginEditBlock()
        tail_start = end - self._tail_length
        if update.reset:
            tail_start -= self._settled_length
            self._settled_length = 0
        remove_blocks_after(cursor, tail_start, end)
        insert_pieces(cursor, update.settled)
        self._settled_length += cursor.position() - tail_start
        tail_start = cursor.position()
        insert_pieces(cursor, update.tail)
        self._tail_length = cursor.position() - tail_start
        cursor.endEditBlock()
