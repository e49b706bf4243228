"""The main window: the chat list beside the conversation, its header above, the message box's card below.

The window lays its widgets out and answers what the session says happened;
the jobs around it have their own modules: the header (`chat_header`), the
card (`composer_card`), the model chips and picker (`model_choice`), the
conversation and what works on it (`conversation`: the view, the answer being
streamed, sending; made once the window has painted), dialogs (`dialogs`),
attaching files (`attachment_actions`), drafts (`draft_keeper`), the last
question and answer (`last_turn`), the actions and menus (`window_actions`).
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QPalette, QResizeEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QPushButton, QSplitter, QVBoxLayout, QWidget

from gemchat.core.context import chat_tokens
from gemchat.settings import Settings
from gemchat.ui.actions import set_checked_quietly
from gemchat.ui.activity_line import ActivityLine
from gemchat.ui.attachment_actions import AttachmentActions
from gemchat.ui.attachment_tray import AttachmentTray, UploadBar
from gemchat.ui.chat_header import ChatHeader
from gemchat.ui.composer import Composer
from gemchat.ui.composer_card import COLUMN_WIDTH, ComposerCard, ComposerColumn
from gemchat.ui.context_meter import ContextMeter
from gemchat.ui.dialogs import Dialogs
from gemchat.ui.draft_keeper import DraftKeeper
from gemchat.ui.empty_state import EmptyState
from gemchat.ui.keymap import binding
from gemchat.ui.last_turn import LastTurnActions
from gemchat.ui.model_choice import ModelChoice
from gemchat.ui.sidebar import SidebarPanel
from gemchat.ui.sidebar_actions import SidebarActions
from gemchat.ui.text_zoom import TextZoom
from gemchat.ui.theme import apply_theme
from gemchat.ui.window_actions import TOOL_TOGGLED, WindowActions

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from gemchat.core.messages import Chat, Message
    from gemchat.session import ChatSession, Generation
    from gemchat.ui.chat_view import ChatView
    from gemchat.ui.conversation import Conversation
    from gemchat.ui.presenter import AnswerPresenter
    from gemchat.ui.sender import MessageSender
    from gemchat.ui.view_options import ViewOptions

# Dialogs, the session and asyncio are imported where first used: the window is
# shown before any of them is needed (see `attach_session`), and each costs
# start-up time (PySide6 builds every enum of a class the first time the class
# is imported).

APP_NAME = "gemchat"
CLEAR_BUTTON_AFTER_MS = 50
"""The search field's clear button comes this long after the first chat shows (`SearchField`)."""


class MainWindow(QMainWindow):
    """Signals:
        close_requested(): the user asked to quit; the app shuts down, then closes us.
        settings_changed(): a setting was changed from the window.

    Attributes:
        ready: the first chat is shown and the actions work (see `attach_session`).
        text_zoom: the text size of the conversation and the message box (the quick-ask window follows it too).
        quit_asked: close_requested was emitted, for `run_app` to see if that was before it
            listened (the close button or SIGTERM while the chats load).
    """

    close_requested = Signal()
    settings_changed = Signal()

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session: ChatSession | None = None  # until `attach_session`
        self._settings = settings
        self._may_close = False
        self.quit_asked = False
        self.close_requested.connect(self._remember_quit)
        self._sends_waiting: list[str] | None = None  # sent before the first chat opened, sent into it
        self.ready = False
        self.setWindowTitle(APP_NAME)  # the icon comes once the window has painted (`gemchat.app.show_window`)
        self.resize(900, 720)
        self._build_widgets()
        self._lay_out()
        self.text_zoom = TextZoom(settings.text_zoom, parent=self)
        self.text_zoom.follow(self.composer)
        # As wide as the conversation's column will be (`ViewOptions.fit_foot`, once it is made).
        self.foot.set_column_width(None if settings.full_width else round(COLUMN_WIDTH * self.text_zoom.level / 100))
        self._conversation: Conversation | None = None  # `build_conversation`
        self.dialogs = Dialogs(self, settings, self.composer)
        self.attachments = AttachmentActions(self, self.tray, self.composer)
        self.drafts = DraftKeeper(self.composer, parent=self)
        self.last_turn = LastTurnActions(self, self.composer)
        self.window_actions = WindowActions(self)
        self._connect_widgets()
        self._set_tab_order()
        self.composer.setFocus()
        self._made = True

    @property
    def actions_by_name(self) -> dict[str, QAction]:
        """The window's actions, one per keymap entry, by name (made at the first use: `WindowActions`)."""
        return self.window_actions.make()

    def build_conversation(self) -> Conversation:
        """Makes the conversation view and what works on it (once), in the place of the surface shown until then.

        Called after the window's first frame, once the start-up thread has imported their
        modules (`gemchat.app._load_behind_the_window`), or by the first use of any of them
        before that (`view`, `presenter`, ...: a key typed in the message box warms the view up).
        """
        if self._conversation is not None:
            return self._conversation
        from gemchat.ui.conversation import Conversation

        parts = self._conversation = Conversation(self, self._settings, self.composer, self.meter, self.tray,
                                                  self.upload_bar, self.foot, self.drafts, self.settings_changed.emit)
        view = parts.view
        self._conversation_layout.replaceWidget(self._surface, view)
        self.empty_state.stand_in_for(view)
        self._surface.deleteLater()
        self.text_zoom.follow(view)
        parts.options.fit_foot()  # to the column at the text size, which the view has only now
        view.retry_requested.connect(lambda _message_id: self.retry())
        view.edit_requested.connect(self.last_turn.edit_question)
        view.continue_requested.connect(lambda _message_id: self.last_turn.continue_answer())
        parts.presenter.activity_changed.connect(self.activity.show_activity)
        parts.presenter.streaming_changed.connect(self.card.show_streaming)
        parts.presenter.answer_ended.connect(self._on_presenter_answer_ended)
        self.text_zoom.changed.connect(parts.options.text_zoom_changed)
        self._set_tab_order()
        if not self.composer.is_blank():  # typed while the chats loaded
            view.warm_up()
        return parts

    @property
    def view(self) -> ChatView:
        return self.build_conversation().view

    @property
    def presenter(self) -> AnswerPresenter:
        return self.build_conversation().presenter

    @property
    def view_options(self) -> ViewOptions:
        return self.build_conversation().options

    @property
    def message_sender(self) -> MessageSender:
        return self.build_conversation().sender

    def _build_widgets(self) -> None:
        # Where the conversation goes, in its colour, until it is made (`build_conversation`).
        self._surface = QWidget()
        self._surface.setBackgroundRole(QPalette.ColorRole.Base)
        self._surface.setAutoFillBackground(True)
        model_key = binding("choose_model").sequences()[0].toString(QKeySequence.SequenceFormat.NativeText)
        self.header = ChatHeader(model_key)
        self.composer = Composer()
        self.tray = AttachmentTray(self._attachment_path)
        self.card = ComposerCard(self.composer, self.tray, model_key)
        self.send_button, self.stop_button = self.card.send_button, self.card.stop_button
        self.attach_button = self.card.attach_button
        self.model_choice = ModelChoice(self, [self.header.model_chip, self.card.model_chip])
        self.model_choice.show_model(self._settings.model)  # a new chat's, until the chats are loaded
        self.upload_bar = UploadBar()
        self.meter = ContextMeter(self.composer.toPlainText)
        self.activity = ActivityLine()
        self.editing_banner = QLabel("Editing your question: Enter sends it as a new version, Esc cancels.")
        self.editing_banner.setObjectName("editingBanner")
        self.editing_banner.setVisible(False)
        self.empty_state = EmptyState(instead_of=self._surface)
        self.empty_state.setVisible(False)
        self.foot = ComposerColumn([self.activity, self.editing_banner, self.upload_bar], self.card, [self.meter])
        self.sidebar_panel = SidebarPanel()
        self.sidebar = self.sidebar_panel.chats
        self.sidebar_actions = SidebarActions(
            self, self.sidebar_panel, tell=self.statusBar().showMessage,
            shown_changed=lambda shown: self.window_actions.show_checked("toggle_sidebar", shown),
            focus_elsewhere=self.composer.setFocus)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setFlat(True)
        self.undo_button.setVisible(False)
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.timeout.connect(self._hide_undo)

    def _lay_out(self) -> None:
        layout = QVBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self._surface, 1)
        self._conversation_layout = layout
        layout.addWidget(self.empty_state, 1)
        layout.addWidget(self.foot)
        self.empty_state.carry(self.foot, home=layout)  # in the middle of a new, empty chat
        conversation = QWidget()
        conversation.setLayout(layout)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.sidebar_panel)
        self.splitter.addWidget(conversation)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([230, 670])
        self.setCentralWidget(self.splitter)
        self.statusBar().addPermanentWidget(self.undo_button)

    def _set_tab_order(self) -> None:
        """Tab goes as the eye does (README's *Accessibility*); hidden widgets are passed over.

        The attached files' ✕ buttons follow Send; they come and go, so the order is set again with them.
        The starters of an empty chat stand under its message box, and come after it.
        """
        panel = self.sidebar_panel
        view = self._conversation.view if self._conversation is not None else None
        conversation = [view, *view.message_actions.focus_chain(), view.jump_button] if view is not None else []
        order = [panel.new_chat, panel.filter, self.sidebar, *self.header.focus_chain(), *conversation,
                 *self.card.focus_chain(), self.upload_bar.cancel, *self.empty_state.starters, self.undo_button]
        for before, after in pairwise(order):
            QWidget.setTabOrder(before, after)

    def _connect_widgets(self) -> None:
        self.composer.submitted.connect(self._on_composer_submitted)
        self.composer.emptied.connect(self._on_composer_emptied)
        self.empty_state.starter_chosen.connect(lambda question: self.composer.put_text(question, focus=True))
        self.composer.edited.connect(self._on_composer_edited)
        self.composer.edit_last_requested.connect(self.last_turn.edit_last_question)
        self.composer.editing_changed.connect(self.editing_banner.setVisible)
        self.composer.emptied.connect(lambda _blank: self._update_send_button())
        self.composer.refused.connect(lambda why: self.statusBar().showMessage(why, 10000))
        self.composer.files_pasted.connect(self.attachments.attach_paths)
        self.composer.image_pasted.connect(self.attachments.attach_image)
        self.attach_button.clicked.connect(self.attachments.choose)
        self.tray.changed.connect(self._on_tray_changed)
        self.upload_bar.cancel_requested.connect(self.stop)
        self.send_button.clicked.connect(self.composer.submit)
        self.stop_button.clicked.connect(self.stop)
        self.dialogs.settings_accepted.connect(self._on_dialogs_settings_accepted)
        self.undo_button.clicked.connect(self.undo_delete)
        self.header.title_finished.connect(self.composer.setFocus)
        self.header.tool_off_requested.connect(lambda tool: self.actions_by_name[tool].setChecked(False))
        self.model_choice.model_changed.connect(lambda _model: self.meter.refresh_limit())

    def attach_session(self, session: ChatSession) -> None:
        """Connects the window to the chats; until then it shows, and takes typing, but sends nothing.

        The window is built and shown first, before asyncio, the database and the
        session are loaded, so it appears sooner. Its actions wait for the first
        chat to be shown (`ready`); a message sent before that is sent into it.
        """
        self._session = session
        for part in (self.dialogs, self.attachments, self.message_sender, self.last_turn, self.model_choice):
            part.attach_session(session)
        self.meter.connect_model(session.count_tokens, session.input_token_limit, session.tasks)
        self.view.attachment_path = session.attachment_path
        session.message_focused.connect(self.view.scroll_to_message)
        session.unsent.connect(self._on_session_unsent)
        session.unsent_attachments.connect(self.tray.add)
        session.chat_opened.connect(self._on_session_chat_opened)
        session.chat_changed.connect(self._on_session_chat_changed)
        session.message_added.connect(self._on_session_message_added)
        session.generation_started.connect(self.presenter.begin)
        session.problem.connect(lambda text: self.statusBar().showMessage(text, 10000))
        session.chats_listed.connect(self._on_session_chats_listed)
        self.header.rename_requested.connect(session.rename_chat)
        session.chat_deleted.connect(self._on_session_chat_deleted)
        self.view.version_requested.connect(session.switch_version)
        self.sidebar_actions.attach_session(session, self.dialogs.open_search)
        # What was typed before now stays, and is counted and kept as a draft from here on.
        self.composer.textChanged.connect(self.meter.draft_changed)
        if self.drafts.attach_session(session):
            self.meter.draft_changed()
            self.drafts.text_changed()

    def _attachment_path(self, sha256: str) -> Path | None:
        return self._session.attachment_path(sha256) if self._session is not None else None

    @property
    def session(self) -> ChatSession:
        assert self._session is not None, "the window's actions wait for the session"
        return self._session

    @property
    def settings(self) -> Settings:
        return self._settings

    # -- what the user asks ------------------------------------------------------------

    def stop(self) -> None:
        if self.session.stop():
            self.presenter.flush()

    def retry(self) -> None:
        if not self.session.retry():
            self.statusBar().showMessage("Nothing to retry.", 3000)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if getattr(self, "_made", False):  # a resize may come before `__init__` has made what `place` moves
            self.sidebar_actions.place()

    def delete_current_chat(self) -> None:
        chat = self.session.chat
        if chat is not None:
            self.session.delete_chat(chat.id)

    def undo_delete(self) -> None:
        if self.session.undo_delete():
            self._hide_undo()
            self.statusBar().showMessage("Chat restored.", 3000)

    def _on_composer_emptied(self, blank: bool) -> None:
        # A question is coming, then its answer. Typed before the view is made, the view warms up when it is
        # (`build_conversation`): made here, its modules would be imported on this thread while the start-up
        # thread imports others (`gemchat.ui.chat_view.markdown_warm_up` says why that is avoided).
        if not blank and self._conversation is not None:
            self.view.warm_up()

    def _on_composer_submitted(self, text: str) -> None:
        if not self.ready:
            # Enter in the first instant after start: sent into the chat that opens, in order.
            self._sends_waiting = (self._sends_waiting or []) + [text]
            return
        self.message_sender.send(text)

    def _on_composer_edited(self, message_id: int, text: str) -> None:
        self.view.scroll_to_bottom()
        self.session.edit_question(message_id, text)

    def _on_tray_changed(self) -> None:
        self._set_tab_order()
        self.composer.allow_blank_submit = bool(self.tray.attachments())
        self.meter.set_pending_files(len(self.tray.attachments()))
        self._update_send_button()

    def _update_send_button(self) -> None:
        self.send_button.setEnabled(not self.composer.is_blank() or bool(self.tray.attachments()))

    def _on_dialogs_settings_accepted(self) -> None:
        self.apply_settings()
        self.model_choice.show_model(self.session.current_model())  # a new chat's model is Settings' own
        self.settings_changed.emit()

    def apply_settings(self) -> None:
        """Makes the window follow the settings object after it changed."""
        if self._conversation is not None:  # else it is made with them
            self.presenter.set_typing(self._settings.typing_effect, self._settings.typing_speed)
        self.window_actions.show_checked("typing_effect", self._settings.typing_effect)
        apply_theme(self._settings.theme)
        self.text_zoom.set_level(self._settings.text_zoom)

    # -- what the session says -----------------------------------------------------------

    def _on_session_chat_opened(self, chat: Chat | None, messages: list[Message],
                                generation: Generation | None) -> None:
        self.empty_state.show_instead(chat is None and not messages)
        self._set_tab_order()  # the message box may have moved (to the middle of an empty chat, or back)
        self.presenter.detach()
        self.last_turn.shown(messages)
        self.composer.cancel_edit()
        self.drafts.show_chat(chat.id if chat else None)
        live = {generation.message_id: generation.text} if generation else {}
        self.view.show_messages(messages, live)
        for tool in ("google_search", "code_execution", "url_context"):
            set_checked_quietly(self.actions_by_name[tool], self.session.tool(tool))
        self.meter.set_history_tokens(chat_tokens(messages))
        self.meter.refresh_limit()
        self._show_chat(chat)
        self.sidebar.select_chat(chat.id if chat else None)
        if generation is not None:
            self.presenter.resume(generation)
        self.composer.setFocus()
        if not self.ready:
            # The first chat is shown: from now on a key acts on it. Before, Ctrl+G or Ctrl+N
            # would have been undone by this first opening, so the actions waited for it.
            self.ready = True
            for action in self.actions_by_name.values():
                action.setEnabled(True)
            # A moment after the first chat, once it is painted: not in that turn (a 0 ms call would run right
            # after its paint, making one long stall), nor before the window's first paint, nor in the first key.
            QTimer.singleShot(CLEAR_BUTTON_AFTER_MS, self.sidebar_panel.filter.give_clear_button)
        waiting, self._sends_waiting = self._sends_waiting, None
        for text in waiting or ():
            self._on_composer_submitted(text)

    def _on_session_chat_changed(self, chat: Chat) -> None:
        current = self.session.chat
        if current is not None and current.id == chat.id:
            if chat.model != self.header.model_chip.model:
                self.meter.refresh_limit()
            self._show_chat(chat)

    def _on_session_message_added(self, message: Message) -> None:
        if self.empty_state.isVisible():
            self.empty_state.show_instead(False)
            self._set_tab_order()
        self.drafts.chat_id = message.chat_id  # a new chat was just saved with its first message
        self.last_turn.added(message)
        self.view.add_message(message)
        self.meter.set_history_tokens(chat_tokens(self.last_turn.messages))

    def _on_presenter_answer_ended(self, message: Message) -> None:
        self.last_turn.ended(message)
        self.meter.set_history_tokens(chat_tokens(self.last_turn.messages))

    def _on_session_unsent(self, text: str) -> None:
        # The message could not be saved: it goes back where it was typed rather than being lost.
        if self.composer.document().isEmpty():
            self.composer.put_text(text)

    def _on_session_chat_deleted(self, _chat_id: int, title: str) -> None:
        self.statusBar().showMessage(f"Deleted “{title or 'New chat'}”.")
        self.undo_button.setVisible(True)
        self._undo_timer.start(int(self.session.undo_seconds * 1000))

    def _hide_undo(self) -> None:
        self.undo_button.setVisible(False)
        self.statusBar().clearMessage()

    def _on_session_chats_listed(self, chats: list[Chat]) -> None:
        current = self.session.chat
        self.sidebar.set_chats(chats, current.id if current else None, self.session.folders)

    def _show_chat(self, chat: Chat | None) -> None:
        """The open chat's title (the window's and the header's), model and tools that are on."""
        title = chat.title if chat is not None and chat.title else "New chat"
        self.setWindowTitle(f"{title} — {APP_NAME}")
        self.header.show_chat(chat)
        self.model_choice.show_model(self.session.current_model())
        self.show_tools()

    def show_tools(self) -> None:
        self.header.show_tools({tool for tool, _on in TOOL_TOGGLED if self.session.tool(tool)})

    # -- the window itself ---------------------------------------------------------------

    def allow_close(self) -> None:
        self._may_close = True

    def _remember_quit(self) -> None:
        self.quit_asked = True

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self._may_close:
            event.accept()
            return
        event.ignore()
        self.drafts.save_pending()
        self.meter.cancel()
        self.close_requested.emit()
