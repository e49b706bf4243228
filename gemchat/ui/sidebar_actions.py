"""What the sidebar's requests do: chats opened, renamed, pinned and foldered, folders named; and its place.

The sidebar (`SidebarPanel`) only says what the user asked; this connects it to
the session, asks folder names in small dialogs that do not hold up the window,
and shows or hides the sidebar: the user's Ctrl+B, and a window too narrow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QWidget

from gemchat.ui.sidebar import SidebarPanel

if TYPE_CHECKING:
    from PySide6.QtWidgets import QInputDialog

    from gemchat.session import ChatSession

HIDES_BELOW = 700
"""The window's width (px) under which the sidebar steps aside on its own, leaving the conversation room."""


class SidebarActions(QObject):
    """Attributes:
        wanted: the user's choice (Ctrl+B); a narrow window hides the sidebar all the same.
    """

    def __init__(self, window: QWidget, panel: SidebarPanel, tell: Callable[[str, int], None],
                 shown_changed: Callable[[bool], None], focus_elsewhere: Callable[[], None]) -> None:
        super().__init__(window)
        self._window = window
        self._panel = panel
        self._tell = tell
        self._shown_changed = shown_changed  # the View menu's check mark follows
        self._focus_elsewhere = focus_elsewhere
        self._session: ChatSession | None = None
        self.wanted = True

    def attach_session(self, session: ChatSession, open_search: Callable[[str], None]) -> None:
        self._session = session
        chats, panel = self._panel.chats, self._panel
        chats.chat_selected.connect(lambda chat_id: session.tasks.start(session.open_chat(chat_id)))
        chats.rename_requested.connect(session.rename_chat)
        chats.delete_requested.connect(session.delete_chat)
        chats.pin_requested.connect(session.set_pinned)
        chats.move_requested.connect(session.move_to_folder)
        chats.folder_collapse_requested.connect(session.set_folder_collapsed)
        chats.delete_folder_requested.connect(session.delete_folder)
        chats.new_folder_requested.connect(
            lambda chat_id: self.ask_folder_name("New Folder", "", lambda name: session.new_folder(name, chat_id)))
        chats.rename_folder_requested.connect(
            lambda folder_id, name: self.ask_folder_name(
                "Rename Folder", name, lambda new: session.rename_folder(folder_id, new)))
        panel.new_chat_requested.connect(lambda: session.tasks.start(session.new_chat()))
        panel.search_requested.connect(open_search)

    def ask_folder_name(self, title: str, name: str, done: Callable[[str], None]) -> QInputDialog:
        """A folder's name, asked in a small dialog that does not hold up the window; `done` gets it on OK."""
        from PySide6.QtWidgets import QInputDialog

        dialog = QInputDialog(self._window)
        dialog.setWindowTitle(f"{title} — gemchat")
        dialog.setLabelText("Folder name:")
        dialog.setTextValue(name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(done)
        dialog.open()
        return dialog

    def pin_open_chat(self) -> None:
        """Ctrl+Shift+P: the open chat pinned, or unpinned."""
        chat = self._session.chat if self._session is not None else None
        if chat is not None and self._session is not None:
            pinned = not self._panel.chats.is_pinned(chat.id)
            self._session.set_pinned(chat.id, pinned)
            self._tell("Pinned: listed first." if pinned else "Unpinned.", 3000)

    def toggle(self, shown: bool) -> None:
        """Ctrl+B: the user's choice, which a narrow window's own hiding then follows."""
        self.wanted = shown
        self.place()
        focused = QApplication.focusWidget()
        if not shown and focused is not None and self._panel.isAncestorOf(focused):
            self._focus_elsewhere()

    def place(self) -> None:
        """Shows the sidebar if the user wants it and the window is wide enough; hides it otherwise."""
        shown = self.wanted and self._window.width() >= HIDES_BELOW
        self._panel.setVisible(shown)
        self._shown_changed(shown)
