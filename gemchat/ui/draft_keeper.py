"""What is typed in the message box, kept per chat as a draft across chat switches and restarts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from gemchat.ui.composer import Composer

if TYPE_CHECKING:
    from gemchat.session import ChatSession

DRAFT_SAVE_MS = 400


class DraftKeeper(QObject):
    """Saves the message box's text after a pause in typing, and swaps it when another chat opens.

    Attributes:
        chat_id: the chat the message box's text belongs to (None: a new chat, not saved yet).
    """

    def __init__(self, composer: Composer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._composer = composer
        self._session: ChatSession | None = None
        self.chat_id: int | None = None
        self._shown_one = False  # until the first chat is shown, what the box holds was typed early, and stays
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DRAFT_SAVE_MS)
        self._timer.timeout.connect(self.save)

    def attach_session(self, session: ChatSession) -> bool:
        """Keeps drafts from now on; True when something was typed before (it stays, and is kept too)."""
        self._session = session
        self._composer.textChanged.connect(self.text_changed)
        return bool(self._composer.toPlainText())

    def text_changed(self) -> None:
        if self._composer.editing is None:
            self._timer.start()  # saved after a pause in typing, not per keystroke

    def save(self) -> None:
        self._timer.stop()
        # Before the first chat is shown, the text is not yet any chat's: `show_chat` puts it in the one that opens.
        if self._composer.editing is None and self._session is not None and self._shown_one:
            self._session.save_draft(self.chat_id, self._composer.toPlainText())

    def save_pending(self) -> None:
        """Saves now what would be saved after the pause (another chat opens, the window closes)."""
        if self._timer.isActive():
            self.save()

    def show_chat(self, chat_id: int | None) -> None:
        """The message box shows `chat_id`'s draft, after what was typed before the chats loaded.

        Typed before the chats loaded: before the first chat is shown, the session
        attached or not (typing between the two was lost, seen as a screen reader's
        question gone from the box).
        """
        if chat_id == self.chat_id and chat_id is not None:
            return
        assert self._session is not None
        if self._shown_one:
            self.save_pending()
            early = ""
        else:
            self._timer.stop()  # not a draft of the new chat: it goes into the chat being opened
            early = self._composer.toPlainText()
            self._shown_one = True
        self.chat_id = chat_id
        self._composer.setPlainText("\n\n".join(t for t in (self._session.draft(chat_id), early) if t))
        self._composer.moveCursor(self._composer.textCursor().MoveOperation.End)
        self._timer.stop()

    def sent(self) -> None:
        """The message left the box: its draft goes."""
        self._timer.stop()
        if self._session is not None:
            self._session.save_draft(self.chat_id, "")
