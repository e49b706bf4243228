"""The open chat's messages in the conversation's document: which are rendered, and rendering them.

Opening a chat renders only its latest messages: the first paint must not
wait for a long history. What fills a screen is rendered at once, the rest of
the opening's share over the next turns of the event loop, a message or two a
turn (rendering twelve long answers at once froze a starting window for
150-260 ms); older ones are rendered above as the user scrolls near the top.
Either way what the user sees stays in place. A message changed later
(its citations came with its end) is rendered again where it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QTextBrowser

from gemchat.core.message_labels import Role
from gemchat.ui.chat_view.blocks import MESSAGE_ID, header_block_of

if TYPE_CHECKING:
    from gemchat.core.messages import Message
    from gemchat.ui.chat_view.message_writer import MessageWriter
    from gemchat.ui.chat_view.scrolling import Scrolling
    from gemchat.ui.chat_view.stream_renderer import StreamRenderer

OPEN_BUDGET_CHARS = 12000
OPEN_BUDGET_MESSAGES = 40
"""Opening a chat renders its latest messages up to these limits; older ones come on scrolling up."""
SCREEN_CHARS = 1500
SCREEN_MESSAGES = 8
"""Of those, what is rendered at once before the first paint; then one message at a time until the view is full
(the rest follows, `CATCH_UP_CHARS` a turn)."""
CATCH_UP_CHARS = 600
OLDER_BATCH_CHARS = 6000


def latest_start(messages: Sequence[Message], live: dict[int, str], budget_chars: int, budget_messages: int) -> int:
    """The index of the oldest of the latest messages that fit the budget (at least one, if any)."""
    start, chars = len(messages), 0
    while start > 0 and len(messages) - start < budget_messages and chars < budget_chars:
        start -= 1
        message = messages[start]
        chars += len(live.get(message.id, message.text))
    return start


def opening(messages: Sequence[Message]) -> Sequence[Message]:
    """The messages `Document.show` renders in its first turns when a chat opens (nothing streaming)."""
    return messages[latest_start(messages, {}, OPEN_BUDGET_CHARS, OPEN_BUDGET_MESSAGES):]


class Document:
    """The messages of the open chat (the shown branch), which of them are rendered, and rendering them."""

    def __init__(self, browser: QTextBrowser, writer: MessageWriter, stream: StreamRenderer,
                 scrolling: Scrolling) -> None:
        self._browser = browser
        self._writer = writer
        self._stream = stream
        self._scrolling = scrolling
        self._messages: list[Message] = []
        self._index_of: dict[int, int] = {}  # message id -> index in _messages
        self._first_shown = 0  # index of the oldest message in the document
        self._opening_start = 0  # index of the oldest message the opening renders (over a few turns)
        self._catch_up_timer = QTimer(browser)
        self._catch_up_timer.setSingleShot(True)
        self._catch_up_timer.timeout.connect(self._on_catch_up_timer_timeout)
        self._older_timer = QTimer(browser)
        self._older_timer.setSingleShot(True)
        self._older_timer.timeout.connect(self._on_older_timer_timeout)
        browser.verticalScrollBar().valueChanged.connect(self._on_scroll_value_changed)

    # -- whole chats -----------------------------------------------------------

    @property
    def messages(self) -> Sequence[Message]:
        return self._messages

    def message(self, message_id: int) -> Message | None:
        index = self._index_of.get(message_id)
        return self._messages[index] if index is not None else None

    def show(self, messages: Iterable[Message], live: dict[int, str]) -> None:
        """Replaces the document with the latest messages of a chat; `live` maps a streaming answer to its text."""
        self._messages = list(messages)
        self._index_of = {m.id: i for i, m in enumerate(self._messages)}
        self._writer.keep_prerendered_of(self._index_of)
        self._opening_start = latest_start(self._messages, live, OPEN_BUDGET_CHARS, OPEN_BUDGET_MESSAGES)
        self._first_shown = latest_start(self._messages, live, SCREEN_CHARS, SCREEN_MESSAGES)
        # A chat longer than a view gets its scroll bar before its text is laid out, not once the text has
        # overflowed: then the whole text was laid out again a little narrower (bubbles refitted), 30-100 ms.
        # Not for a short one: showing and hiding the bar for nothing moves the caret, and a screen reader hears it.
        long = self._overflows()
        if long:
            self._browser.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self._browser.clear()
        self._render_messages(self._first_shown, live)
        while self._first_shown > self._opening_start and not self._fills_view():
            self._render_older(1, self._opening_start)  # one more message above: the view is not full yet
        if long:
            self._browser.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        if self._first_shown > self._opening_start:
            self._catch_up_timer.start(0)

    def show_again(self, live: dict[int, str]) -> None:
        """Renders the rendered messages again (in a new palette's colours)."""
        self._browser.clear()
        self._render_messages(self._first_shown, live)

    def _overflows(self) -> bool:
        """Whether the opening's share of the chat is sure to be taller than the view (a guess by its size)."""
        shown = self._messages[self._opening_start:]
        return len(shown) > SCREEN_MESSAGES or sum(len(m.text) for m in shown) > 2 * SCREEN_CHARS

    def _fills_view(self) -> bool:
        return self._browser.document().size().height() >= self._browser.viewport().height()

    def _render_messages(self, start: int, live: dict[int, str]) -> None:
        cursor = QTextCursor(self._browser.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.beginEditBlock()
        for message in self._messages[start:]:
            if message.id in live:
                self._writer.insert_header(cursor, message.id, Role.MODEL, model=message.answered_by)
                self._stream.start_with(message.id, live[message.id])
                cursor.movePosition(QTextCursor.MoveOperation.End)
            else:
                self._writer.insert_message(cursor, message)
        cursor.endEditBlock()

    # -- one message at a time ---------------------------------------------------

    def remember(self, message: Message) -> None:
        """Keeps a message's latest state (new, or changed: ended, citations, versions)."""
        index = self._index_of.get(message.id)
        if index is None:
            self._index_of[message.id] = len(self._messages)
            self._messages.append(message)
        else:
            self._messages[index] = message

    def add(self, message: Message) -> None:
        self.remember(message)
        self._writer.insert_message(self._end_cursor(), message)

    def add_answer_header(self, message_id: int, model: str | None = None) -> None:
        """Starts an answer that will stream in below."""
        self._writer.insert_header(self._end_cursor(), message_id, Role.MODEL, model=model)

    def add_status(self, message: Message) -> None:
        """The status line under the last message (a streamed answer that ended)."""
        self._writer.insert_status(self._end_cursor(), message)

    def refresh(self, message: Message) -> None:
        """Renders one message again where it is (an answer whose citations came with its end)."""
        self.remember(message)
        header = header_block_of(self._browser.document(), message.id)
        if header is None:
            return
        end = header.position() + header.length() - 1
        block = header.next()
        while block.isValid() and not block.blockFormat().hasProperty(MESSAGE_ID):
            end = block.position() + block.length() - 1
            block = block.next()
        cursor = QTextCursor(self._browser.document())
        cursor.beginEditBlock()
        cursor.setPosition(header.position())
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._writer.insert_message(cursor, message, in_place=True)
        cursor.endEditBlock()

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self._browser.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    # -- older messages, on scrolling up ---------------------------------------------

    def load_older_soon(self) -> None:
        """Renders older messages in a moment, if the view is near the top (or shows everything rendered)."""
        self._older_timer.start(0)

    def _on_scroll_value_changed(self, value: int) -> None:
        if self._first_shown and value < self._browser.viewport().height():
            self._older_timer.start(0)

    def _on_catch_up_timer_timeout(self) -> None:
        """Renders the next of the opening's messages (see the module's docstring); then, scrolling takes over."""
        if self._first_shown > self._opening_start:
            self._render_older(CATCH_UP_CHARS, self._opening_start)
        if self._first_shown > self._opening_start:
            self._catch_up_timer.start(0)
        else:
            self._older_timer.start(0)  # the view may be near the top already

    def _on_older_timer_timeout(self) -> None:
        if self._catch_up_timer.isActive():
            return  # the opening is still rendering its share; it looks again when it is done
        if self._first_shown and self._browser.verticalScrollBar().value() < self._browser.viewport().height():
            self._render_older()

    def render_down_to(self, message_id: int) -> bool:
        """Renders older messages until `message_id` is rendered; False if it is not in the chat."""
        index = self._index_of.get(message_id)
        if index is None:
            return False
        while self._first_shown > index:  # older than what is rendered: render down to it
            self._render_older()
        return True

    def load_all(self) -> None:
        """Renders every message of the chat."""
        while self._first_shown:
            self._render_older()

    def _render_older(self, batch_chars: int = OLDER_BATCH_CHARS, oldest: int = 0) -> None:
        """Renders a batch of older messages above (none older than index `oldest`), keeping what the user
        sees in place."""
        bar = self._browser.verticalScrollBar()
        if self._first_shown <= oldest:
            return
        end = self._first_shown
        start, chars = end, 0
        while start > oldest and chars < batch_chars:
            start -= 1
            chars += len(self._messages[start].text)
        document = self._browser.document()
        layout = document.documentLayout()
        anchor = document.begin()
        top_before = layout.blockBoundingRect(anchor).top()
        length_before = document.characterCount()
        value_before = bar.value()
        cursor = QTextCursor(document)
        cursor.beginEditBlock()
        # A new first block to write into; the old first block keeps its own format.
        cursor.insertBlock(anchor.blockFormat(), anchor.charFormat())
        cursor.setPosition(0)
        for offset, message in enumerate(self._messages[start:end]):
            self._writer.insert_message(cursor, message, in_place=offset == 0)
        cursor.endEditBlock()
        self._first_shown = start
        old_first = document.findBlock(document.characterCount() - length_before)
        moved = layout.blockBoundingRect(old_first).top() - top_before
        if not self._scrolling.following:
            bar.setValue(value_before + round(moved))
        if self._first_shown and bar.maximum() <= self._browser.viewport().height():
            self._older_timer.start(0)  # still room above: keep filling
