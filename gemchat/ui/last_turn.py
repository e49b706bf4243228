"""What the keys for the open chat's last question and answer do: copy, copy code, edit, versions, continue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow

from gemchat.core.message_labels import Role
from gemchat.ui.composer import Composer

if TYPE_CHECKING:
    from gemchat.core.messages import Message
    from gemchat.session import ChatSession


class LastTurnActions(QObject):
    """Acts on the shown branch of the open chat; says in the status bar when there is nothing to act on.

    Attributes:
        messages: the open chat's shown branch, as last told by the session.
    """

    def __init__(self, window: QMainWindow, composer: Composer) -> None:
        super().__init__(window)
        self._window = window
        self._composer = composer
        self._session: ChatSession | None = None
        self.messages: list[Message] = []

    def attach_session(self, session: ChatSession) -> None:
        self._session = session

    def shown(self, messages: list[Message]) -> None:
        self.messages = list(messages)

    def added(self, message: Message) -> None:
        self.messages.append(message)

    def ended(self, message: Message) -> None:
        """An answer took its final form (it replaces what was shown of it)."""
        self.messages = [m for m in self.messages if m.id != message.id] + [message]

    def _tell(self, text: str) -> None:
        self._window.statusBar().showMessage(text, 3000)

    def _last(self, role: Role) -> Message | None:
        return next((m for m in reversed(self.messages) if m.role is role), None)

    def copy_last_answer(self) -> None:
        from PySide6.QtGui import QGuiApplication

        answer = self._last(Role.MODEL)
        if answer is None or not answer.text:
            self._tell("No answer to copy yet.")
            return
        QGuiApplication.clipboard().setText(answer.text)
        self._tell("Copied the last answer as Markdown.")

    def copy_last_code_block(self) -> None:
        from PySide6.QtGui import QGuiApplication

        from gemchat.core.code_blocks import code_blocks

        blocks = [b for m in reversed(self.messages) if m.role is Role.MODEL for b in reversed(code_blocks(m.text))]
        if not blocks:
            self._tell("No code block in the answers yet.")
            return
        QGuiApplication.clipboard().setText(blocks[0])
        self._tell("Copied the last code block.")

    def continue_answer(self) -> None:
        assert self._session is not None
        if self._session.is_generating():
            self._tell("Gemini is still answering.")
        else:
            self._session.continue_answer()

    def edit_last_question(self) -> None:
        question = self._last(Role.USER)
        if question is None:
            self._tell("No question to edit yet.")
            return
        self._composer.edit(question.id, question.text)

    def edit_question(self, message_id: int) -> None:
        """Puts one of the shown questions in the message box, to send as a new version (its Edit button)."""
        question = next((m for m in self.messages if m.id == message_id and m.role is Role.USER), None)
        if question is not None:
            self._composer.edit(question.id, question.text)

    def switch_last_answer_version(self, step: int) -> None:
        answer = self._last(Role.MODEL)
        if answer is None or not 1 <= answer.version + step <= answer.versions:
            self._tell("No other version of the last answer.")
            return
        assert self._session is not None
        self._session.switch_version(answer.id, step)
