"""Puts rendered Markdown into the conversation's QTextDocument, a piece at a time.

`gemchat.core.markdown` says what HTML is settled and what the tail is; this
inserts settled HTML once and swaps the tail, inside one edit block so the
layout runs once per frame. While an answer streams it is the last thing in
the document, so its regions are kept as lengths counted from the document's
end: text inserted above it (older messages loaded on scroll, its thoughts)
leaves them valid without any cursor to keep up to date.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Sequence

from PySide6.QtGui import QTextCursor, QTextDocument, QTextDocumentFragment

from gemchat.core.markdown import MarkdownStyle, StreamingMarkdown

# QTextCursor.insertHtml merges the fragment's first block into the block at the
# cursor and drops that block's format (Qt keeps it only at position 0), so a
# throwaway first paragraph takes that place and is removed right after.
_SACRIFICE = "<p>\u200b</p>"

TABLE_COST = 3
"""A table's HTML costs Qt about this many times other HTML to lay out: it counts so in a step's budget."""
SLOW_TAIL_INTERVAL = 0.1
"""Seconds between renders of a tail that holds a table (laid out and painted slowly by Qt)."""


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

    Settled pieces wait in a queue and are inserted a few at a time (`step`), so
    a burst of text never blocks the window for long; the tail is shown once the
    queue is empty, as the last thing in the document.

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
        self._queue: deque[str] = deque()  # settled pieces not inserted yet
        self._tail: tuple[str, ...] = ()
        self._tail_shown = True
        self._reset = False
        self._last_tail = 0.0

    @property
    def queued(self) -> bool:
        """Settled pieces are waiting to be inserted."""
        return bool(self._queue)

    @property
    def stale(self) -> bool:
        """What is shown is behind what arrived (queued pieces, or a tail not shown yet)."""
        return bool(self._queue) or not self._tail_shown

    def update(self, final: bool = False) -> None:
        """Takes the Markdown's new settled pieces and tail; `step` shows them."""
        update = self.markdown.finish() if final else self.markdown.update()
        if update.reset:
            self._queue.clear()
            self._reset = True
        self._queue.extend(update.settled)
        self._tail = update.tail
        self._tail_shown = False

    def render(self, final: bool = False) -> None:
        """Shows everything that arrived, at once; `final` settles everything."""
        self.update(final)
        self.step(None, final)

    def step(self, budget: int | None, final: bool = False) -> int:
        """Inserts queued pieces, about `budget` characters of HTML (all for None), then the tail.

        Returns the characters of HTML inserted (tables counted `TABLE_COST` times).

        A tail holding a table is shown at most every `SLOW_TAIL_INTERVAL`: a
        growing table would otherwise be laid out again on every frame.
        """
        now = time.monotonic()
        slow = any("<table" in html for html in self._tail)
        if (not self._queue and not self._reset and slow and not final and budget is not None
                and now - self._last_tail < SLOW_TAIL_INTERVAL):
            return 0
        end = self._document.characterCount() - 1
        cursor = QTextCursor(self._document)
        cursor.beginEditBlock()
        start = end - self._tail_length
        if self._reset:
            start -= self._settled_length
            self._settled_length = 0
            self._reset = False
        remove_blocks_after(cursor, start, end)
        self._tail_length = 0
        spent = 0
        while self._queue and (budget is None or spent < budget):
            html = self._queue.popleft()
            insert_html_blocks(cursor, html)
            spent += len(html) * (TABLE_COST if "<table" in html else 1)
        self._settled_length += cursor.position() - start
        if not self._queue and (budget is None or spent < budget):  # else the tail comes next step
            tail_start = cursor.position()
            insert_pieces(cursor, self._tail)
            self._tail_length = cursor.position() - tail_start
            self._tail_shown = True
            self._last_tail = now
        cursor.endEditBlock()
        return spent
