"""The conversation, as a read-only rich-text document: the widget and what it answers to.

`ChatView` is the QTextBrowser, its Qt event overrides and its public API; the
work is done by its parts: `Document` (which messages are rendered, older
ones on scroll), `MessageWriter` (one message's blocks), `StreamRenderer`
(the answer being written), `Thoughts`, `Scrolling` and `Links`, over the
shared `Formats`.

Model text is untrusted: raw HTML in it is shown as text, links open only on
click and only for http(s)/mailto, and no resource is ever loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QFocusEvent,
    QGuiApplication,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextCursor,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QTextBrowser, QToolTip, QWidget

from gemchat.core.message_labels import Role
from gemchat.ui import accessibility
from gemchat.ui.chat_view.blocks import Formats, header_block_of, message_of
from gemchat.ui.chat_view.column import Column
from gemchat.ui.chat_view.decorations import Decorations
from gemchat.ui.chat_view.document import Document
from gemchat.ui.chat_view.formulas import OBJECT, Formulas, formula_sources
from gemchat.ui.chat_view.links import Links
from gemchat.ui.chat_view.markdown_warm_up import MarkdownWarmUp
from gemchat.ui.chat_view.message_actions import MessageActions
from gemchat.ui.chat_view.message_writer import MessageWriter
from gemchat.ui.chat_view.pictures import Pictures
from gemchat.ui.chat_view.scrolling import Scrolling
from gemchat.ui.chat_view.stream_renderer import StreamRenderer
from gemchat.ui.chat_view.thoughts import Thoughts
from gemchat.ui.theme import is_dark
from gemchat.ui.viewports import give_own_viewport

if TYPE_CHECKING:
    from PySide6.QtCore import QMimeData, QUrl

    from gemchat.core.markdown import MarkdownStyle
    from gemchat.core.messages import Message
    from gemchat.ui.chat_view.message_writer import Prerendered
    from gemchat.ui.chat_view.typesetter import Typesetter

class ChatView(QTextBrowser):
    """Signals:
        retry_requested(int): the Retry link or Regenerate button of the answer with that id was clicked.
        edit_requested(int): the Edit button of the question with that id was clicked.
        continue_requested(int): the Continue link of a cut-off answer was clicked.
        version_requested(int, int): a version arrow of a message was clicked (id, -1 or +1).
        user_scrolled(): the user moved the view (wheel, scroll bar, keys).
        announced(str): a screen reader was told this (`announce`: the end of an answer).

    Attributes:
        jump_button: "Jump to latest", shown while the user has scrolled away from the newest text.
        column: where the text goes (a centred column, or the full width: `column.full_width`).
    """

    retry_requested = Signal(int)
    edit_requested = Signal(int)
    continue_requested = Signal(int)
    version_requested = Signal(int, int)
    user_scrolled = Signal()
    announced = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        give_own_viewport(self)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setUndoRedoEnabled(False)
        self.setAccessibleName("Conversation")
        self.setFrameShape(QFrame.Shape.NoFrame)  # the page itself, not a box in the window
        accessibility.quiet(self)
        self.document().setDocumentMargin(16)
        self.document().setIndentWidth(22)  # nested lists: Qt's 40 px per level is too deep for a chat
        self._links = Links({
            "retry": (1, self.retry_requested.emit),
            "continue": (1, self.continue_requested.emit),
            "version": (2, self.version_requested.emit),
            "toggle-thoughts": (1, self.toggle_thoughts),
            "copy-code": (2, self._copy_code),
            "open-picture": (2, lambda message_id, index: self.pictures.open(message_id, index)),
        })
        self.anchorClicked.connect(self._links.follow)
        self._formats = Formats(self)  # made on first use: after the window's first paint
        self._thoughts = Thoughts(self, self._formats)
        self._scrolling = Scrolling(self, self.user_scrolled.emit)
        self._formulas = Formulas(self)
        self._stream = StreamRenderer(self, self._formats, self._thoughts, self._formulas, self._on_stream_completed)
        self._formulas.replaced = self._stream.text_replaced
        self.column = Column(self)
        self._decorations = Decorations(self, self._formats)
        self._writer = MessageWriter(self, self._formats, self._thoughts, self._formulas, self.column)
        self.pictures = Pictures(self, lambda: self.messages, lambda: self.attachment_path)
        self._document = Document(self, self._writer, self._stream, self._scrolling)
        self.jump_button = self._scrolling.jump_button
        self.message_actions = MessageActions(self, self._document.message)
        self._restyle_timer = QTimer(self)
        self._restyle_timer.setSingleShot(True)
        self._restyle_timer.timeout.connect(self._restyle)
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.styleHints().colorSchemeChanged.connect(self._on_color_scheme_changed)
        self._warming = MarkdownWarmUp()

    @property
    def attachment_path(self) -> Callable[[str], Path | None] | None:
        """Where an attachment's copy is, by SHA-256 (set by the window); thumbnails are made from it."""
        return self._writer.attachment_path

    @attachment_path.setter
    def attachment_path(self, path: Callable[[str], Path | None] | None) -> None:
        self._writer.attachment_path = path

    @property
    def typesetter(self) -> Typesetter | None:
        """Typesets the answers' formulas (set by the app); without one, formulas are shown as their source."""
        return self._formulas.typesetter

    @typesetter.setter
    def typesetter(self, typesetter: Typesetter | None) -> None:
        self._formulas.typesetter = typesetter

    # -- painting, and warming up ---------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        self._decorate(self._decorations.paint_under)
        super().paintEvent(event)
        self._decorate(self._decorations.paint_over)

    def warm_up(self) -> None:
        """Prepares Markdown and the common lexers on a thread, once, when an answer may come."""
        self._warming.start(self._formats.dark)

    def markdown_colours(self) -> tuple[bool, str, str]:
        """The palette's colours for rendered Markdown, as plain values a thread may use (`prerender`)."""
        return self._formats.markdown_colours()

    def use_prerendered(self, style: MarkdownStyle, pieces: Prerendered) -> None:
        """Answers' HTML made on the start-up thread for the chat shown first (`MessageWriter.take_prerendered`)."""
        self._writer.take_prerendered(style, pieces)

    def _decorate(self, paint: Callable[[QPainter], None]) -> None:
        painter = QPainter(self.viewport())
        painter.translate(-self.horizontalScrollBar().value(), -self.verticalScrollBar().value())
        paint(painter)
        painter.end()

    # -- assistive technology (`gemchat.ui.accessibility`) --------------------------------

    def clear(self) -> None:
        if self.document().isEmpty():  # nothing to clear: clearing would still tell a screen reader the caret moved
            return
        super().clear()
        self.column.fit()  # a cleared document has a new root frame, with the default margins
        accessibility.quiet(self)  # after a clear Qt reports every edit again, and the caret is a new one

    def announce(self, text: str) -> None:
        """Has a screen reader say `text` once, politely: the view's own edits are not reported as they happen."""
        accessibility.announce(self, text)
        self.announced.emit(text)

    # -- whole chats -----------------------------------------------------------

    def show_messages(self, messages: Iterable[Message], live: dict[int, str] | None = None) -> None:
        """Replaces the view with a chat; `live` maps a streaming message id to its text so far.

        Only about a screen of the latest messages is rendered now (the first paint
        must not wait for a long history), a few more over the next turns of the
        event loop; older ones are rendered when the user scrolls up.
        """
        self._stream.drop()
        self._thoughts.clear()
        self._formulas.clear()
        self._document.show(messages, live or {})
        self.scroll_to_bottom()
        self._document.load_older_soon()

    @property
    def messages(self) -> Sequence[Message]:
        """The open chat's messages as the view was last told, rendered or not yet."""
        return self._document.messages

    def load_all(self) -> None:
        """Renders every message of the chat (find-in-chat and export of the view need them)."""
        self._document.load_all()

    # -- one message at a time ---------------------------------------------------

    def add_message(self, message: Message) -> None:
        self._stream.close()
        self._document.add(message)
        self.warm_up()

    def refresh_message(self, message: Message) -> None:
        """Renders one message again where it is (an answer whose citations came with its end)."""
        self._stream.complete()
        self._document.refresh(message)

    def begin_answer(self, message_id: int, text: str = "", model: str | None = None) -> None:
        """Starts the answer that streamed text will be appended to; `model` writes it."""
        self._stream.close()
        self.warm_up()
        self._document.add_answer_header(message_id, model)
        self._stream.start(message_id)
        if text:
            self.append_to_answer(text)

    def resume_answer(self, message_id: int) -> None:
        """Continues a streaming answer already shown by `show_messages` (it is the last message)."""
        if self._stream.message_id != message_id:
            self.begin_answer(message_id)

    def append_to_answer(self, text: str) -> None:
        """Adds a piece of the streaming answer; it is shown within a frame."""
        self._stream.append(text)

    def add_thought(self, text: str) -> None:
        """Adds a piece of the streaming answer's thought summary (thinking models)."""
        message_id = self._stream.message_id
        if message_id is None or not text:
            return
        self._thoughts.add(message_id, text)
        self._stream.schedule()

    def end_answer(self, message: Message) -> None:
        """Shows the final state of the streaming answer (its status line: stopped, error).

        A large unrendered rest (a burst flushed at the end) is rendered over the
        next steps, so the window never freezes; `answer_id` is None once it is all shown.
        """
        self._document.remember(message)
        self._stream.end(message)

    def render_pending(self) -> None:
        """Shows everything appended so far now, instead of at the next frame (tests, reading the text)."""
        self._stream.render_pending()

    @property
    def answer_id(self) -> int | None:
        """The answer being written into the view, until all of it is shown."""
        return self._stream.message_id

    def toggle_thoughts(self, message_id: int) -> None:
        self._thoughts.toggle(message_id)

    def _on_stream_completed(self, message: Message) -> None:
        self._document.add_status(message)

    # -- Markdown source, for copying -------------------------------------------------------

    def answer_markdown(self, message_id: int) -> str | None:
        """The Markdown source of an answer, as the model wrote it."""
        if self._stream.message_id == message_id:
            return self._stream.source()
        message = self._document.message(message_id)
        if message is None or message.role is not Role.MODEL:
            return None
        return message.text

    def last_answer_markdown(self) -> str | None:
        """The Markdown source of the newest answer in the chat."""
        if self._stream.message_id is not None:
            return self._stream.source()
        for message in reversed(self._document.messages):
            if message.role is Role.MODEL and message.text:
                return message.text
        return None

    def last_code_block(self) -> str | None:
        """The source of the newest code block in the chat's answers."""
        from gemchat.core.markdown import code_blocks

        sources = []
        if self._stream.message_id is not None:
            sources.append(self._stream.source())
        sources.extend(m.text for m in reversed(self._document.messages) if m.role is Role.MODEL)
        for text in sources:
            if "```" in text or "~~~" in text or "    " in text or "\t" in text:
                blocks = code_blocks(text)
                if blocks:
                    return blocks[-1]
        return None

    def message_at(self, position: QPoint) -> tuple[int, Role] | None:
        """The message under a point of the viewport: its id and role."""
        return message_of(self.cursorForPosition(position).block())

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt override)
        menu = self.createStandardContextMenu(event.pos())
        self.pictures.add_actions(menu, event.pos())
        found = self.message_at(event.pos())
        if found is not None and found[1] is Role.MODEL:
            message_id = found[0]
            action = QAction("Copy Markdown", menu)
            action.triggered.connect(lambda: self.copy_text(self.answer_markdown(message_id)))
            menu.addSeparator()
            menu.addAction(action)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(event.globalPos())

    def _copy_code(self, message_id: int, index: int) -> None:
        """The Copy link of a code block: its source, as the model wrote it."""
        from gemchat.core.markdown import code_blocks

        source = self.answer_markdown(message_id)
        blocks = code_blocks(source) if source else []
        if index < len(blocks):
            self.copy_text(blocks[index], "Code copied")

    def createMimeDataFromSelection(self) -> QMimeData:  # noqa: N802 (Qt override)
        """A selection holding typeset formulas copies as plain text, each formula as its source."""
        mime = super().createMimeDataFromSelection()
        if OBJECT not in mime.text():
            return mime
        cursor = self.textCursor()
        sources = formula_sources(self.document(), cursor.selectionStart(), cursor.selectionEnd())
        if any(source is not None for source in sources):
            pieces = mime.text().split(OBJECT)
            if len(pieces) == len(sources) + 1:  # every picture of the selection is in the text, in order
                from PySide6.QtCore import QMimeData

                text = pieces[0] + "".join((source if source is not None else OBJECT) + rest
                                           for source, rest in zip(sources, pieces[1:], strict=True))
                mime = QMimeData()
                mime.setText(text)
        return mime

    def copy_text(self, text: str | None, note: str = "Copied") -> None:
        """Puts `text` on the clipboard and says so for a moment, over the conversation."""
        if text is None:
            return
        QGuiApplication.clipboard().setText(text)
        QToolTip.showText(self.mapToGlobal(self.viewport().geometry().center()), note, self)

    # -- scrolling ----------------------------------------------------------------

    @property
    def following(self) -> bool:
        """Whether the view keeps the newest text in sight as it arrives."""
        return self._scrolling.following

    def scroll_to_bottom(self) -> None:
        self._scrolling.scroll_to_bottom()

    def scroll_to_message(self, message_id: int) -> None:
        """Brings a message's first line to the top of the view (a search hit); stops following."""
        if not self._document.render_down_to(message_id):
            return
        header = header_block_of(self.document(), message_id)
        if header is None:
            return
        cursor = QTextCursor(self.document())
        cursor.setPosition(header.position())
        top = self.document().documentLayout().blockBoundingRect(header).top()
        self._scrolling.hold_at(round(top) - 8)
        self.setTextCursor(cursor)
        self._scrolling.update_jump_button()

    # -- the message row follows the pointer and the focus (`MessageActions`) ----------------

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        super().mouseMoveEvent(event)
        self.message_actions.pointer_moved(event.position().toPoint())

    def viewportEvent(self, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Leave:
            self.message_actions.pointer_left()
        elif event.type() == QEvent.Type.Resize:
            self.column.fit()  # the window, or the scroll bar coming or going: the column is centred anew
        return super().viewportEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt override)
        super().focusInEvent(event)
        self.message_actions.focus_entered()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        super().wheelEvent(event)
        self._scrolling.after_wheel()
        self.user_scrolled.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_End and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.scroll_to_bottom()
            self.user_scrolled.emit()
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._scrolling.after_resize()

    # -- theme ---------------------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.FontChange:  # the text size (`TextZoom`): every format is relative to it
            def change() -> None:
                QTextBrowser.changeEvent(self, event)
                self.column.fit()

            self._scrolling.keep_place(change)
            return
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and is_dark(self.palette()) != self._formats.dark:
            self._restyle_timer.start(0)

    def _on_color_scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        self._restyle_timer.start(0)

    def _restyle(self) -> None:
        """Renders the shown messages again in the current palette's colours."""
        self._stream.complete()
        self._formats.remake()
        follow = self._scrolling.following
        bar = self.verticalScrollBar()
        fraction = bar.value() / bar.maximum() if bar.maximum() else 1.0
        live: dict[int, str] = {}
        if self._stream.message_id is not None:
            live[self._stream.message_id] = self._stream.source()
        self._stream.drop()
        self._formulas.clear()
        self._document.show_again(live)
        self._thoughts.show_all()
        if follow:
            self.scroll_to_bottom()
        else:
            bar.setValue(round(fraction * bar.maximum()))

    # -- resources -------------------------------------------------------

    def loadResource(self, kind: int, name: QUrl | str) -> Any:  # noqa: N802 (Qt override)
        """Nothing is ever fetched or read while showing a chat.

        An empty byte array, not None: for None, QTextDocument falls back to
        reading `file:` URLs from disk itself.
        """
        from PySide6.QtCore import QByteArray

        return QByteArray()

