"""The conversation view and what works on it, made once the window has painted its first frame.

No first frame shows a message: the chats load behind the window, and until
they have, the conversation is an empty surface. So the view, the presenter of
answers, the view options and the sender are made after that frame
(`MainWindow.build_conversation`), their modules imported on the start-up thread
(`gemchat.app.BEHIND_THE_WINDOW`): about 55 M instructions (15-20 ms) that the
window no longer waits for to appear. Until then a plain surface in the
conversation's colour holds its place, and paints what the empty view paints.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMainWindow

from gemchat.settings import Settings
from gemchat.ui.attachment_tray import AttachmentTray, UploadBar
from gemchat.ui.chat_view import ChatView
from gemchat.ui.composer import Composer
from gemchat.ui.composer_card import ComposerColumn
from gemchat.ui.context_meter import ContextMeter
from gemchat.ui.draft_keeper import DraftKeeper
from gemchat.ui.presenter import AnswerPresenter
from gemchat.ui.sender import MessageSender
from gemchat.ui.view_options import ViewOptions


class Conversation:
    """The parts, made together; the window connects them (`MainWindow.build_conversation`).

    Attributes:
        view: the conversation itself.
        presenter: shows the answer being streamed into `view`.
        options: the view's settings (typing effect, full width, text size).
        sender: sends what the message box holds.
    """

    def __init__(self, window: QMainWindow, settings: Settings, composer: Composer, meter: ContextMeter,
                 tray: AttachmentTray, upload_bar: UploadBar, foot: ComposerColumn, drafts: DraftKeeper,
                 settings_changed: Callable[[], None]) -> None:
        self.view = ChatView()
        self.presenter = AnswerPresenter(self.view, upload_bar, settings.typing_speed, settings.typing_effect,
                                         parent=window)
        self.options = ViewOptions(window, settings, self.view, foot, self.presenter, settings_changed)
        self.sender = MessageSender(window, composer, meter, tray, self.view, drafts)
