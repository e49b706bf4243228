"""Where an answer being generated meets the typing effect and the view.

The session's `Generation` emits the answer's text as it arrives; the typing
effect paces it; the view shows what is revealed. The presenter connects the
three for the answer of the open chat, and lets go when the answer ends or
another chat is opened. The window only hears what to show around the answer:
the activity line and the Stop button. When an answer ends in front of the
user, a screen reader is told once (`announcement`); the view's own edits are
not reported as the answer streams, and an answer that ends out of sight is the
desktop notification's to tell (`answer_notifications`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from gemchat.core.message_labels import Status
from gemchat.ui.typing import TypingEffect

if TYPE_CHECKING:
    from gemchat.core.messages import Message
    from gemchat.session import Generation
    from gemchat.ui.attachment_tray import UploadBar
    from gemchat.ui.chat_view import ChatView

WAITING = "Gemini is thinking"
ANNOUNCED_CHARS = 500
"""About half a minute of speech: the beginning of a longer answer is said, the rest is in the conversation."""


class AnswerPresenter(QObject):
    """Shows one answer at a time, paced, from its first chunk to its final form.

    Signals:
        activity_changed(object, bool): words for the activity line (None hides it), and
            whether they wait on Gemini (the first revealed text then hides them).
        streaming_changed(bool): an answer is shown as it comes (Stop applies to it) or none is.
        answer_ended(object): the final `Message` of the shown answer, once the view shows it.

    Attributes:
        typing: the typing effect that paces the answer.
    """

    activity_changed = Signal(object, bool)
    streaming_changed = Signal(bool)
    answer_ended = Signal(object)

    def __init__(self, view: ChatView, upload_bar: UploadBar, chars_per_second: float, typing_effect: bool,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view = view
        self._upload_bar = upload_bar
        self._generation: Generation | None = None
        self._waiting = False  # nothing revealed yet: the activity line says Gemini is thinking
        self.typing = TypingEffect(chars_per_second, typing_effect, parent=self)
        self.typing.revealed.connect(self._on_typing_revealed)
        self.typing.revealed.connect(view.append_to_answer)
        view.user_scrolled.connect(self.typing.flush)

    def set_typing(self, enabled: bool, chars_per_second: float | None = None) -> None:
        """Follows the settings; switched off, what was held back shows at once."""
        self.typing.enabled = enabled
        if chars_per_second is not None:
            self.typing.set_speed(chars_per_second)
        if not enabled:
            self.typing.flush()

    def flush(self) -> None:
        """Shows at once what the typing effect still holds back (the answer was stopped)."""
        self.typing.flush()

    def begin(self, generation: Generation) -> None:
        """A new answer started in the open chat."""
        self.detach()
        self._view.begin_answer(generation.message_id, model=generation.model)
        self._attach(generation)

    def resume(self, generation: Generation) -> None:
        """The open chat was shown with its answer still coming: the rest follows what the view shows."""
        self._attach(generation, resume=True)

    def detach(self) -> None:
        """Lets go of the answer (another chat is shown, or it ended); what was held back is dropped."""
        generation, self._generation = self._generation, None
        self.typing.reset()
        self._show_activity(None)
        self.streaming_changed.emit(False)
        if generation is not None:
            for signal, slot in self._connections(generation):
                signal.disconnect(slot)
        self._upload_bar.finish()

    def _attach(self, generation: Generation, resume: bool = False) -> None:
        self._generation = generation
        for signal, slot in self._connections(generation):
            signal.connect(slot)
        self.streaming_changed.emit(True)
        if resume:
            self._view.resume_answer(generation.message_id)
            if generation.thoughts:
                self._view.add_thought(generation.thoughts)
        if not generation.received_first:
            self._show_activity(WAITING, waiting=True)

    def _connections(self, generation: Generation) -> tuple[tuple[Any, Any], ...]:
        return (
            (generation.chunk, self.typing.feed),
            (generation.thought, self._view.add_thought),  # not paced: thoughts come before the answer
            (generation.retrying, self._on_generation_retrying),
            (generation.finished, self._on_generation_ended),
            (generation.failed, self._on_generation_ended),
            (generation.upload_progress, self._on_generation_upload_progress),
        )

    def _show_activity(self, text: str | None, waiting: bool = False) -> None:
        self._waiting = waiting
        self.activity_changed.emit(text, waiting)

    def _on_typing_revealed(self, _text: str) -> None:
        if self._waiting:
            self._show_activity(None)

    def _on_generation_retrying(self, seconds: float, reason: str) -> None:
        self._show_activity(f"{reason} Retrying in {seconds:.0f} s", waiting=self._waiting)

    def _on_generation_upload_progress(self, name: str, sent: int, total: int) -> None:
        self._show_activity(None)
        self._upload_bar.show_progress(name, sent, total)
        if total and sent >= total and self._generation is not None and not self._generation.received_first:
            self._show_activity(WAITING, waiting=True)

    def _on_generation_ended(self, message: Message) -> None:
        self.typing.flush()
        self._view.end_answer(message)
        if message.grounding or message.attachments:
            # Citations go where Gemini's segments end, and pictures are kept, known only now.
            self._view.refresh_message(message)
        self.detach()
        from gemchat.ui.answer_notifications import in_front  # not before the window shows: it loads asyncio

        said = announcement(message)
        if said and in_front(self._view.window()):  # elsewhere the desktop notification tells of it, once
            self._view.announce(said)
        self.answer_ended.emit(message)


def announcement(message: Message) -> str | None:
    """What a screen reader says when an answer ends: its words (the first `ANNOUNCED_CHARS`) or why it failed.

    Nothing for an answer the user stopped: they know.
    """
    from gemchat.core.errors import CUT_OFF_REASONS
    from gemchat.core.markdown import plain_text_start
    from gemchat.ui.answer_notifications import first_line, stopped

    if message.status is Status.ERROR:
        return f"The answer failed: {first_line(message.error or '') or 'no reason given'}"
    if stopped(message):
        return None
    words = plain_text_start(message.text, ANNOUNCED_CHARS)
    if len(words) > ANNOUNCED_CHARS:
        words = words[:ANNOUNCED_CHARS].rsplit(None, 1)[0] + "… The rest is in the conversation."
    if not words:
        words = "a picture." if message.attachments else "nothing."
    if message.status is Status.INTERRUPTED and message.finish_reason in CUT_OFF_REASONS:
        return f"Gemini's answer was cut off: {words}"
    return f"Gemini answered: {words}"
