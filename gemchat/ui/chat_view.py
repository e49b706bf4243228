"""The conversation, as a read-only rich-text document.

A streaming answer is added by inserting each piece at a cursor kept at the
end of the answer: the cost of a chunk is the chunk, never the message or the
chat. Model text is inserted as plain text (never parsed as HTML), links are
opened only on click and only for http(s)/mailto, and no resource is ever
loaded from anywhere.
"""

from __future__ import annotations

from typing import Any, Iterable

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QPalette,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractSlider, QTextBrowser, QWidget

from gemchat.core.messages import Message, Role, Status

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})


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
    if message.first_token_ms is not None:
        parts.append(f"{message.first_token_ms / 1000:.1f} s to the first token")
    return "  ·  ".join(parts)
RETRY_SCHEME = "gemchat"


class ChatView(QTextBrowser):
    """Signals:
        retry_requested(int): the Retry link of the answer with that id was clicked.
        continue_requested(int): the Continue link of a cut-off answer was clicked.
        version_requested(int, int): a version arrow of a message was clicked (id, -1 or +1).
        user_scrolled(): the user moved the view (wheel, scroll bar, keys).
    """

    retry_requested = Signal(int)
    continue_requested = Signal(int)
    version_requested = Signal(int, int)
    user_scrolled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setUndoRedoEnabled(False)
        self.setAccessibleName("Conversation")
        self.document().setDocumentMargin(16)
        self.anchorClicked.connect(self._on_anchor_clicked)
        bar = self.verticalScrollBar()
        bar.actionTriggered.connect(self._on_scroll_bar_action)
        bar.rangeChanged.connect(self._on_scroll_range_changed)
        self._follow = True
        self._answer: QTextCursor | None = None
        self._answer_id: int | None = None
        self._starts: dict[int, int] = {}  # message id -> document position of its header
        self._formats()

    # -- formats -----------------------------------------------------------

    def _formats(self) -> None:
        base = self.font()
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        self._header_user = QTextCharFormat()
        self._header_user.setFontWeight(QFont.Weight.Bold)
        self._header_user.setForeground(accent)
        self._header_model = QTextCharFormat()
        self._header_model.setFontWeight(QFont.Weight.Bold)
        self._header_model.setForeground(QColor("#1a73e8"))
        self._body = QTextCharFormat()
        self._body.setFont(base)
        self._note = QTextCharFormat()
        self._note.setFontItalic(True)
        self._note.setForeground(self.palette().color(QPalette.ColorRole.PlaceholderText))
        self._error = QTextCharFormat()
        self._error.setForeground(QColor("#c5221f"))
        self._header_block = QTextBlockFormat()
        self._header_block.setTopMargin(14)
        self._body_block = QTextBlockFormat()
        self._body_block.setTopMargin(2)

    # -- whole chats -----------------------------------------------------------

    def show_messages(self, messages: Iterable[Message], live: dict[int, str] | None = None) -> None:
        """Replaces the view with a chat; `live` maps a streaming message id to its text so far."""
        live = live or {}
        self._answer = None
        self._answer_id = None
        self._starts.clear()
        self.clear()
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        first = True
        for message in messages:
            text = live.get(message.id, message.text)
            self._insert_message(cursor, message.role, text, first, message.id)
            first = False
            if message.id not in live:
                self._insert_status(cursor, message)
        cursor.endEditBlock()
        self._follow = True
        self.scroll_to_bottom()

    def _insert_message(self, cursor: QTextCursor, role: Role, text: str, first: bool,
                        message_id: int | None = None) -> None:
        if not first:
            cursor.insertBlock(self._header_block)
        else:
            cursor.setBlockFormat(self._header_block)
        if message_id is not None:
            self._starts[message_id] = cursor.position()
        if role is Role.USER:
            cursor.insertText("You", self._header_user)
        else:
            cursor.insertText("Gemini", self._header_model)
        cursor.insertBlock(self._body_block, self._body)
        cursor.insertText(text, self._body)

    def _link(self, text: str, href: str) -> QTextCharFormat:
        link = QTextCharFormat(self._note)
        link.setFontItalic(False)
        link.setAnchor(True)
        link.setAnchorHref(href)
        link.setFontUnderline(True)
        link.setForeground(self.palette().color(QPalette.ColorRole.Link))
        return link

    def _insert_status(self, cursor: QTextCursor, message: Message) -> None:
        """What happened to a message, under it: why it stopped, its versions, its usage."""
        if message.status is Status.INTERRUPTED:
            cursor.insertBlock(self._body_block)
            if message.finish_reason in ("MAX_TOKENS",):
                note = "Cut off: the answer reached the maximum length Gemini allows.  "
            else:
                note = "Stopped. The text above is what arrived.  "
            cursor.insertText(note, self._note)
            if message.text.strip():
                cursor.insertText("Continue", self._link("Continue", f"{RETRY_SCHEME}:continue/{message.id}"))
        elif message.status is Status.ERROR:
            cursor.insertBlock(self._body_block)
            cursor.insertText("⚠ " + (message.error or "The answer failed.") + "  ", self._error)
            cursor.insertText("Retry", self._link("Retry", f"{RETRY_SCHEME}:retry/{message.id}"))
        facts = answer_facts(message)
        if message.versions > 1 or facts:
            cursor.insertBlock(self._body_block)
            if message.versions > 1:
                if message.version > 1:
                    cursor.insertText("‹", self._link("‹", f"{RETRY_SCHEME}:version/{message.id}/-1"))
                else:
                    cursor.insertText("‹", self._note)
                cursor.insertText(f" {message.version}/{message.versions} ", self._note)
                if message.version < message.versions:
                    cursor.insertText("›", self._link("›", f"{RETRY_SCHEME}:version/{message.id}/1"))
                else:
                    cursor.insertText("›", self._note)
                if facts:
                    cursor.insertText("  ·  ", self._note)
            if facts:
                cursor.insertText(facts, self._note)

    # -- one message at a time ---------------------------------------------------

    def add_message(self, message: Message) -> None:
        cursor = self._end_cursor()
        self._insert_message(cursor, message.role, message.text, self.document().isEmpty(), message.id)
        self._insert_status(cursor, message)

    def begin_answer(self, message_id: int, text: str = "") -> None:
        """Starts the answer that streamed text will be appended to."""
        cursor = self._end_cursor()
        self._insert_message(cursor, Role.MODEL, text, self.document().isEmpty(), message_id)
        self._answer = cursor
        self._answer_id = message_id

    def resume_answer(self, message_id: int) -> None:
        """Continues a streaming answer already shown by `show_messages` (it is the last message)."""
        self._answer = self._end_cursor()
        self._answer_id = message_id

    def append_to_answer(self, text: str) -> None:
        """Adds a piece of the streaming answer; costs the length of the piece."""
        if self._answer is not None:
            self._answer.insertText(text, self._body)

    def end_answer(self, message: Message) -> None:
        if self._answer is not None and self._answer_id == message.id:
            self._insert_status(self._answer, message)
        self._answer = None
        self._answer_id = None

    @property
    def answer_id(self) -> int | None:
        return self._answer_id

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    # -- scrolling ----------------------------------------------------------------

    @property
    def following(self) -> bool:
        """Whether the view keeps the newest text in sight as it arrives."""
        return self._follow

    def scroll_to_bottom(self) -> None:
        self._follow = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def scroll_to_message(self, message_id: int) -> None:
        """Brings a message's first line to the top of the view (a search hit); stops following."""
        position = self._starts.get(message_id)
        if position is None:
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(min(position, self.document().characterCount() - 1))
        bar = self.verticalScrollBar()
        self._follow = False
        bar.setValue(min(bar.maximum(), self.cursorRect(cursor).top() + bar.value() - 8))
        self.setTextCursor(cursor)

    def _at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def _on_scroll_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)

    def _on_scroll_bar_action(self, action: int) -> None:
        if action != QAbstractSlider.SliderAction.SliderNoAction.value:
            self.user_scrolled.emit()
        # The bar moves after this signal; judge the position once it has.
        self._follow = self._after_user_move()

    def _after_user_move(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.sliderPosition() >= bar.maximum() - 4

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        super().wheelEvent(event)
        self._follow = self._at_bottom()
        self.user_scrolled.emit()

    # -- links and resources -------------------------------------------------------

    def _on_anchor_clicked(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme == RETRY_SCHEME:
            action, _, rest = url.path().partition("/")
            try:
                if action == "retry":
                    self.retry_requested.emit(int(rest))
                elif action == "continue":
                    self.continue_requested.emit(int(rest))
                elif action == "version":
                    message_id, _, step = rest.partition("/")
                    self.version_requested.emit(int(message_id), int(step))
            except ValueError:
                pass
        elif scheme in SAFE_SCHEMES:
            QDesktopServices.openUrl(url)

    def loadResource(self, kind: int, name: QUrl) -> Any:  # noqa: N802 (Qt override)
        """Nothing is ever fetched or read while showing a chat."""
        return None
