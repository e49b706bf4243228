"""The main window: conversation above, message box below, menus from the keymap."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent, QIcon, QImage
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QPushButton, QSplitter, QVBoxLayout, QWidget

from gemchat.core.context import chat_tokens
from gemchat.core.messages import Attachment, Chat, Message, Role
from gemchat.settings import Settings
from gemchat.ui.attachment_tray import AttachmentTray, UploadBar
from gemchat.ui.chat_view import ChatView
from gemchat.ui.composer import Composer
from gemchat.ui.context_meter import ContextMeter
from gemchat.ui.keymap import KEYMAP
from gemchat.ui.sidebar import Sidebar
from gemchat.ui.theme import apply_theme
from gemchat.ui.typing import TypingEffect

if TYPE_CHECKING:
    from gemchat.session import ChatSession, Generation
    from gemchat.ui.settings_dialog import SettingsDialog
    from gemchat.ui.search_dialog import SearchDialog

# Dialogs, the session and asyncio are imported where first used: the window is
# shown before any of them is needed (see `attach_session`), and each costs
# start-up time (PySide6 builds every enum of a class the first time the class
# is imported).

APP_NAME = "gemchat"
DRAFT_SAVE_MS = 400


def safe_file_name(title: str) -> str:
    """A chat title as a file name on every system."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", title).strip()[:80] or "chat"


class MainWindow(QMainWindow):
    """Signals:
        close_requested(): the user asked to quit; the app shuts down, then closes us.
        api_key_entered(str): the user pasted a key in the key dialog.
        settings_changed(): a setting was changed from the window.
    """

    close_requested = Signal()
    api_key_entered = Signal(str)
    forget_key_requested = Signal()
    settings_changed = Signal()

    def __init__(
        self,
        settings: Settings,
        icon: QIcon | None = None,
        key_status: Callable[[], str] = lambda: "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._session: ChatSession | None = None  # until `attach_session`
        self._settings = settings
        self.key_status = key_status  # words for Settings: where the key comes from (set by the app)
        self._may_close = False
        # Set by the first close_requested, for `run_app` to see if it was emitted before it listened
        # (the close button or SIGTERM while the chats load).
        self.quit_asked = False
        self.close_requested.connect(self._remember_quit)
        self._settings_dialog: SettingsDialog | None = None
        self._attached: Generation | None = None
        self._messages: list[Message] = []  # the open chat's shown branch, as last told by the session
        self._search_dialog: SearchDialog | None = None
        self._draft_chat: int | None = None  # the chat the message box's text belongs to
        self._typed_early = ""  # typed before `attach_session`, kept when the first chat opens
        self._sends_waiting: list[str] | None = None  # sent before it, sent when the first chat opens
        self.ready = False  # the first chat is shown and the actions work (see `attach_session`)
        self._draft_timer = QTimer(self)
        self._draft_timer.setSingleShot(True)
        self._draft_timer.setInterval(DRAFT_SAVE_MS)
        self._draft_timer.timeout.connect(self._save_draft)
        self.setWindowTitle(APP_NAME)
        if icon is not None:
            self.setWindowIcon(icon)
        self.resize(900, 720)

        self.view = ChatView()
        self.composer = Composer()
        self.composer.setMaximumHeight(160)
        self.send_button = QPushButton("Send")
        self.send_button.setEnabled(False)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setVisible(False)
        self.attach_button = QPushButton("Attach")
        self.attach_button.setToolTip("Attach images, PDFs, text or code, audio or video (Ctrl+U); "
                                      "you can also drop or paste them")
        self.tray = AttachmentTray(self._attachment_path)
        self.upload_bar = UploadBar()
        self.meter = ContextMeter(self.composer.toPlainText, self._count_tokens, self._input_token_limit)
        self.setAcceptDrops(True)
        self.activity = QLabel()
        self.activity.setObjectName("activity")
        self.activity.setVisible(False)
        self.editing_banner = QLabel("Editing your question: Enter sends it as a new version, Esc cancels.")
        self.editing_banner.setObjectName("editingBanner")
        self.editing_banner.setVisible(False)
        self.typing = TypingEffect(settings.typing_speed, settings.typing_effect, parent=self)
        self._dots = 0
        self._thinking_timer = QTimer(self)
        self._thinking_timer.setInterval(400)
        self._thinking_timer.timeout.connect(self._on_thinking_timer_timeout)

        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.attach_button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.composer, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout()
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.activity)
        layout.addWidget(self.editing_banner)
        layout.addWidget(self.upload_bar)
        layout.addWidget(self.tray)
        layout.addLayout(row)
        layout.addWidget(self.meter)
        conversation = QWidget()
        conversation.setLayout(layout)
        self.sidebar = Sidebar()
        self.splitter = QSplitter()
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(conversation)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([230, 670])
        self.setCentralWidget(self.splitter)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setFlat(True)
        self.undo_button.setVisible(False)
        self.statusBar().addPermanentWidget(self.undo_button)
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.timeout.connect(self._hide_undo)

        self.actions_by_name = self._build_actions()
        self._build_menus()

        self.composer.submitted.connect(self._on_composer_submitted)
        self.composer.edited.connect(self._on_composer_edited)
        self.composer.edit_last_requested.connect(self.edit_last_question)
        self.composer.editing_changed.connect(self.editing_banner.setVisible)
        self.composer.emptied.connect(lambda _blank: self._update_send_button())
        self.composer.files_pasted.connect(self.attach_paths)
        self.composer.image_pasted.connect(self.attach_image)
        self.attach_button.clicked.connect(self.choose_attachments)
        self.tray.changed.connect(self._on_tray_changed)
        self.upload_bar.cancel_requested.connect(self.stop)
        self.send_button.clicked.connect(self.composer.submit)
        self.stop_button.clicked.connect(self.stop)
        self.view.retry_requested.connect(self._on_view_retry_requested)
        self.view.continue_requested.connect(lambda _message_id: self.continue_answer())
        self.view.user_scrolled.connect(self.typing.flush)
        self.typing.revealed.connect(self._on_typing_revealed)
        self.undo_button.clicked.connect(self.undo_delete)
        self.composer.setFocus()

    def attach_session(self, session: ChatSession) -> None:
        """Connects the window to the chats; until then it shows, and takes typing, but sends nothing.

        The window is built and shown first, before asyncio, the database and the
        session are loaded, so it appears sooner. Its actions wait for the first
        chat to be shown (`ready`); a message sent before that is sent into it.
        """
        self._session = session
        self.view.attachment_path = session.attachment_path
        session.message_focused.connect(self._on_session_message_focused)
        session.unsent_attachments.connect(self.tray.add)
        session.chat_opened.connect(self._on_session_chat_opened)
        session.chat_changed.connect(self._on_session_chat_changed)
        session.message_added.connect(self._on_session_message_added)
        session.generation_started.connect(self._on_session_generation_started)
        session.problem.connect(lambda text: self.statusBar().showMessage(text, 10000))
        session.chats_listed.connect(self._on_session_chats_listed)
        session.chat_deleted.connect(self._on_session_chat_deleted)
        self.view.version_requested.connect(session.switch_version)
        self.sidebar.chat_selected.connect(lambda chat_id: session.tasks.start(session.open_chat(chat_id)))
        self.sidebar.rename_requested.connect(session.rename_chat)
        self.sidebar.delete_requested.connect(session.delete_chat)
        # What was typed before now stays, and is counted and kept as a draft from here on.
        self._typed_early = self.composer.toPlainText()
        self.composer.textChanged.connect(self._on_composer_text_changed)
        if self._typed_early:
            self._on_composer_text_changed()

    def _attachment_path(self, sha256: str) -> Path | None:
        return self._session.attachment_path(sha256) if self._session is not None else None

    async def _count_tokens(self, text: str) -> int | None:
        return await self._session.count_tokens(text) if self._session is not None else None

    async def _input_token_limit(self) -> int | None:
        return await self._session.input_token_limit() if self._session is not None else None

    # -- actions -----------------------------------------------------------------

    def _build_actions(self) -> dict[str, QAction]:
        slots: dict[str, Callable[[], object]] = {
            "new_chat": self.new_chat,
            "quit": self.close,
            "stop": self.stop,
            "retry": self.retry,
            "focus_composer": self.composer.setFocus,
            "api_key": self.ask_api_key,
            "settings": self.open_settings,
            "typing_effect": lambda: None,
            "shortcuts": self.show_shortcuts,
            "rename_chat": self.sidebar.rename_current,
            "delete_chat": self.delete_current_chat,
            "undo_delete": self.undo_delete,
            "next_chat": lambda: self._session.switch_by(1),
            "previous_chat": lambda: self._session.switch_by(-1),
            **{f"chat_{n}": (lambda _checked=False, n=n: self._session.switch_to(n - 1)) for n in range(1, 10)},
            "search": self.open_search,
            "copy_last_answer": self.copy_last_answer,
            "copy_last_code": self.copy_last_code_block,
            "continue_answer": self.continue_answer,
            "edit_last_question": self.edit_last_question,
            "previous_version": lambda: self.switch_last_answer_version(-1),
            "next_version": lambda: self.switch_last_answer_version(1),
            "chat_settings": self.open_chat_settings,
            "export_chat": lambda: self.export_chats(current_only=True),
            "export_all": lambda: self.export_chats(current_only=False),
            "import_chats": self.import_chats,
            "attach_files": self.choose_attachments,
            "google_search": lambda: None,
        }
        actions: dict[str, QAction] = {}
        for entry in KEYMAP:
            action = QAction(entry.label, self)
            action.setShortcuts(entry.sequences())
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slots[entry.name])
            action.setEnabled(False)  # until the first chat is shown
            self.addAction(action)
            actions[entry.name] = action
        typing = actions["typing_effect"]
        typing.setCheckable(True)
        typing.setChecked(self._settings.typing_effect)
        typing.toggled.connect(self._on_typing_effect_toggled)
        search = actions["google_search"]
        search.setCheckable(True)
        search.setToolTip("Answers in this chat search Google and cite their sources")
        search.toggled.connect(self._on_google_search_toggled)
        return actions

    def _build_menus(self) -> None:
        bar = self.menuBar()
        menus = {
            "&File": ("new_chat", "search", None, "export_chat", "export_all", "import_chats", None,
                      "settings", "api_key", None, "quit"),
            "&Chat": ("stop", "retry", "continue_answer", "edit_last_question", "previous_version",
                      "next_version", None, "attach_files", "google_search", None, "copy_last_answer", "copy_last_code", "focus_composer", None,
                      "chat_settings", "rename_chat", "delete_chat", "undo_delete", None, "next_chat",
                      "previous_chat"),
            "&View": ("typing_effect",),
            "&Help": ("shortcuts",),
        }
        for title, names in menus.items():
            menu = bar.addMenu(title)
            for name in names:
                if name is None:
                    menu.addSeparator()
                else:
                    menu.addAction(self.actions_by_name[name])

    def new_chat(self) -> None:
        self._session.tasks.start(self._session.new_chat())

    def stop(self) -> None:
        if self._session.stop():
            self.typing.flush()

    def retry(self) -> None:
        if not self._session.retry():
            self.statusBar().showMessage("Nothing to retry.", 3000)

    # -- messages --------------------------------------------------------------------

    def _last(self, role: Role) -> Message | None:
        return next((m for m in reversed(self._messages) if m.role is role), None)

    def copy_last_answer(self) -> None:
        from PySide6.QtGui import QGuiApplication

        answer = self._last(Role.MODEL)
        if answer is None or not answer.text:
            self.statusBar().showMessage("No answer to copy yet.", 3000)
            return
        QGuiApplication.clipboard().setText(answer.text)
        self.statusBar().showMessage("Copied the last answer as Markdown.", 3000)

    def copy_last_code_block(self) -> None:
        from PySide6.QtGui import QGuiApplication

        from gemchat.core.code_blocks import code_blocks

        blocks = [b for m in reversed(self._messages) if m.role is Role.MODEL for b in reversed(code_blocks(m.text))]
        if not blocks:
            self.statusBar().showMessage("No code block in the answers yet.", 3000)
            return
        QGuiApplication.clipboard().setText(blocks[0])
        self.statusBar().showMessage("Copied the last code block.", 3000)

    def continue_answer(self) -> None:
        if self._session.is_generating():
            self.statusBar().showMessage("Gemini is still answering.", 3000)
        else:
            self._session.continue_answer()

    def edit_last_question(self) -> None:
        question = self._last(Role.USER)
        if question is None:
            self.statusBar().showMessage("No question to edit yet.", 3000)
            return
        self.composer.edit(question.id, question.text)

    def switch_last_answer_version(self, step: int) -> None:
        answer = self._last(Role.MODEL)
        if answer is None or not 1 <= answer.version + step <= answer.versions:
            self.statusBar().showMessage("No other version of the last answer.", 3000)
            return
        self._session.switch_version(answer.id, step)

    def _on_composer_edited(self, message_id: int, text: str) -> None:
        self.view.scroll_to_bottom()
        self._session.edit_question(message_id, text)

    # -- search, export, import ---------------------------------------------------------

    def open_search(self) -> None:
        if self._search_dialog is not None:
            self._search_dialog.raise_()
            self._search_dialog.activateWindow()
            return
        from gemchat.ui.search_dialog import SearchDialog

        dialog = SearchDialog(self._session.search, self._session.tasks.start, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.hit_chosen.connect(self._session.open_hit)
        dialog.finished.connect(self._on_search_dialog_finished)
        self._search_dialog = dialog
        dialog.open()
        dialog.query.setFocus()

    def _on_search_dialog_finished(self) -> None:
        self._search_dialog = None
        self.composer.setFocus()

    def _on_session_message_focused(self, message_id: int) -> None:
        self.view.scroll_to_message(message_id)

    def export_chats(self, current_only: bool) -> None:
        chat = self._session.chat
        if current_only and chat is None:
            self.statusBar().showMessage("This chat has no messages to export yet.", 3000)
            return
        from PySide6.QtWidgets import QFileDialog

        name = f"{safe_file_name(chat.title) if current_only and chat else 'gemchat-chats'}.md"
        dialog = QFileDialog(self, "Export chat" if current_only else "Export all chats",
                             str(Path.home() / name), "Markdown (*.md);;JSON (*.json)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        chat_id = chat.id if current_only and chat else None
        dialog.fileSelected.connect(lambda path: self._session.tasks.start(self._export(path, chat_id)))
        dialog.open()

    async def _export(self, path: str, chat_id: int | None) -> None:
        markdown = not path.lower().endswith(".json")
        try:
            await self._session.export_to(path, markdown, chat_id)
        except (OSError, LookupError) as exc:
            self.statusBar().showMessage(f"Export failed: {exc}", 10000)
        else:
            self.statusBar().showMessage(f"Exported to {path}.", 5000)

    def import_chats(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self, "Import chats", str(Path.home()), "gemchat export (*.json)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda path: self._session.tasks.start(self._import(path)))
        dialog.open()

    async def _import(self, path: str) -> None:
        from gemchat.storage.errors import ImportFormatError

        try:
            count = await self._session.import_from(path)
        except (OSError, UnicodeDecodeError, ImportFormatError) as exc:
            self.statusBar().showMessage(f"Nothing was imported from {Path(path).name}: {exc}", 15000)
        else:
            self.statusBar().showMessage(f"Imported {count} chat{'s' if count != 1 else ''}.", 5000)

    def open_chat_settings(self) -> None:
        chat = self._session.chat
        if chat is None:
            self.statusBar().showMessage("Send a first message; new chats use the defaults from Settings.", 5000)
            return
        from gemchat.ui.chat_options_dialog import ChatOptionsDialog

        dialog = ChatOptionsDialog(chat, self._session.list_models, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._session.set_chat_options(*dialog.values()))
        dialog.open()

    def delete_current_chat(self) -> None:
        chat = self._session.chat
        if chat is not None:
            self._session.delete_chat(chat.id)

    def undo_delete(self) -> None:
        if self._session.undo_delete():
            self._hide_undo()
            self.statusBar().showMessage("Chat restored.", 3000)

    def _on_session_chat_deleted(self, _chat_id: int, title: str) -> None:
        self.statusBar().showMessage(f"Deleted “{title or 'New chat'}”.")
        self.undo_button.setVisible(True)
        self._undo_timer.start(int(self._session.undo_seconds * 1000))

    def _hide_undo(self) -> None:
        self.undo_button.setVisible(False)
        self.statusBar().clearMessage()

    def _on_session_chats_listed(self, chats: list[Chat]) -> None:
        current = self._session.chat
        self.sidebar.set_chats(chats, current.id if current else None)

    def open_settings(self) -> None:
        """Non-blocking (`open`, not `exec`): a nested event loop inside a running
        asyncio task would stall every other task until the dialog closes."""
        if self._settings_dialog is not None:
            self._settings_dialog.raise_()
            return
        from gemchat.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self._settings, self.key_status(), self._session.list_models, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.change_key_requested.connect(self.ask_api_key)
        dialog.forget_key_requested.connect(self.forget_key_requested)
        dialog.forget_key_requested.connect(self._refresh_key_label)
        self.api_key_entered.connect(self._refresh_key_label)
        dialog.accepted.connect(lambda: self._on_settings_accepted(dialog))
        dialog.finished.connect(self._on_settings_dialog_finished)
        self._settings_dialog = dialog
        dialog.open()

    def _on_settings_accepted(self, dialog: SettingsDialog) -> None:
        dialog.apply_to(self._settings)
        self.apply_settings()
        self.settings_changed.emit()

    def _on_settings_dialog_finished(self) -> None:
        dialog, self._settings_dialog = self._settings_dialog, None
        if dialog is not None:
            self.api_key_entered.disconnect(self._refresh_key_label)

    def _refresh_key_label(self, *_: object) -> None:
        if self._settings_dialog is not None:
            self._settings_dialog.key_label.setText(self.key_status())

    @property
    def settings(self) -> Settings:
        return self._settings

    def apply_settings(self) -> None:
        """Makes the window follow the settings object after it changed."""
        self.typing.enabled = self._settings.typing_effect
        self.typing.set_speed(self._settings.typing_speed)
        if not self._settings.typing_effect:
            self.typing.flush()
        action = self.actions_by_name["typing_effect"]
        action.blockSignals(True)
        action.setChecked(self._settings.typing_effect)
        action.blockSignals(False)
        apply_theme(self._settings.theme)

    def show_shortcuts(self) -> None:
        from gemchat.ui.cheat_sheet import CheatSheet

        sheet = CheatSheet(self)
        sheet.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        sheet.open()

    def ask_api_key(self) -> None:
        from gemchat.ui.api_key_dialog import ApiKeyDialog

        dialog = ApiKeyDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: dialog.key() and self.api_key_entered.emit(dialog.key()))
        dialog.open()

    # -- session events --------------------------------------------------------------

    def _on_composer_text_changed(self) -> None:
        self.meter.draft_changed()
        if self.composer.editing is None:
            self._draft_timer.start()  # saved after a pause in typing, not per keystroke

    def _save_draft(self) -> None:
        self._draft_timer.stop()
        if self.composer.editing is None:
            self._session.save_draft(self._draft_chat, self.composer.toPlainText())

    def _on_composer_submitted(self, text: str) -> None:
        if not self.ready:
            # Enter in the first instant after start: sent into the chat that opens, in order.
            self._sends_waiting = (self._sends_waiting or []) + [text]
            return
        if self.meter.limit is None:  # not asked for yet this run: ask, then check and send
            self._session.tasks.start(self._send_when_limit_known(text))
            return
        if self.meter.over_limit(text):
            self._confirm_over_limit(text)
            return
        self._send_now(text)

    async def _send_when_limit_known(self, text: str) -> None:
        await self.meter.ensure_limit()
        if self.meter.over_limit(text):
            self._confirm_over_limit(text)
        else:
            self._send_now(text)

    def _send_now(self, text: str) -> None:
        self._draft_timer.stop()
        self._session.save_draft(self._draft_chat, "")
        self.view.scroll_to_bottom()
        attachments = self.tray.attachments()
        self.tray.clear()
        self._session.send(text, attachments)

    def _confirm_over_limit(self, text: str) -> None:
        """Asks before sending a message that would pass the model's limit (Gemini would refuse it)."""
        self.composer.setPlainText(text)  # back where it was, whatever is answered
        self.composer.moveCursor(self.composer.textCursor().MoveOperation.End)
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(
            QMessageBox.Icon.Warning, "gemchat",
            f"This message would make the chat about {self.meter.tokens_with(text):,} tokens, more than the "
            f"{self.meter.limit:,} this model takes. Gemini will probably refuse it. Start a new chat, "
            "shorten the message, or send it anyway.",
            QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("context_limit_warning")
        send = box.addButton("Send Anyway", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def on_finished() -> None:
            if box.clickedButton() is send and self.composer.toPlainText() == text:
                self.composer.setPlainText("")
                self._send_now(text)

        box.finished.connect(on_finished)
        box.open()

    # -- attachments, search, context ---------------------------------------------------

    def choose_attachments(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self, "Attach files", str(Path.home()),
                             "Images, documents, audio and video (*);;Images (*.png *.jpg *.jpeg *.webp *.heic *.heif)"
                             ";;PDF (*.pdf)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.filesSelected.connect(lambda paths: self.attach_paths([Path(p) for p in paths]))
        dialog.open()

    def attach_paths(self, paths: list[Path]) -> None:
        """Attaches files (dropped, pasted or chosen) to the message being written."""
        if paths and self._session is not None:
            self._session.tasks.start(self._attach_paths(paths))

    async def _attach_paths(self, paths: list[Path]) -> None:
        self.statusBar().showMessage(f"Attaching {len(paths)} file{'s' if len(paths) != 1 else ''}…")
        added, refused = await self._session.attach_files(paths, len(self.tray.attachments()))
        self._took(added, refused)

    def attach_image(self, image: QImage) -> None:
        """Attaches a pasted or dropped picture, kept as PNG."""
        if self._session is None:
            return
        self._session.tasks.start(self._attach_image(image.copy()))

    async def _attach_image(self, image: QImage) -> None:
        import asyncio

        from PySide6.QtCore import QBuffer, QByteArray, QIODevice

        def encode() -> bytes:
            data = QByteArray()
            buffer = QBuffer(data)
            buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            image.save(buffer, "PNG")
            buffer.close()
            return bytes(data.data())

        png = await asyncio.get_running_loop().run_in_executor(None, encode)
        name = time.strftime("Pasted image %Y-%m-%d %H.%M.%S.png")
        added, refused = await self._session.attach_bytes(png, name, len(self.tray.attachments()))
        self._took(added, refused)

    def _took(self, added: list[Attachment], refused: list[str]) -> None:
        self.tray.add(added)
        if refused:
            self.statusBar().showMessage("  ".join(refused), 15000)
        elif added:
            self.statusBar().showMessage(f"Attached {', '.join(a.name for a in added)}.", 4000)
        self.composer.setFocus()

    def _on_tray_changed(self) -> None:
        self.composer.allow_blank_submit = bool(self.tray.attachments())
        self.meter.set_pending_files(len(self.tray.attachments()))
        self._update_send_button()

    def _update_send_button(self) -> None:
        self.send_button.setEnabled(not self.composer.is_blank() or bool(self.tray.attachments()))

    def _on_google_search_toggled(self, on: bool) -> None:
        self._session.set_google_search(on)
        self.statusBar().showMessage("Answers in this chat search Google and cite sources." if on
                                     else "Google Search is off for this chat.", 4000)

    def _on_generation_upload_progress(self, name: str, sent: int, total: int) -> None:
        self._set_activity(None)
        self.upload_bar.show_progress(name, sent, total)
        if total and sent >= total and self._attached is not None and not self._attached.received_first:
            self._set_activity("Gemini is thinking")
            self._thinking_timer.start()

    @staticmethod
    def _dropped(mime: QMimeData) -> bool:
        return mime.hasImage() or any(url.isLocalFile() for url in mime.urls())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt override)
        if self._dropped(event.mimeData()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 (Qt override)
        if self._dropped(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        """Files dropped anywhere on the window are attached (the message box takes its own drops)."""
        mime = event.mimeData()
        files = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        if files:
            self.attach_paths(files)
        elif mime.hasImage() and isinstance(mime.imageData(), QImage):
            self.attach_image(mime.imageData())
        else:
            return
        event.acceptProposedAction()

    def _on_session_chat_opened(self, chat: Chat | None, messages: list[Message],
                                generation: Generation | None) -> None:
        self._detach()
        self._messages = list(messages)
        self.composer.cancel_edit()
        chat_id = chat.id if chat else None
        if chat_id != self._draft_chat or chat_id is None:
            if self._draft_timer.isActive():
                self._save_draft()
            self._draft_chat = chat_id
            early, self._typed_early = self._typed_early, ""
            self.composer.setPlainText("\n\n".join(t for t in (self._session.draft(chat_id), early) if t))
            self.composer.moveCursor(self.composer.textCursor().MoveOperation.End)
            self._draft_timer.stop()
        live = {generation.message_id: generation.text} if generation else {}
        self.view.show_messages(messages, live)
        search = self.actions_by_name["google_search"]
        search.blockSignals(True)
        search.setChecked(self._session.google_search)
        search.blockSignals(False)
        self.meter.set_history_tokens(chat_tokens(messages))
        self.meter.refresh_limit()
        self._set_title(chat)
        self.sidebar.select_chat(chat.id if chat else None)
        if generation is not None:
            self._attach(generation, resume=True)
        self.composer.setFocus()
        if not self.ready:
            # The first chat is shown: from now on a key acts on it. Before, Ctrl+G or Ctrl+N
            # would have been undone by this first opening, so the actions waited for it.
            self.ready = True
            for action in self.actions_by_name.values():
                action.setEnabled(True)
        waiting, self._sends_waiting = self._sends_waiting, None
        for text in waiting or ():
            self._on_composer_submitted(text)

    def _on_session_chat_changed(self, chat: Chat) -> None:
        current = self._session.chat
        if current is not None and current.id == chat.id:
            self._set_title(chat)

    def _on_session_message_added(self, message: Message) -> None:
        self._draft_chat = message.chat_id  # a new chat was just saved with its first message
        self._messages.append(message)
        self.view.add_message(message)
        self.meter.set_history_tokens(chat_tokens(self._messages))

    def _on_session_generation_started(self, generation: Generation) -> None:
        self._detach()
        self.view.begin_answer(generation.message_id)
        self._attach(generation)

    def _attach(self, generation: Generation, resume: bool = False) -> None:
        self._attached = generation
        generation.chunk.connect(self.typing.feed)
        generation.thought.connect(self.view.add_thought)  # not paced: thoughts come before the answer
        generation.retrying.connect(self._on_generation_retrying)
        generation.finished.connect(self._on_generation_ended)
        generation.failed.connect(self._on_generation_ended)
        generation.upload_progress.connect(self._on_generation_upload_progress)
        self.stop_button.setVisible(True)
        if resume:
            self.view.resume_answer(generation.message_id)
            if generation.thoughts:
                self.view.add_thought(generation.thoughts)
        if not generation.received_first:
            self._set_activity("Gemini is thinking")
            self._thinking_timer.start()

    def _detach(self) -> None:
        generation, self._attached = self._attached, None
        self.typing.reset()
        self._set_activity(None)
        self.stop_button.setVisible(False)
        if generation is not None:
            for signal, slot in (
                (generation.chunk, self.typing.feed),
                (generation.thought, self.view.add_thought),
                (generation.retrying, self._on_generation_retrying),
                (generation.finished, self._on_generation_ended),
                (generation.failed, self._on_generation_ended),
                (generation.upload_progress, self._on_generation_upload_progress),
            ):
                signal.disconnect(slot)
        self.upload_bar.finish()

    def _on_typing_revealed(self, text: str) -> None:
        if self._thinking_timer.isActive():
            self._set_activity(None)
        self.view.append_to_answer(text)

    def _on_generation_retrying(self, seconds: float, reason: str) -> None:
        self._set_activity(f"{reason} Retrying in {seconds:.0f} s")

    def _on_generation_ended(self, message: Message) -> None:
        self._messages = [m for m in self._messages if m.id != message.id] + [message]
        self.typing.flush()
        self.view.end_answer(message)
        if message.grounding:
            self.view.refresh_message(message)  # citations go where Gemini's segments end, known only now
        self._detach()
        self.meter.set_history_tokens(chat_tokens(self._messages))

    def _on_view_retry_requested(self, message_id: int) -> None:
        self.retry()

    def _on_typing_effect_toggled(self, on: bool) -> None:
        self._settings.typing_effect = on
        self.typing.enabled = on
        if not on:
            self.typing.flush()
        self.settings_changed.emit()

    # -- bits ---------------------------------------------------------------------------

    def _set_title(self, chat: Chat | None) -> None:
        title = chat.title if chat is not None and chat.title else "New chat"
        self.setWindowTitle(f"{title} — {APP_NAME}")

    def _set_activity(self, text: str | None) -> None:
        if text is None:
            self._thinking_timer.stop()
            self.activity.setVisible(False)
            self.activity.clear()
        else:
            self._activity_text = text
            self._dots = 0
            self.activity.setText(text + "…")
            self.activity.setVisible(True)

    def _on_thinking_timer_timeout(self) -> None:
        self._dots = (self._dots + 1) % 4
        self.activity.setText(self._activity_text + "." * self._dots)

    def allow_close(self) -> None:
        self._may_close = True

    def _remember_quit(self) -> None:
        self.quit_asked = True

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self._may_close:
            event.accept()
            return
        event.ignore()
        if self._draft_timer.isActive():
            self._save_draft()
        self.meter.cancel()
        self.close_requested.emit()
