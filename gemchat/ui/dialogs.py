"""The window's dialogs: settings, chat options, search, export and import, shortcuts, the API key.

Each opens with `open`, not `exec`: a nested event loop inside a running
asyncio task would stall every other task until the dialog closed. Each
module is imported when its dialog first opens: PySide6 builds every enum of
a class the first time the class is imported, and the window shows before.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QMainWindow, QWidget

from gemchat.settings import Settings

if TYPE_CHECKING:
    from gemchat.session import ChatSession
    from gemchat.ui.api_key_dialog import ApiKeyDialog
    from gemchat.ui.search_dialog import SearchDialog
    from gemchat.ui.settings_dialog import SettingsDialog


def safe_file_name(title: str) -> str:
    """A chat title as a file name on every system."""
    return re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", title).strip()[:80] or "chat"


class KeyPlaces(Protocol):
    """What the key dialog and Settings need to know of the API key (the app's `GeminiAccess`)."""

    keyring_available: bool | None
    key_file_problem: str | None

    @property
    def key_file_path(self) -> Path | None: ...

    def status(self) -> str: ...

    def probe_keyring(self) -> None: ...

    async def check_key(self, key: str) -> str: ...


class Dialogs(QObject):
    """Opens the window's dialogs, one Settings and one Search at a time, and acts on their answers.

    Signals:
        api_key_entered(str, str): the user pasted a key in the key dialog, and chose where to
            keep it (a `KeyPlace` value: the keyring, a file, or this session only).
        forget_key_requested(): the user asked, in Settings, to remove the stored key.
        keep_key_in_file_requested(): the keyring refused the key, and the user chose the key file.
        settings_accepted(): Settings closed with OK; the settings object holds the new values.

    Attributes:
        keys: where the key comes from and may be kept (set by the app; None: nothing to say).
        settings_dialog, search_dialog, key_dialog: the one open, if any.
    """

    api_key_entered = Signal(str, str)
    forget_key_requested = Signal()
    keep_key_in_file_requested = Signal()
    settings_accepted = Signal()

    def __init__(self, window: QMainWindow, settings: Settings, return_focus_to: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._settings = settings
        self._return_focus_to = return_focus_to
        self._session: ChatSession | None = None  # until `attach_session`; dialogs open only after
        self.keys: KeyPlaces | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.search_dialog: SearchDialog | None = None
        self.key_dialog: ApiKeyDialog | None = None

    def attach_session(self, session: ChatSession) -> None:
        self._session = session

    @property
    def session(self) -> ChatSession:
        assert self._session is not None, "the window's actions wait for the session"
        return self._session

    def _tell(self, text: str, ms: int) -> None:
        self._window.statusBar().showMessage(text, ms)

    # -- settings and the key ---------------------------------------------------------

    def open_settings(self) -> None:
        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            return
        from gemchat.ui.settings_dialog import SettingsDialog

        session = self.session
        key_status = self.keys.status() if self.keys is not None else ""
        dialog = SettingsDialog(self._settings, key_status, session.list_models, session.tasks, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.change_key_requested.connect(self.ask_api_key)
        dialog.forget_key_requested.connect(self.forget_key_requested)
        dialog.accepted.connect(lambda: self._on_settings_accepted(dialog))
        dialog.finished.connect(self._on_settings_dialog_finished)
        self.settings_dialog = dialog
        dialog.open()

    def _on_settings_accepted(self, dialog: SettingsDialog) -> None:
        dialog.apply_to(self._settings)
        self.settings_accepted.emit()

    def _on_settings_dialog_finished(self) -> None:
        self.settings_dialog = None

    def refresh_keys(self) -> None:
        """The key, or what is known of where it may be kept, changed: Settings and the key dialog say so."""
        if self.keys is None:
            return
        if self.settings_dialog is not None:
            self.settings_dialog.show_key_status(self.keys.status())
        if self.key_dialog is not None and self.keys.keyring_available is False:
            self.key_dialog.show_no_keyring(self.keys.key_file_path)

    def ask_api_key(self) -> None:
        from gemchat.ui.api_key_dialog import ApiKeyDialog

        if self.key_dialog is not None:
            self.key_dialog.raise_()
            self.key_dialog.activateWindow()
            return
        keys = self.keys
        dialog = ApiKeyDialog(self._window, problem=keys.key_file_problem if keys is not None else None,
                              check=keys.check_key if keys is not None and self._session is not None else None,
                              tasks=self._session.tasks if self._session is not None else None)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.key_dialog = dialog
        if keys is not None:
            if keys.keyring_available is False:
                dialog.show_no_keyring(keys.key_file_path)
            elif keys.keyring_available is None:
                keys.probe_keyring()  # the answer comes to `refresh_keys`

        def on_accepted() -> None:
            if key := dialog.key():
                self.api_key_entered.emit(key, dialog.place().value)

        dialog.accepted.connect(on_accepted)
        dialog.finished.connect(self._on_key_dialog_finished)
        dialog.open()

    def _on_key_dialog_finished(self) -> None:
        self.key_dialog = None

    def offer_key_file(self) -> None:
        """The keyring refused the key just pasted: asks whether to keep it in the key file instead."""
        from PySide6.QtWidgets import QMessageBox

        path = self.keys.key_file_path if self.keys is not None else None
        box = QMessageBox(QMessageBox.Icon.Question, "Keep the API key? — gemchat",
                          "The system keyring could not keep the API key. Keep it in a file only you can read?",
                          QMessageBox.StandardButton.NoButton, self._window)
        box.setObjectName("key_file_offer")
        box.setInformativeText(f"{path}\n\nLess safe than a system keyring: any program running as you can "
                               "read it. Otherwise the key is used for this session only.")
        keep = box.addButton("Keep in a file", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(box.addButton("This session only", QMessageBox.ButtonRole.RejectRole))
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def on_clicked(button: object) -> None:
            if button is keep:
                self.keep_key_in_file_requested.emit()

        box.buttonClicked.connect(on_clicked)
        box.open()

    def show_shortcuts(self) -> None:
        from gemchat.ui.cheat_sheet import CheatSheet

        sheet = CheatSheet(self._window)
        sheet.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        sheet.open()

    # -- the chats ----------------------------------------------------------------------

    def open_search(self, words: str = "") -> None:
        """Full-text search (Ctrl+K), started with `words` when given (Enter in the sidebar's field)."""
        if self.search_dialog is not None:
            self.search_dialog.raise_()
            self.search_dialog.activateWindow()
            if words:
                self.search_dialog.query.setText(words)
            return
        from gemchat.ui.search_dialog import SearchDialog

        session = self.session
        dialog = SearchDialog(session.search, session.tasks, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.hit_chosen.connect(session.open_hit)
        dialog.finished.connect(self._on_search_dialog_finished)
        self.search_dialog = dialog
        dialog.open()
        dialog.query.setFocus()
        if words:
            dialog.query.setText(words)

    def _on_search_dialog_finished(self) -> None:
        self.search_dialog = None
        self._return_focus_to.setFocus()

    def open_chat_options(self) -> None:
        session = self.session
        chat = session.chat
        if chat is None:
            self._tell("Send a first message; new chats use the defaults from Settings.", 5000)
            return
        from gemchat.ui.chat_options_dialog import ChatOptionsDialog

        dialog = ChatOptionsDialog(chat, session.list_models, session.tasks, self._window,
                                   levels_for=session.thinking_levels, default_level=self._settings.thinking_level)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: session.set_chat_options(*dialog.values()))
        dialog.open()

    def export_chats(self, current_only: bool) -> None:
        chat = self.session.chat
        if current_only and chat is None:
            self._tell("This chat has no messages to export yet.", 3000)
            return
        from PySide6.QtWidgets import QFileDialog

        name = f"{safe_file_name(chat.title) if current_only and chat else 'gemchat-chats'}.md"
        dialog = QFileDialog(self._window, "Export chat" if current_only else "Export all chats",
                             str(Path.home() / name), "Markdown (*.md);;JSON (*.json)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        chat_id = chat.id if current_only and chat else None
        dialog.fileSelected.connect(lambda path: self.session.tasks.start(self._export(path, chat_id)))
        dialog.open()

    async def _export(self, path: str, chat_id: int | None) -> None:
        markdown = not path.lower().endswith(".json")
        try:
            await self.session.export_to(path, markdown, chat_id)
        except (OSError, LookupError) as exc:
            self._tell(f"Export failed: {exc}", 10000)
        else:
            self._tell(f"Exported to {path}.", 5000)

    def import_chats(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self._window, "Import chats", str(Path.home()), "gemchat export (*.json)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(lambda path: self.session.tasks.start(self._import(path)))
        dialog.open()

    async def _import(self, path: str) -> None:
        from gemchat.storage.errors import ImportFormatError

        try:
            count = await self.session.import_from(path)
        except (OSError, UnicodeDecodeError, ImportFormatError) as exc:
            self._tell(f"Nothing was imported from {Path(path).name}: {exc}", 15000)
        else:
            self._tell(f"Imported {count} chat{'s' if count != 1 else ''}.", 5000)


def show_start_notices(window: QMainWindow, recovered: int, moved_aside: Path | None) -> None:
    """What the last exit left behind: answers it cut off, a damaged database it moved aside."""
    if recovered:
        window.statusBar().showMessage(
            f"{recovered} answer{'s were' if recovered > 1 else ' was'} cut off when gemchat "
            "last stopped; the text that arrived is kept.", 15000)
    if moved_aside is not None:
        _tell_moved_aside(window, moved_aside)


def _tell_moved_aside(window: QMainWindow, aside: Path) -> None:
    """Says, until dismissed, that the old database was kept and where: it may hold chats worth rescuing."""
    from PySide6.QtWidgets import QMessageBox

    text = (f"gemchat's database was damaged and could not be read. It was moved aside, not deleted, "
            f"to {aside}, and a new, empty database was started.")
    window.statusBar().showMessage(text, 60000)
    box = QMessageBox(QMessageBox.Icon.Warning, "gemchat", text, QMessageBox.StandardButton.Ok, window)
    box.setObjectName("moved_aside_notice")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    QTimer.singleShot(0, box.open)  # once the window is shown, over it; never a nested event loop
