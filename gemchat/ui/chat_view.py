"""The conversation, as a read-only rich-text document.

Answers are Markdown, rendered as they stream: `gemchat.core.markdown` splits
an answer into pieces that never change once settled, and
`gemchat.ui.answer_renderer` inserts each settled piece once and swaps only
the unsettled tail, at most once a frame. So the cost of a chunk is bounded
by the block being written, never by the answer or the chat. Opening a chat
renders only its latest messages; older ones are added above as the user
scrolls up.

Model text is untrusted: raw HTML in it is shown as text, links open only on
click and only for http(s)/mailto, and no resource is ever loaded.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from PySide6.QtCore import QByteArray, QEvent, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QDesktopServices,
    QFont,
    QGuiApplication,
    QKeyEvent,
    QPalette,
    QResizeEvent,
    QPaintEvent,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractSlider, QTextBrowser, QToolButton, QToolTip, QWidget

from gemchat.core.budget import StepBudget
from gemchat.core.messages import Message, Role, Status
from gemchat.ui.theme import is_dark

if TYPE_CHECKING:  # Markdown modules load on first render, after the window is shown.
    from gemchat.core.markdown import MarkdownStyle
    from gemchat.ui.answer_renderer import StreamRegion

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
RETRY_SCHEME = "gemchat"

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
OPEN_BUDGET_CHARS = 12000
OPEN_BUDGET_MESSAGES = 40
"""Opening a chat renders its latest messages up to these limits; older ones come on scrolling up."""
OLDER_BATCH_CHARS = 6000
WARM_STEP_MS = 60
"""Idle pause between the steps that compile the Markdown parser and common lexers ahead of use."""
THUMBNAIL_SIDE = 96
"""Pictures attached to a question are shown this big (the longer side, in pixels)."""

# QTextFormat.UserProperty is 0x100000; written out because touching QTextFormat's
# enums at import costs start-up time (PySide builds them on first use).
_MESSAGE_ID = 0x100000 + 1  # on a message's header block
_ROLE = 0x100000 + 2  # on a message's header block
_THOUGHTS = 0x100000 + 3  # on the blocks of an answer's thoughts
_BOLD_TITLE = re.compile(r"\*\*([^*\n]{2,80})\*\*")


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
    # Where an attachment's copy is, by SHA-256 (set by the window); thumbnails are made from it.
    attachment_path: Callable[[str], Path | None] | None = None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setUndoRedoEnabled(False)
        self.setAccessibleName("Conversation")
        self.document().setDocumentMargin(16)
        self.document().setIndentWidth(22)  # nested lists: Qt's 40 px per level is too deep for a chat
        self.anchorClicked.connect(self._on_anchor_clicked)
        bar = self.verticalScrollBar()
        bar.actionTriggered.connect(self._on_scroll_bar_action)
        bar.rangeChanged.connect(self._on_scroll_range_changed)
        bar.valueChanged.connect(self._on_scroll_value_changed)
        self._follow = True
        self._messages: list[Message] = []
        self._index_of: dict[int, int] = {}  # message id -> index in _messages
        self._first_shown = 0  # index of the oldest message in the document
        self._stream: StreamRegion | None = None
        self._stream_ended: Message | None = None  # set while a finished answer's backlog drains
        self._incoming: list[str] = []  # revealed text not yet given to the renderer
        self._incoming_length = 0
        self._last_render = 0.0
        self._thoughts: dict[int, str] = {}
        self._thoughts_open: set[int] = set()
        self._thoughts_dirty = False
        self._style: MarkdownStyle | None = None
        self._dark = is_dark(self.palette())
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._document_half_next = False  # the next render step puts the parsed text into the document
        self._feed_budget = StepBudget(*FEED_PER_STEP, target_ms=STEP_MS)
        self._html_budget = StepBudget(*STEP_HTML_BUDGET, target_ms=STEP_MS)
        self._last_document_step = 0.0
        self._render_timer.timeout.connect(self._on_render_timer_timeout)
        self._older_timer = QTimer(self)
        self._older_timer.setSingleShot(True)
        self._older_timer.timeout.connect(self._load_older_if_near_top)
        self._restyle_timer = QTimer(self)
        self._restyle_timer.setSingleShot(True)
        self._restyle_timer.timeout.connect(self._restyle)
        self.jump_button = QToolButton(self)
        self.jump_button.setText("↓ Jump to latest")
        self.jump_button.setToolTip("Scroll to the newest text and keep following it (End)")
        self.jump_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.jump_button.setAutoRaise(False)
        self.jump_button.hide()
        self.jump_button.clicked.connect(self.scroll_to_bottom)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.styleHints().colorSchemeChanged.connect(self._on_color_scheme_changed)
        self._formatted = False  # formats are made on first use: after the window's first paint
        self._warming: Iterator[None] | None = None
        self._warm_timer = QTimer(self)
        self._warm_timer.setSingleShot(True)
        self._warm_timer.timeout.connect(self._on_warm_timer_timeout)

    # -- warming up, while idle ---------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        if self._warming is None and not self._warm_timer.isActive():
            self._warm_timer.start(WARM_STEP_MS)  # after the first paint, never before it

    def _on_warm_timer_timeout(self) -> None:
        """One step of preparing the Markdown parser and lexers, never while an answer streams."""
        if self._stream is not None:
            self._warm_timer.start(WARM_STEP_MS * 10)
            return
        if self._warming is None:
            from gemchat.core.markdown import warm_up

            self._warming = warm_up(self._markdown_style())
        if next(self._warming, StopIteration) is not StopIteration:
            self._warm_timer.start(WARM_STEP_MS)

    # -- formats -----------------------------------------------------------

    def _ensure_formats(self) -> None:
        if not self._formatted:
            self._formats()

    def _formats(self) -> None:
        self._formatted = True
        palette = self.palette()
        self._dark = is_dark(palette)
        text = palette.color(QPalette.ColorRole.Text)
        base = palette.color(QPalette.ColorRole.Base)
        accent = palette.color(QPalette.ColorRole.Highlight)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        self._user_tint = _mix(base, accent, 0.22 if self._dark else 0.13)
        self._header_user = QTextCharFormat()
        self._header_user.setFontWeight(QFont.Weight.Bold)
        self._header_user.setForeground(text)
        self._header_model = QTextCharFormat()
        self._header_model.setFontWeight(QFont.Weight.Bold)
        self._header_model.setForeground(QColor("#8ab4f8" if self._dark else "#1a73e8"))
        self._body = QTextCharFormat()
        self._body.setFont(self.font())
        self._body.setForeground(text)
        self._note = QTextCharFormat()
        self._note.setFontItalic(True)
        self._note.setForeground(muted)
        self._error = QTextCharFormat()
        self._error.setForeground(QColor("#f28b82" if self._dark else "#c5221f"))
        self._link = QTextCharFormat(self._body)
        self._link.setFontUnderline(True)
        self._link.setForeground(palette.color(QPalette.ColorRole.Link))
        self._header_block = QTextBlockFormat()
        self._header_block.setTopMargin(18)
        self._header_block.setBottomMargin(2)
        # A user message is one tinted band: no margins between its blocks (Qt paints
        # a block's background behind its text only, not its margins).
        self._user_header_block = QTextBlockFormat(self._header_block)
        self._user_header_block.setBackground(self._user_tint)
        self._user_header_block.setBottomMargin(0)
        self._user_body_block = QTextBlockFormat()
        self._user_body_block.setBackground(self._user_tint)
        self._body_block = QTextBlockFormat()
        self._body_block.setTopMargin(4)
        self._style = None
        link = palette.color(QPalette.ColorRole.Link).name()
        self.document().setDefaultStyleSheet(
            f"a {{ color: {link}; }} "
            "p, li { line-height: 125%; } "
            "pre, code { font-family: 'DejaVu Sans Mono', 'Menlo', 'Consolas', monospace; } "
        )

    def _markdown_style(self) -> MarkdownStyle:
        self._ensure_formats()
        if self._style is None:
            from gemchat.core.markdown import DARK, LIGHT, MarkdownStyle

            base = DARK if self._dark else LIGHT
            self._style = MarkdownStyle(
                pygments_style=base.pygments_style,
                muted=self.palette().color(QPalette.ColorRole.PlaceholderText).name(),
                code_background=base.code_background,
                inline_code_background=base.inline_code_background,
                border=base.border,
                table_header_background=base.table_header_background,
                table_cell_background=self.palette().color(QPalette.ColorRole.Base).name(),
            )
        return self._style

    # -- whole chats -----------------------------------------------------------

    def show_messages(self, messages: Iterable[Message], live: dict[int, str] | None = None) -> None:
        """Replaces the view with a chat; `live` maps a streaming message id to its text so far.

        Only the latest messages are rendered now (the first paint must not wait
        for a long history); older ones are rendered when the user scrolls up.
        """
        live = live or {}
        self._drop_stream()
        self._thoughts.clear()
        self._thoughts_open.clear()
        self._messages = list(messages)
        self._index_of = {m.id: i for i, m in enumerate(self._messages)}
        self._first_shown = self._latest_start(live)
        self.clear()
        self._render_messages(self._first_shown, live)
        self._follow = True
        self.scroll_to_bottom()
        self._older_timer.start(0)

    def _latest_start(self, live: dict[int, str]) -> int:
        start, chars = len(self._messages), 0
        while start > 0 and len(self._messages) - start < OPEN_BUDGET_MESSAGES and chars < OPEN_BUDGET_CHARS:
            start -= 1
            message = self._messages[start]
            chars += len(live.get(message.id, message.text))
        return start

    def _render_messages(self, start: int, live: dict[int, str]) -> None:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.beginEditBlock()
        for message in self._messages[start:]:
            if message.id in live:
                self._insert_header(cursor, message.id, Role.MODEL)
                self._start_stream(message.id)
                self._stream.markdown.append(live[message.id])  # type: ignore[union-attr]
                self._stream.render()  # type: ignore[union-attr]
                cursor.movePosition(QTextCursor.MoveOperation.End)
            else:
                self._insert_message(cursor, message)
        cursor.endEditBlock()

    def _insert_header(self, cursor: QTextCursor, message_id: int, role: Role, in_place: bool = False) -> None:
        """Starts a message; `in_place` uses the (empty) block at the cursor instead of a new one."""
        self._ensure_formats()
        block = QTextBlockFormat(self._user_header_block if role is Role.USER else self._header_block)
        block.setProperty(_MESSAGE_ID, message_id)
        block.setProperty(_ROLE, role.value)
        if in_place or (self.document().isEmpty() and cursor.position() == 0):
            cursor.setBlockFormat(block)
        else:
            cursor.insertBlock(block)
        if role is Role.USER:
            cursor.insertText("You", self._header_user)
        else:
            cursor.insertText("Gemini", self._header_model)

    def _insert_message(self, cursor: QTextCursor, message: Message, in_place: bool = False) -> None:
        self._insert_header(cursor, message.id, message.role, in_place)
        header = cursor.block()
        if message.role is Role.USER:
            cursor.insertBlock(self._user_body_block, self._body)
            cursor.insertText(message.text, self._body)
            self._insert_attachments(cursor, message)
        elif message.text:
            from gemchat.core.markdown import render_pieces
            from gemchat.ui.answer_renderer import insert_pieces

            insert_pieces(cursor, render_pieces(self._cited(message), message.id, self._markdown_style()))
        if message.role is Role.MODEL:
            self._insert_sources(cursor, message)
        self._insert_status(cursor, message)
        if message.role is Role.MODEL and message.thoughts:
            self._thoughts[message.id] = message.thoughts
            self._show_thoughts(message.id, header)  # not found by a search: older ones go in at the top

    # -- Gemini-native: attachment chips, citations and sources ------------------------

    def _cited(self, message: Message) -> str:
        """An answer's Markdown with numbered links to its sources, when it was grounded with Google Search."""
        if not message.grounding:
            return message.text
        from gemchat.core.grounding import cite

        return cite(message.text, message.grounding)

    def _insert_attachments(self, cursor: QTextCursor, message: Message) -> None:
        """A question's files under it: a thumbnail for pictures, then a chip with name and size."""
        if not message.attachments:
            return
        from PySide6.QtGui import QTextDocument, QTextImageFormat

        from gemchat.core.attachments import format_size, kind_of
        from gemchat.ui.attachment_tray import kind_label
        from gemchat.ui.thumbnails import thumbnail

        chip = QTextCharFormat(self._note)
        chip.setFontItalic(False)
        chip.setBackground(_mix(self._user_tint, self.palette().color(QPalette.ColorRole.Highlight), 0.18))
        cursor.insertBlock(self._user_body_block, self._body)
        for n, attachment in enumerate(message.attachments):
            if n:
                cursor.insertText("   ", self._body)
            image = None
            if kind_of(attachment.mime_type) == "image" and self.attachment_path is not None:
                image = thumbnail(attachment.sha256, self.attachment_path(attachment.sha256), THUMBNAIL_SIDE)
            if image is not None:
                name = f"gemchat-thumbnail:{attachment.sha256}"
                # Added to the document, never loaded by name: loadResource still fetches nothing.
                self.document().addResource(QTextDocument.ResourceType.ImageResource.value, QUrl(name), image)
                picture = QTextImageFormat()
                picture.setName(name)
                picture.setWidth(image.width())
                picture.setHeight(image.height())
                picture.setToolTip(attachment.name)
                picture.setVerticalAlignment(QTextCharFormat.VerticalAlignment.AlignMiddle)
                cursor.insertImage(picture)
                cursor.insertText(" ", self._body)
                label = f" {attachment.name} · {format_size(attachment.size)} "
            else:
                label = f" {kind_label(attachment)}  {attachment.name} · {format_size(attachment.size)} "
            chip.setToolTip(f"{attachment.name} ({attachment.mime_type})")
            cursor.insertText(label, chip)

    def _insert_sources(self, cursor: QTextCursor, message: Message) -> None:
        """The numbered sources of a grounded answer, and what Gemini searched for, as links.

        Google sends a search-suggestions widget (`searchEntryPoint.renderedContent`)
        as HTML and CSS meant for a browser; QTextDocument cannot show it, so the
        searches themselves (`webSearchQueries`) are links to Google Search instead.
        Titles are inserted as text (never markup) and only http(s) addresses are links.
        """
        if not message.grounding:
            return
        from gemchat.core.grounding import search_queries, search_url, sources

        found = sources(message.grounding)
        queries = search_queries(message.grounding)
        if not found and not queries:
            return
        plain = QTextCharFormat(self._note)
        plain.setFontItalic(False)
        heading = QTextCharFormat(plain)
        heading.setFontWeight(QFont.Weight.Bold)
        block = QTextBlockFormat(self._body_block)
        block.setLeftMargin(4)
        if found:
            cursor.insertBlock(block, heading)
            cursor.insertText("Sources", heading)
            for source in found:
                cursor.insertBlock(block, plain)
                cursor.insertText(f"[{source.number}]  ", plain)
                if source.linkable:
                    cursor.insertText(source.title, self._web_link(source.uri, source.uri))
                else:
                    cursor.insertText(source.title, plain)
        if queries:
            cursor.insertBlock(block, plain)
            cursor.insertText("Google Search:  ", heading)
            for n, query in enumerate(queries):
                if n:
                    cursor.insertText("  ·  ", plain)
                cursor.insertText(query, self._web_link(search_url(query), f"Search Google for “{query}”"))

    def _web_link(self, href: str, tooltip: str) -> QTextCharFormat:
        link = self._app_link(href)
        link.setToolTip(tooltip)
        return link

    def refresh_message(self, message: Message) -> None:
        """Renders one message again where it is (an answer whose citations came with its end)."""
        self._complete_stream()
        self._remember(message)
        header = self._header_block_of(message.id)
        if header is None:
            return
        end = header.position() + header.length() - 1
        block = header.next()
        while block.isValid() and not block.blockFormat().hasProperty(_MESSAGE_ID):
            end = block.position() + block.length() - 1
            block = block.next()
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        cursor.setPosition(header.position())
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._insert_message(cursor, message, in_place=True)
        cursor.endEditBlock()

    def _app_link(self, href: str) -> QTextCharFormat:
        link = QTextCharFormat(self._note)
        link.setFontItalic(False)
        link.setAnchor(True)
        link.setAnchorHref(href)
        link.setFontUnderline(True)
        link.setForeground(self.palette().color(QPalette.ColorRole.Link))
        return link

    def _insert_status(self, cursor: QTextCursor, message: Message) -> None:
        """What happened to a message, under it: why it stopped, its versions, its usage."""
        self._ensure_formats()
        if message.status is Status.INTERRUPTED:
            cursor.insertBlock(self._body_block, self._note)
            if message.finish_reason in ("MAX_TOKENS",):
                note = "Cut off: the answer reached the maximum length Gemini allows.  "
            else:
                note = "Stopped. The text above is what arrived.  "
            cursor.insertText(note, self._note)
            if message.text.strip():
                cursor.insertText("Continue", self._app_link(f"{RETRY_SCHEME}:continue/{message.id}"))
        elif message.status is Status.ERROR:
            cursor.insertBlock(self._body_block, self._body)
            cursor.insertText("⚠ " + (message.error or "The answer failed.") + "  ", self._error)
            cursor.insertText("Retry", self._app_link(f"{RETRY_SCHEME}:retry/{message.id}"))
        facts = answer_facts(message)
        if message.versions > 1 or facts:
            cursor.insertBlock(self._body_block, self._note)
            if message.versions > 1:
                # The arrows are padded with spaces inside the link: a wider target to click.
                if message.version > 1:
                    cursor.insertText(" ‹ ", self._app_link(f"{RETRY_SCHEME}:version/{message.id}/-1"))
                else:
                    cursor.insertText(" ‹ ", self._note)
                cursor.insertText(f" {message.version}/{message.versions} ", self._note)
                if message.version < message.versions:
                    cursor.insertText(" › ", self._app_link(f"{RETRY_SCHEME}:version/{message.id}/1"))
                else:
                    cursor.insertText(" › ", self._note)
                if facts:
                    cursor.insertText("  ·  ", self._note)
            if facts:
                cursor.insertText(facts, self._note)

    # -- older messages, on scrolling up ---------------------------------------------

    def _on_scroll_value_changed(self, value: int) -> None:
        if self._first_shown and value < self.viewport().height():
            self._older_timer.start(0)
        self._update_jump_button()

    def _load_older_if_near_top(self) -> None:
        if self._first_shown and self.verticalScrollBar().value() < self.viewport().height():
            self._render_older()

    def _render_older(self) -> None:
        """Renders a batch of older messages above, keeping what the user sees in place."""
        bar = self.verticalScrollBar()
        if not self._first_shown:
            return
        end = self._first_shown
        start, chars = end, 0
        while start > 0 and chars < OLDER_BATCH_CHARS:
            start -= 1
            chars += len(self._messages[start].text)
        document = self.document()
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
            self._insert_message(cursor, message, in_place=offset == 0)
        cursor.endEditBlock()
        self._first_shown = start
        old_first = document.findBlock(document.characterCount() - length_before)
        moved = layout.blockBoundingRect(old_first).top() - top_before
        if not self._follow:
            bar.setValue(value_before + round(moved))
        if self._first_shown and bar.maximum() <= self.viewport().height():
            self._older_timer.start(0)  # still room above: keep filling

    def load_all(self) -> None:
        """Renders every message of the chat (find-in-chat and export of the view need them)."""
        while self._first_shown:
            self._render_older()

    # -- one message at a time ---------------------------------------------------

    def add_message(self, message: Message) -> None:
        self._close_stream()
        self._remember(message)
        cursor = self._end_cursor()
        self._insert_message(cursor, message)

    def begin_answer(self, message_id: int, text: str = "") -> None:
        """Starts the answer that streamed text will be appended to."""
        self._close_stream()
        cursor = self._end_cursor()
        self._insert_header(cursor, message_id, Role.MODEL)
        self._start_stream(message_id)
        if text:
            self.append_to_answer(text)

    def resume_answer(self, message_id: int) -> None:
        """Continues a streaming answer already shown by `show_messages` (it is the last message)."""
        if self._stream is None or self._stream.message_id != message_id:
            self.begin_answer(message_id)

    def append_to_answer(self, text: str) -> None:
        """Adds a piece of the streaming answer; it is shown within a frame."""
        if self._stream is None or self._stream_ended is not None or not text:
            return
        self._incoming.append(text)
        self._incoming_length += len(text)
        self._schedule_render()

    def add_thought(self, text: str) -> None:
        """Adds a piece of the streaming answer's thought summary (thinking models)."""
        if self._stream is None or not text:
            return
        message_id = self._stream.message_id
        self._thoughts[message_id] = self._thoughts.get(message_id, "") + text
        self._thoughts_dirty = True
        self._schedule_render()

    def end_answer(self, message: Message) -> None:
        """Shows the final state of the streaming answer (its status line: stopped, error).

        A large unrendered rest (a burst flushed at the end) is rendered over the
        next steps, so the window never freezes; `answer_id` is None once it is all shown.
        """
        if self._stream is None or self._stream.message_id != message.id:
            self._remember(message)
            return
        self._stream_ended = message
        self._remember(message)
        if self._incoming_length <= SYNC_END_LIMIT and not self._stream.queued:
            self._complete_stream()
        else:
            self._schedule_render()

    def render_pending(self) -> None:
        """Shows everything appended so far now, instead of at the next frame (tests, reading the text)."""
        while self._stream is not None and (self._incoming_length or self._thoughts_dirty
                                            or self._stream.markdown.changed or self._stream.stale):
            self._stream._last_tail = 0.0
            self._render_stream()

    @property
    def answer_id(self) -> int | None:
        """The answer being written into the view, until all of it is shown."""
        return self._stream.message_id if self._stream is not None else None

    def _remember(self, message: Message) -> None:
        index = self._index_of.get(message.id)
        if index is None:
            self._index_of[message.id] = len(self._messages)
            self._messages.append(message)
        else:
            self._messages[index] = message

    def _start_stream(self, message_id: int) -> None:
        from gemchat.ui.answer_renderer import StreamRegion

        self._stream = StreamRegion(self.document(), message_id, self._markdown_style())
        self._stream_ended = None
        self._document_half_next = False
        self._incoming.clear()
        self._incoming_length = 0

    def _complete_stream(self) -> None:
        """Renders all of the streaming answer that is left and closes it, if it has ended."""
        if self._stream is None:
            return
        if self._stream_ended is None:
            return
        self._stop_rendering()
        stream, message = self._stream, self._stream_ended
        self._feed(stream, self._incoming_length)
        if self._thoughts_dirty:
            self._render_thoughts()
        stream.render(final=True)
        self._insert_status(self._end_cursor(), message)
        self._stream = None
        self._stream_ended = None

    def _close_stream(self) -> None:
        """Whatever is streaming is shown whole and stops being tracked: new text goes below it."""
        if self._stream is not None and self._stream_ended is None:
            self._stop_rendering()
            self._feed(self._stream, self._incoming_length)
            self._stream.render(final=True)
            self._stream = None
        self._complete_stream()

    def _stop_rendering(self) -> None:
        self._render_timer.stop()
        self._document_half_next = False

    def _drop_stream(self) -> None:
        self._stop_rendering()
        self._stream = None
        self._stream_ended = None
        self._incoming.clear()
        self._incoming_length = 0

    def _end_cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    # -- rendering the stream, at most once a frame --------------------------------------

    def _schedule_render(self) -> None:
        if self._render_timer.isActive():
            return
        waited = (time.monotonic() - self._last_render) * 1000
        if waited >= FRAME_MS:
            self._render_stream()
        else:
            self._render_timer.start(max(1, int(FRAME_MS - waited)))

    def _on_render_timer_timeout(self) -> None:
        self._render_stream()

    def _render_stream(self) -> None:
        """One step, in two halves, each in its own turn of the event loop.

        The text half gives the Markdown a little more of the answer (settled
        pieces queue up); the document half puts the queued pieces and the new
        tail into the document, which Qt then lays out. Each half is kept to
        about `STEP_MS` (`StepBudget`): done in one go they would hold back a
        timer, a key or a paint for twice as long.
        """
        now = self._last_render = time.monotonic()
        stream = self._stream
        if stream is None:
            return
        if self._document_half_next:
            self._document_half_next = False
            self._last_document_step = now
            began = time.perf_counter()
            inserted = stream.step(self._html_budget.value)
            self._html_budget.observe((time.perf_counter() - began) * 1000, inserted)
        else:
            if self._thoughts_dirty:
                self._render_thoughts()
            began = time.perf_counter()
            fed = self._feed(stream, self._feed_budget.value)
            if stream.markdown.changed:
                stream.update()
            self._feed_budget.observe((time.perf_counter() - began) * 1000, len(fed))
            # While more text waits, an unfinished block alone goes into the document once a frame,
            # not after every bit of it (Qt lays it out anew each time); finished blocks at once.
            if stream.stale and (stream.queued or not self._incoming_length
                                 or (now - self._last_document_step) * 1000 >= FRAME_MS):
                self._document_half_next = True
                self._render_timer.start(0)
                return
        if self._incoming_length or stream.queued:
            self._render_timer.start(BACKLOG_STEP_MS)  # a burst: the rest in small steps
        elif self._stream_ended is not None:
            self._complete_stream()
        elif stream.stale:
            self._render_timer.start(FRAME_MS * 3)  # a table's tail, held back a little

    def _feed(self, stream: StreamRegion, limit: int) -> str:
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
        stream.markdown.append(text)
        return text

    # -- thoughts --------------------------------------------------------------------------

    def _render_thoughts(self) -> None:
        self._thoughts_dirty = False
        if self._stream is not None and self._stream.message_id in self._thoughts:
            self._show_thoughts(self._stream.message_id)

    def _show_thoughts(self, message_id: int, header: QTextBlock | None = None) -> None:
        """Replaces the thoughts section of an answer: one line, or all of it when opened."""
        if header is None:
            header = self._header_block_of(message_id)
        text = self._thoughts.get(message_id, "")
        if header is None or not text:
            return
        from gemchat.core.markdown import escape_text, render_pieces
        from gemchat.ui.answer_renderer import insert_html_blocks, insert_pieces, remove_blocks_after

        start = header.position() + header.length() - 1
        end = start
        block = header.next()
        while block.isValid() and block.blockFormat().hasProperty(_THOUGHTS):
            end = block.position() + block.length() - 1
            block = block.next()
        opened = message_id in self._thoughts_open
        titles = _BOLD_TITLE.findall(text)
        summary = titles[-1] if titles else " ".join(text.split())[:80]
        style = self._markdown_style()
        line = (f'<p style="margin-top:2px; margin-bottom:2px;">'
                f'<a href="{RETRY_SCHEME}:toggle-thoughts/{message_id}">{"▾" if opened else "▸"} Thoughts</a>'
                f'<span style="color:{style.muted};">&nbsp;&nbsp;{escape_text(summary)}</span></p>')
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        remove_blocks_after(cursor, start, end)
        insert_html_blocks(cursor, line)
        if opened:
            insert_pieces(cursor, render_pieces(text, message_id, style))
        marked = QTextCursor(self.document())
        marked.setPosition(start + 1)
        marked.setPosition(cursor.position(), QTextCursor.MoveMode.KeepAnchor)
        thoughts_block = QTextBlockFormat()
        thoughts_block.setProperty(_THOUGHTS, message_id)
        thoughts_block.setLeftMargin(14)
        marked.mergeBlockFormat(thoughts_block)
        if opened:
            muted = QTextCharFormat()
            muted.setForeground(QColor(style.muted))
            body = QTextCursor(self.document())
            body.setPosition(self.document().findBlock(start + 1).next().position())
            body.setPosition(cursor.position(), QTextCursor.MoveMode.KeepAnchor)
            body.mergeCharFormat(muted)
        cursor.endEditBlock()

    def toggle_thoughts(self, message_id: int) -> None:
        if message_id in self._thoughts_open:
            self._thoughts_open.discard(message_id)
        else:
            self._thoughts_open.add(message_id)
        self._show_thoughts(message_id)

    def _header_block_of(self, message_id: int) -> QTextBlock | None:
        block = self.document().lastBlock()
        while block.isValid():
            fmt = block.blockFormat()
            if fmt.hasProperty(_MESSAGE_ID) and fmt.intProperty(_MESSAGE_ID) == message_id:
                return block
            block = block.previous()
        return None

    # -- Markdown source, for copying -------------------------------------------------------

    def answer_markdown(self, message_id: int) -> str | None:
        """The Markdown source of an answer, as the model wrote it."""
        if self._stream is not None and self._stream.message_id == message_id:
            return self._stream.markdown.source + "".join(self._incoming)
        index = self._index_of.get(message_id)
        if index is None or self._messages[index].role is not Role.MODEL:
            return None
        return self._messages[index].text

    def last_answer_markdown(self) -> str | None:
        """The Markdown source of the newest answer in the chat."""
        if self._stream is not None:
            return self.answer_markdown(self._stream.message_id)
        for message in reversed(self._messages):
            if message.role is Role.MODEL and message.text:
                return message.text
        return None

    def last_code_block(self) -> str | None:
        """The source of the newest code block in the chat's answers."""
        from gemchat.core.markdown import code_blocks

        sources = []
        if self._stream is not None:
            sources.append(self.answer_markdown(self._stream.message_id) or "")
        sources.extend(m.text for m in reversed(self._messages) if m.role is Role.MODEL)
        for text in sources:
            if "```" in text or "~~~" in text or "    " in text or "\t" in text:
                blocks = code_blocks(text)
                if blocks:
                    return blocks[-1]
        return None

    def message_at(self, position: QPoint) -> tuple[int, Role] | None:
        """The message under a point of the viewport: its id and role."""
        block = self.cursorForPosition(position).block()
        while block.isValid():
            fmt = block.blockFormat()
            if fmt.hasProperty(_MESSAGE_ID):
                return fmt.intProperty(_MESSAGE_ID), Role(fmt.stringProperty(_ROLE))
            block = block.previous()
        return None

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt override)
        menu = self.createStandardContextMenu(event.pos())
        found = self.message_at(event.pos())
        if found is not None and found[1] is Role.MODEL:
            message_id = found[0]
            action = QAction("Copy Markdown", menu)
            action.triggered.connect(lambda: self._copy(self.answer_markdown(message_id)))
            menu.addSeparator()
            menu.addAction(action)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(event.globalPos())

    def _copy(self, text: str | None, note: str = "Copied") -> None:
        if text is None:
            return
        QGuiApplication.clipboard().setText(text)
        QToolTip.showText(self.mapToGlobal(self.viewport().geometry().center()), note, self)

    # -- scrolling ----------------------------------------------------------------

    @property
    def following(self) -> bool:
        """Whether the view keeps the newest text in sight as it arrives."""
        return self._follow

    def scroll_to_bottom(self) -> None:
        self._follow = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
        self._update_jump_button()

    def scroll_to_message(self, message_id: int) -> None:
        """Brings a message's first line to the top of the view (a search hit); stops following."""
        index = self._index_of.get(message_id)
        if index is None:
            return
        while self._first_shown > index:  # older than what is rendered: render down to it
            self._render_older()
        header = self._header_block_of(message_id)
        if header is None:
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(header.position())
        bar = self.verticalScrollBar()
        self._follow = False
        top = self.document().documentLayout().blockBoundingRect(header).top()
        bar.setValue(min(bar.maximum(), round(top) - 8))
        self.setTextCursor(cursor)
        self._update_jump_button()

    def _at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def _on_scroll_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)
        self._update_jump_button()

    def _on_scroll_bar_action(self, action: int) -> None:
        if action != QAbstractSlider.SliderAction.SliderNoAction.value:
            self.user_scrolled.emit()
        # The bar moves after this signal; judge the position once it has.
        self._follow = self._after_user_move()
        self._update_jump_button()

    def _after_user_move(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.sliderPosition() >= bar.maximum() - 4

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        super().wheelEvent(event)
        self._follow = self._at_bottom()
        self._update_jump_button()
        self.user_scrolled.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_End and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.scroll_to_bottom()
            self.user_scrolled.emit()
            return
        super().keyPressEvent(event)

    def _update_jump_button(self) -> None:
        show = not self._follow and not self._at_bottom()
        if show != self.jump_button.isVisible():
            self.jump_button.setVisible(show)
            if show:
                self._place_jump_button()
                self.jump_button.raise_()

    def _place_jump_button(self) -> None:
        self.jump_button.adjustSize()
        area = self.viewport().geometry()
        size = self.jump_button.size()
        self.jump_button.move(area.right() - size.width() - 12, area.bottom() - size.height() - 12)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self.jump_button.isVisible():  # placed when shown, else not (it would cost the first paint ~15 ms)
            self._place_jump_button()

    # -- theme ---------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and is_dark(self.palette()) != self._dark:
            self._restyle_timer.start(0)

    def _on_color_scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        self._restyle_timer.start(0)

    def _restyle(self) -> None:
        """Renders the shown messages again in the current palette's colours."""
        self._complete_stream()
        self._formats()
        follow = self._follow
        bar = self.verticalScrollBar()
        fraction = bar.value() / bar.maximum() if bar.maximum() else 1.0
        live: dict[int, str] = {}
        if self._stream is not None:
            live[self._stream.message_id] = self._stream.markdown.source + "".join(self._incoming)
        self._drop_stream()
        self.clear()
        self._render_messages(self._first_shown, live)
        for message_id in list(self._thoughts):
            self._show_thoughts(message_id)
        if follow:
            self.scroll_to_bottom()
        else:
            bar.setValue(round(fraction * bar.maximum()))

    # -- links and resources -------------------------------------------------------

    def _on_anchor_clicked(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme == RETRY_SCHEME:
            self._on_app_link(url.path())
        elif scheme in SAFE_SCHEMES:
            QDesktopServices.openUrl(url)

    def _on_app_link(self, path: str) -> None:
        action, _, rest = path.partition("/")
        try:
            numbers = [int(part) for part in rest.split("/")]
        except ValueError:
            return
        if action == "retry" and len(numbers) == 1:
            self.retry_requested.emit(numbers[0])
        elif action == "continue" and len(numbers) == 1:
            self.continue_requested.emit(numbers[0])
        elif action == "version" and len(numbers) == 2:
            self.version_requested.emit(numbers[0], numbers[1])
        elif action == "toggle-thoughts" and len(numbers) == 1:
            self.toggle_thoughts(numbers[0])
        elif action == "copy-code" and len(numbers) == 2:
            from gemchat.core.markdown import code_blocks

            source = self.answer_markdown(numbers[0])
            blocks = code_blocks(source) if source else []
            if numbers[1] < len(blocks):
                self._copy(blocks[numbers[1]], "Code copied")

    def loadResource(self, kind: int, name: QUrl) -> Any:  # noqa: N802 (Qt override)
        """Nothing is ever fetched or read while showing a chat.

        An empty byte array, not None: for None, QTextDocument falls back to
        reading `file:` URLs from disk itself.
        """
        return QByteArray()


def _mix(base: QColor, tint: QColor, amount: float) -> QColor:
    return QColor(
        round(base.red() + (tint.red() - base.red()) * amount),
        round(base.green() + (tint.green() - base.green()) * amount),
        round(base.blue() + (tint.blue() - base.blue()) * amount),
    )
