"""The quick-ask window: a small prompt above every other window, answered in place.

`gemchat --quick` shows it; a desktop shortcut bound to that command makes it a
key away (the desktop owns global keys, so gemchat registers none). Each
question starts a chat of its own, saved and listed like any other, while the
main window keeps showing the chat it showed; follow-ups stay in that chat
until the window is hidden. "Open in gemchat" continues it in the main window.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QCursor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gemchat.ui.activity_line import ActivityLine
from gemchat.ui.attachment_tray import UploadBar
from gemchat.ui.chat_view import ChatView
from gemchat.ui.composer import Composer
from gemchat.ui.keymap import QUICK_KEYMAP, binding
from gemchat.ui.presenter import AnswerPresenter

if TYPE_CHECKING:
    from gemchat.core.messages import Message
    from gemchat.session import ChatSession
    from gemchat.settings import Settings
    from gemchat.ui.text_zoom import TextZoom

WIDTH = 640
ANSWER_HEIGHT = 440  # the whole window once an answer shows; before, only the prompt row
NOT_SENT = "Not sent: gemchat could not save the question (the main window says why). It is still in the box."


class QuickAskWindow(QWidget):
    """Signals:
        shown_in_main(int): the chat (its id) is now open in the main window, which should come forward.
    """

    shown_in_main = Signal(int)

    def __init__(self, session: ChatSession, settings: Settings, text_zoom: TextZoom,
                 parent: QWidget | None = None) -> None:
        """`text_zoom` is the main window's: both windows show text at one size; the icon is the app's."""
        super().__init__(parent, Qt.WindowType.Window | Qt.WindowType.WindowStaysOnTopHint)
        self._session = session
        self._text_zoom = text_zoom
        self.chat_id: int | None = None  # the chat the questions go to; None until the first is saved
        self._asking = False
        self.setWindowTitle("Quick ask — gemchat")
        self.setAccessibleName("Quick ask")
        self.composer = Composer()
        open_keys = binding("open_in_main", QUICK_KEYMAP).sequences()[0].toString(
            QKeySequence.SequenceFormat.NativeText)
        self.composer.setPlaceholderText("Ask Gemini  (Enter to send, Esc to hide)")
        self.composer.setAccessibleName("Quick question")
        self.composer.keep_lines(3, exact=True)
        self.view = ChatView()
        self.view.attachment_path = session.attachment_path
        self.view.setVisible(False)
        self.activity = ActivityLine()
        self.upload_bar = UploadBar()  # quick questions carry no files; the presenter wants one all the same
        self.presenter = AnswerPresenter(self.view, self.upload_bar, settings.typing_speed, settings.typing_effect,
                                         parent=self)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the answer; what arrived is kept")
        self.stop_button.setVisible(False)
        self.open_button = QPushButton("Open in gemchat")
        self.open_button.setToolTip(f"Continue this chat in the main window ({open_keys})")
        self.open_button.setEnabled(False)
        self.hint = QLabel(f"Esc hides · {open_keys} opens in gemchat · the chat is saved")
        self.hint.setObjectName("activity")
        self._lay_out()
        text_zoom.follow(self.composer)
        text_zoom.follow(self.view)
        self.actions_by_name = self._build_actions()
        self.composer.submitted.connect(self._on_composer_submitted)
        self.composer.emptied.connect(self._on_composer_emptied)
        self.stop_button.clicked.connect(self.stop)
        self.open_button.clicked.connect(lambda: self.open_in_main())
        self.presenter.activity_changed.connect(self.activity.show_activity)
        self.presenter.streaming_changed.connect(self.stop_button.setVisible)
        self.presenter.answer_ended.connect(self._on_presenter_answer_ended)
        # Retry and Continue act on the open chat: they go on in the main window.
        self.view.retry_requested.connect(lambda _id: self.open_in_main(then=session.retry))
        self.view.continue_requested.connect(lambda _id: self.open_in_main(then=session.continue_answer))
        self.resize(WIDTH, self.sizeHint().height())

    def _lay_out(self) -> None:
        buttons = QHBoxLayout()
        buttons.addWidget(self.hint, 1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.addWidget(self.composer)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.activity)
        layout.addWidget(self.upload_bar)
        layout.addLayout(buttons)

    def _build_actions(self) -> dict[str, QAction]:
        slots: dict[str, Callable[[], object]] = {
            "hide": self.hide, "open_in_main": self.open_in_main, "new_question": self.start_over, "stop": self.stop,
            "zoom_in": self._text_zoom.zoom_in, "zoom_out": self._text_zoom.zoom_out, "zoom_reset": self._text_zoom.reset,
        }
        actions = {}
        for entry in QUICK_KEYMAP:
            action = QAction(entry.label, self)
            action.setShortcuts(entry.sequences())
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _checked=False, slot=slots[entry.name]: slot())
            self.addAction(action)
            actions[entry.name] = action
        return actions

    # -- showing it ---------------------------------------------------------------------

    def summon(self, prompt: str | None = None) -> None:
        """Comes to the front with the cursor in the box; a fresh start if it was hidden.

        `prompt` is asked at once (`gemchat --quick "PROMPT"`).
        """
        if not self.isVisible():
            self.start_over()
            self._place()
        self.show()
        self.raise_()
        self.activateWindow()
        self.composer.setFocus()
        if prompt and prompt.strip():
            self.composer.setPlainText(prompt)
            self.composer.submit()

    def start_over(self) -> None:
        """Back to an empty prompt: the next question starts a new chat (an answer still coming is kept)."""
        self.presenter.detach()
        self.chat_id = None
        self.view.show_messages([])
        self.view.setVisible(False)
        self.open_button.setEnabled(False)
        self.activity.show_activity(None)
        self.composer.clear()
        self.composer.setFocus()
        self.resize(WIDTH, self.minimumSizeHint().height())

    def _place(self) -> None:
        """Centred near the top of the screen the pointer is on, as launchers are."""
        screen = QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        self.move(QPoint(area.x() + (area.width() - WIDTH) // 2, area.y() + area.height() // 5))

    # -- asking -------------------------------------------------------------------------

    def _on_composer_emptied(self, blank: bool) -> None:
        if not blank:
            self.view.warm_up()  # Markdown and the lexers, on a thread, while the question is typed

    def _on_composer_submitted(self, text: str) -> None:
        self._session.tasks.start(self._ask(text))

    async def _ask(self, text: str) -> None:
        asked = await self._session.ask_aside(self.chat_id, text)
        if asked is None:
            if self.composer.document().isEmpty():  # it goes back where it was typed
                self.composer.setPlainText(text)
            self.activity.show_activity(NOT_SENT)
            return
        question, generation = asked
        if self.chat_id != question.chat_id:
            self.chat_id = question.chat_id
            self.view.show_messages([])
        if not self.view.isVisible():
            self.view.setVisible(True)
            if self.height() < ANSWER_HEIGHT:
                self.resize(self.width(), ANSWER_HEIGHT)
        self.open_button.setEnabled(True)
        self.view.add_message(question)
        self.presenter.begin(generation)

    def stop(self) -> None:
        if self.chat_id is not None and self._session.stop_in(self.chat_id):
            self.presenter.flush()

    def _on_presenter_answer_ended(self, _message: Message) -> None:
        if self.isActiveWindow():
            self.composer.setFocus()

    def open_in_main(self, then: Callable[[], object] | None = None) -> None:
        """The chat goes on in the main window (hidden here); `then` runs once it is open there."""
        if self.chat_id is None:
            return
        self._session.tasks.start(self._open_in_main(self.chat_id, then))

    async def _open_in_main(self, chat_id: int, then: Callable[[], object] | None) -> None:
        await self._session.open_chat(chat_id)
        self.presenter.detach()
        self.hide()
        self.shown_in_main.emit(chat_id)
        if then is not None:
            then()
