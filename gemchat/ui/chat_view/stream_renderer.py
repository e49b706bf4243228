"""The streaming answer, put into the document as its text is revealed, in steps that never hold the window back.

Text comes in at any rate (`StreamRenderer.append`); it is shown at most once
a frame, in steps of two halves, each in its own turn of the event loop and
each kept to about `STEP_MS` by a `StepBudget`: `gemchat.core.markdown` splits
the text into pieces that never change once settled and an unsettled tail;
`StreamRegion` inserts each settled piece once and swaps only the tail. So the
cost of a chunk is bounded by the block being written, never by the answer or
the chat.

While an answer streams it is the last thing in the document, so its regions
are kept as lengths counted from the document's end: text inserted above it
(older messages loaded on scroll, its thoughts) leaves them valid without any
cursor to keep up to date.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QTextBrowser

from gemchat.core.budget import StepBudget
from gemchat.core.formulas import MARK
from gemchat.ui.chat_view.blocks import Formats, insert_html_blocks, insert_pieces, remove_blocks_after

if TYPE_CHECKING:  # Markdown modules load on the first answer, after the window is shown.
    from PySide6.QtGui import QTextDocument

    from gemchat.core.markdown import MarkdownStyle, StreamingMarkdown
    from gemchat.core.messages import Message
    from gemchat.ui.chat_view.formulas import Formulas
    from gemchat.ui.chat_view.thoughts import Thoughts

FRAME_MS = 16
"""During a burst, the unfinished end of a streaming answer is laid out at most once a frame."""
FEED_PER_STEP = (250, 120, 1000)
"""Characters of a streaming answer parsed in one step: at first, at least, at most (see `StepBudget`)."""
STEP_HTML_BUDGET = (1500, 400, 6000)
"""Characters of settled HTML put into the document in one step (at least one piece), likewise."""
STEP_MS = 0.8
"""What each half of a step should take, so that a 4 ms timer (issue 4's measure of a responsive
window) is held back by little more, even with a paint and network reads in the same turn."""
BACKLOG_STEP_MS = 2
"""Pause between steps while a burst is rendered: lets input, painting and the network in."""
SYNC_END_LIMIT = 250
"""An answer ending with more than this left to render finishes over the next steps."""
TABLE_COST = 3
"""A table's HTML costs Qt about this many times other HTML to lay out: it counts so in a step's budget."""
SLOW_TAIL_INTERVAL = 0.1
"""Seconds between renders of a tail that holds a table (laid out and painted slowly by Qt)."""


class StreamRegion:
    """The end of the document where one streaming answer is being written.

    Settled pieces wait in a queue and are inserted a few at a time (`step`), so
    a burst of text never blocks the window for long; the tail is shown once the
    queue is empty, as the last thing in the document.

    Attributes:
        message_id: the answer's message id.
        markdown: its source and the settled/tail split.
    """

    def __init__(self, document: QTextDocument, message_id: int, style: MarkdownStyle, formulas: Formulas) -> None:
        from gemchat.core.markdown import StreamingMarkdown

        self._document = document
        self._formulas = formulas
        self.message_id = message_id
        self.markdown: StreamingMarkdown = StreamingMarkdown(message_id, style)
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

    def text_replaced(self, position: int, change: int) -> None:
        """Text at `position` changed length by `change` since the last step (a formula's picture came)."""
        end_before = self._document.characterCount() - 1 - change
        tail_start = end_before - self._tail_length
        if position >= tail_start:
            self._tail_length += change
        elif position >= tail_start - self._settled_length:
            self._settled_length += change

    def release_tail(self) -> None:
        """The next step shows a tail holding a table even if one was shown less than `SLOW_TAIL_INTERVAL` ago."""
        self._last_tail = 0.0

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
        formulas = False
        while self._queue and (budget is None or spent < budget):
            html = self._queue.popleft()
            insert_html_blocks(cursor, html)
            spent += len(html) * (TABLE_COST if "<table" in html else 1)
            formulas = formulas or MARK in html
        if formulas:
            self._formulas.place(start, cursor.position())
        self._settled_length += cursor.position() - start
        if not self._queue and (budget is None or spent < budget):  # else the tail comes next step
            tail_start = cursor.position()
            insert_pieces(cursor, self._tail)
            if any(MARK in html for html in self._tail):
                self._formulas.place(tail_start, cursor.position())
            self._tail_length = cursor.position() - tail_start
            self._tail_shown = True
            self._last_tail = now
        cursor.endEditBlock()
        return spent


class StreamRenderer:
    """Shows the streaming answer: takes its revealed text, steps it into the document, finishes it.

    Its state is the answer's `StreamRegion`, the revealed text not parsed yet,
    which half of a step comes next, and the budgets of both halves. An answer
    that ends with a large rest (a burst flushed at the end) finishes over the
    next steps, so the window never freezes; `message_id` is None once it is
    all shown. Then `completed` is called with the final message (its status
    line goes under it).
    """

    def __init__(self, browser: QTextBrowser, formats: Formats, thoughts: Thoughts, formulas: Formulas,
                 completed: Callable[[Message], None]) -> None:
        self._browser = browser
        self._formats = formats
        self._thoughts = thoughts
        self._formulas = formulas
        self._completed = completed
        self._region: StreamRegion | None = None
        self._ended: Message | None = None  # set while a finished answer's backlog drains
        self._incoming: list[str] = []  # revealed text not yet given to the renderer
        self._incoming_length = 0
        self._last_render = 0.0
        self._timer = QTimer(browser)
        self._timer.setSingleShot(True)
        self._document_half_next = False  # the next step puts the parsed text into the document
        self._feed_budget = StepBudget(*FEED_PER_STEP, target_ms=STEP_MS)
        self._html_budget = StepBudget(*STEP_HTML_BUDGET, target_ms=STEP_MS)
        self._last_document_step = 0.0
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def message_id(self) -> int | None:
        """The answer being written, until all of it is shown."""
        return self._region.message_id if self._region is not None else None

    def source(self) -> str:
        """The Markdown source of the answer being written, as far as it was revealed."""
        if self._region is None:
            return ""
        return self._region.markdown.source + "".join(self._incoming)

    def start(self, message_id: int) -> None:
        """Starts an answer whose header is the last thing in the document."""
        self._region = StreamRegion(self._browser.document(), message_id, self._formats.markdown_style(),
                                    self._formulas)
        self._ended = None
        self._document_half_next = False
        self._incoming.clear()
        self._incoming_length = 0

    def start_with(self, message_id: int, text: str) -> None:
        """Starts an answer that has already streamed `text` (a chat opened mid-stream), shown at once."""
        self.start(message_id)
        assert self._region is not None
        self._region.markdown.append(text)
        self._region.render()

    def append(self, text: str) -> None:
        """Adds revealed text; it is shown within a frame."""
        if self._region is None or self._ended is not None or not text:
            return
        self._incoming.append(text)
        self._incoming_length += len(text)
        self.schedule()

    def end(self, message: Message) -> None:
        """The answer ended as `message`: its rest is shown now, or over the next steps if large."""
        if self._region is None or self._region.message_id != message.id:
            return
        self._ended = message
        if self._incoming_length <= SYNC_END_LIMIT and not self._region.queued:
            self.complete()
        else:
            self.schedule()

    def render_pending(self) -> None:
        """Shows everything appended so far now, instead of at the next frame (tests, reading the text)."""
        while self._region is not None and (self._incoming_length or self._thoughts.changed
                                            or self._region.markdown.changed or self._region.stale):
            self._region.release_tail()
            self._step()

    def complete(self) -> None:
        """Renders all of the streaming answer that is left and closes it, if it has ended."""
        if self._region is None:
            return
        if self._ended is None:
            return
        self._stop()
        region, message = self._region, self._ended
        self._feed(region, self._incoming_length)
        if self._thoughts.changed:
            self._thoughts.show_changed(region.message_id)
        region.render(final=True)
        self._completed(message)
        self._region = None
        self._ended = None

    def close(self) -> None:
        """Whatever is streaming is shown whole and stops being tracked: new text goes below it."""
        if self._region is not None and self._ended is None:
            self._stop()
            self._feed(self._region, self._incoming_length)
            self._region.render(final=True)
            self._region = None
        self.complete()

    def text_replaced(self, position: int, change: int) -> None:
        """Text at `position` changed length by `change` (a formula's picture came): the answer's regions follow."""
        if self._region is not None:
            self._region.text_replaced(position, change)

    def drop(self) -> None:
        """Forgets the answer being written, shown or not (the document is about to be cleared)."""
        self._stop()
        self._region = None
        self._ended = None
        self._incoming.clear()
        self._incoming_length = 0

    def _stop(self) -> None:
        self._timer.stop()
        self._document_half_next = False

    # -- rendering the stream, at most once a frame --------------------------------------

    def schedule(self) -> None:
        """Asks for a step: now if the last was a frame ago, else when the frame is over."""
        if self._timer.isActive():
            return
        waited = (time.monotonic() - self._last_render) * 1000
        if waited >= FRAME_MS:
            self._step()
        else:
            self._timer.start(max(1, int(FRAME_MS - waited)))

    def _on_timer_timeout(self) -> None:
        self._step()

    def _step(self) -> None:
        """One step, in two halves, each in its own turn of the event loop.

        The text half gives the Markdown a little more of the answer (settled
        pieces queue up); the document half puts the queued pieces and the new
        tail into the document, which Qt then lays out. Each half is kept to
        about `STEP_MS` (`StepBudget`): done in one go they would hold back a
        timer, a key or a paint for twice as long.
        """
        now = self._last_render = time.monotonic()
        region = self._region
        if region is None:
            return
        if self._document_half_next:
            self._document_half_next = False
            self._last_document_step = now
            began = time.perf_counter()
            inserted = region.step(self._html_budget.value)
            self._html_budget.observe((time.perf_counter() - began) * 1000, inserted)
        else:
            if self._thoughts.changed:
                self._thoughts.show_changed(region.message_id)
            began = time.perf_counter()
            fed = self._feed(region, self._feed_budget.value)
            if region.markdown.changed:
                region.update()
            self._feed_budget.observe((time.perf_counter() - began) * 1000, len(fed))
            # While more text waits, an unfinished block alone goes into the document once a frame,
            # not after every bit of it (Qt lays it out anew each time); finished blocks at once.
            if region.stale and (region.queued or not self._incoming_length
                                 or (now - self._last_document_step) * 1000 >= FRAME_MS):
                self._document_half_next = True
                self._timer.start(0)
                return
        if self._incoming_length or region.queued:
            self._timer.start(BACKLOG_STEP_MS)  # a burst: the rest in small steps
        elif self._ended is not None:
            self.complete()
        elif region.stale:
            self._timer.start(FRAME_MS * 3)  # a table's tail, held back a little

    def _feed(self, region: StreamRegion, limit: int) -> str:
        """Gives the Markdown up to `limit` characters of what arrived; returns them."""
        if not self._incoming_length:
            return ""
        text = "".join(self._incoming)
        if self._incoming_length <= limit:
            self._incoming.clear()
            self._incoming_length = 0
        else:
            text, rest = text[:limit], text[limit:]
            self._incoming = [rest]
            self._incoming_length = len(rest)
        region.markdown.append(text)
        return text
