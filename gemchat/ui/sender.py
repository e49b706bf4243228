"""The message box's way out: what it submits is sent, unless it would pass the model's input limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QWidget

from gemchat.ui.attachment_tray import AttachmentTray
from gemchat.ui.composer import Composer
from gemchat.ui.context_meter import ContextMeter
from gemchat.ui.draft_keeper import DraftKeeper

if TYPE_CHECKING:
    from gemchat.core.messages import Attachment
    from gemchat.session import ChatSession
    from gemchat.ui.chat_view import ChatView


class MessageSender(QObject):
    """Sends the submitted text with the attachments in the tray; asks first past the model's limit.

    Gemini would refuse a message past the limit, so the user is asked before it
    goes; the text is back in the message box whatever they answer.
    """

    def __init__(self, window: QWidget, composer: Composer, meter: ContextMeter, tray: AttachmentTray,
                 view: ChatView, drafts: DraftKeeper) -> None:
        super().__init__(window)
        self._window = window
        self._composer = composer
        self._meter = meter
        self._tray = tray
        self._view = view
        self._drafts = drafts
        self._session: ChatSession | None = None

    def attach_session(self, session: ChatSession) -> None:
        self._session = session

    def send(self, text: str) -> None:
        assert self._session is not None, "the window holds messages back until the session is there"
        if self._meter.limit is None:  # not asked for yet this run: ask, then check and send
            self._session.tasks.start(self._send_when_limit_known(text))
        elif self._meter.over_limit(text):
            self._confirm_over_limit(text)
        else:
            self._send_now(text)

    async def _send_when_limit_known(self, text: str) -> None:
        await self._meter.ensure_limit()
        if self._meter.over_limit(text):
            self._confirm_over_limit(text)
        else:
            self._send_now(text)

    def _send_now(self, text: str) -> None:
        assert self._session is not None
        self._drafts.sent()
        self._view.scroll_to_bottom()
        self._session.send(text, self._take_tray())

    async def send_beside_the_box(self, text: str) -> None:
        """Sends `text` with the tray's attachments, leaving the box and its draft as they are.

        For a prompt from the command line: what the user was typing stays. Returns
        once the question is saved and its answer started (`ChatSession.send_and_wait`).
        Not checked against the model's limit, as the command line's prompt never was
        (Gemini's refusal of one too long is shown on the answer).
        """
        assert self._session is not None
        self._view.scroll_to_bottom()
        await self._session.send_and_wait(text, self._take_tray())

    def _take_tray(self) -> list[Attachment]:
        attachments = self._tray.attachments()
        self._tray.clear()
        return attachments

    def _confirm_over_limit(self, text: str) -> None:
        """Asks before sending a message that would pass the model's limit (Gemini would refuse it)."""
        self._composer.setPlainText(text)  # back where it was, whatever is answered
        self._composer.moveCursor(self._composer.textCursor().MoveOperation.End)
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(
            QMessageBox.Icon.Warning, "gemchat",
            f"This message would make the chat about {self._meter.tokens_with(text):,} tokens, more than the "
            f"{self._meter.limit:,} this model takes. Gemini will probably refuse it. Start a new chat, "
            "shorten the message, or send it anyway.",
            QMessageBox.StandardButton.Cancel, self._window)
        box.setObjectName("context_limit_warning")
        send = box.addButton("Send Anyway", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def on_finished() -> None:
            if box.clickedButton() is send and self._composer.toPlainText() == text:
                self._composer.setPlainText("")
                self._send_now(text)

        box.finished.connect(on_finished)
        box.open()
