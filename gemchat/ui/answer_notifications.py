"""A desktop notification when an answer ends where the user is not looking, and its click.

An answer that ends, complete or failed, in a chat the user does not have in
front of them (no gemchat window is active, or the active one shows another
chat) is announced with the chat's title and the answer's first line; a
failed one with "Answer failed" and the error's first line. An answer the user
stopped, or one stopped because gemchat quits, is not. A click on the
notification opens its chat in the main window and brings that to the front.
The `notifications` setting turns it all off. How it is shown is
`gemchat.desktop_notifications`'s business.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QWidget

from gemchat.core.errors import CUT_OFF_REASONS
from gemchat.core.messages import Chat, Message, Status
from gemchat.ui.launch_requests import bring_to_front

if TYPE_CHECKING:
    from gemchat.desktop_notifications import DesktopNotifier
    from gemchat.ui.main_window import MainWindow
    from gemchat.ui.quick_ask import QuickAskWindow

BODY_LIMIT = 200
"""Characters of the answer's first line shown; notification popups show two or three lines at most."""
UNTITLED = "New chat"


class AnswerNotifications(QObject):
    """Decides which answers are announced, says what, and opens the chat of one that is clicked."""

    def __init__(self, window: MainWindow, notifier: DesktopNotifier,
                 quick_window: Callable[[], QuickAskWindow | None], parent: QObject | None = None) -> None:
        """`quick_window` gives the quick-ask window once it is made (None before)."""
        super().__init__(parent)
        self._window = window
        self._notifier = notifier
        self._quick_window = quick_window
        self._titles: dict[int, str] = {}
        self._closed = False
        session = window.session
        session.chats_listed.connect(self._on_session_chats_listed)
        session.chat_changed.connect(self._on_session_chat_changed)
        session.answer_ended.connect(self._on_session_answer_ended)
        notifier.activated.connect(self._on_notifier_activated)

    def close(self) -> None:
        """Quitting: the answers stopped from now on are not announced."""
        self._closed = True

    def _on_session_chats_listed(self, chats: list[Chat]) -> None:
        self._titles.update((chat.id, chat.title) for chat in chats)

    def _on_session_chat_changed(self, chat: Chat) -> None:
        self._titles[chat.id] = chat.title  # before its answer's end is said: the title is the newest

    def _on_session_answer_ended(self, message: Message) -> None:
        if self._closed or not self._window.settings.notifications or stopped(message) or self._seen(message.chat_id):
            return
        title = self._titles.get(message.chat_id) or UNTITLED
        if message.status is Status.ERROR:
            self._notifier.notify(message.chat_id, f"Answer failed — {title}",
                                  first_line(message.error or "The answer failed."))
        else:
            self._notifier.notify(message.chat_id, title, first_line(message.text))

    def _seen(self, chat_id: int) -> bool:
        """Whether the user has that chat in front of them, in the main window or the quick-ask window."""
        chat = self._window.session.chat
        if chat is not None and chat.id == chat_id and in_front(self._window):
            return True
        quick = self._quick_window()
        return quick is not None and quick.isVisible() and quick.chat_id == chat_id and in_front(quick)

    def _on_notifier_activated(self, chat_id: int) -> None:
        bring_to_front(self._window)
        session = self._window.session
        session.tasks.start(session.open_chat(chat_id))


def stopped(message: Message) -> bool:
    """Stopped by the user (or by quitting), rather than ended by Gemini: complete, failed or cut off."""
    return message.status is Status.INTERRUPTED and message.finish_reason not in CUT_OFF_REASONS


def in_front(window: QWidget) -> bool:
    """Whether the user is in `window`: it, or a dialog of it, is the active window."""
    if window.isMinimized():
        return False
    active = QApplication.activeWindow()
    while active is not None:
        if active is window:
            return True
        active = active.parentWidget()
    return False


def first_line(text: str) -> str:
    """The first line with words, without Markdown's heading and quote marks or a code fence, at most `BODY_LIMIT`."""
    for line in text.splitlines():
        line = " ".join(line.split()).lstrip("#> ").strip()
        if line and not line.startswith(("```", "~~~")):
            return line if len(line) <= BODY_LIMIT else line[:BODY_LIMIT - 1].rstrip() + "…"
    return ""
