"""One answer's life: the backend's stream in, a `Generation`'s signals and the saves out.

The answer is saved as it streams (at least every 250 ms, by appending, never
rewriting), so a crash loses at most a quarter of a second of it; the end
writes its status and facts in one transaction.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from gemchat.core import grounding as grounding_metadata
from gemchat.core.errors import CUT_OFF_REASONS, ErrorKind, GemchatError
from gemchat.core.gemini import GeminiBackend
from gemchat.core.messages import (
    Attachment,
    GenerationRequest,
    Message,
    ModelImage,
    Role,
    Status,
    StreamEvent,
    utc_now,
)
from gemchat.storage.attachment_files import AttachmentFiles, AttachmentRefused
from gemchat.storage.errors import StorageError
from gemchat.storage.store import ChatStore
from gemchat.storage.worker import StoreWorker

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.25  # seconds; bounds what a crash can lose of an answer


class Generation(QObject):
    """One answer being generated.

    Signals:
        chunk(str): a piece of the answer arrived (before any pacing).
        thought(str): a piece of the model's thought summary arrived (thinking models).
        retrying(float, str): the request failed before any text; retried after
            that many seconds, for that reason.
        finished(object): the final `Message`, status complete or interrupted.
        failed(object): the final `Message`, status error, `error` says why.
        upload_progress(str, object, object): an attachment is being uploaded before
            the request (its name, bytes confirmed, its size); sent == size when done.
    """

    chunk = Signal(str)
    thought = Signal(str)
    retrying = Signal(float, str)
    finished = Signal(object)
    failed = Signal(object)
    upload_progress = Signal(str, object, object)  # object: sizes pass 2**31

    def __init__(self, chat_id: int, message: Message, model: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.chat_id = chat_id
        self.model = model  # the model asked, shown over the answer as it streams
        self.message_id = message.id
        self._prefix = message.text  # an answer being continued keeps what it had
        self._parts: list[str] = []
        self.received_first = False
        self.thoughts = ""  # the thought summary so far, for a chat reopened mid-answer

    @property
    def text(self) -> str:
        """The answer so far (joined on demand; only read when a chat is reopened)."""
        return self._prefix + "".join(self._parts)

    def add_text(self, text: str) -> None:
        """Keeps a piece of the answer (for a chat reopened mid-answer) and tells the listeners."""
        self._parts.append(text)
        self.received_first = True
        self.chunk.emit(text)

    def add_thought(self, thought: str) -> None:
        """Keeps a piece of the thought summary and tells the listeners."""
        self.thoughts += thought
        self.thought.emit(thought)

    def end(self, final: Message) -> None:
        """Tells the listeners the answer ended, as `failed` when it ended in an error."""
        if final.status is Status.ERROR:
            self.failed.emit(final)
        else:
            self.finished.emit(final)


class AnswerSaver:
    """Saves one streaming answer on the database thread, so the database never holds a hole.

    Appends stop at the first one that fails (disk full, read-only, locked):
    what is stored is then always a beginning of the answer. The end writes the
    whole text in one transaction instead, which either succeeds whole or
    leaves that beginning, to be shown as cut off at the next start.
    """

    def __init__(self, store: ChatStore, message_id: int, files: AttachmentFiles | None = None) -> None:
        self._store = store
        self._message_id = message_id
        self._files = files
        self.failed: StorageError | None = None
        self.images: list[Attachment] = []  # pictures in the answer, kept in the attachment store

    def keep_image(self, image: ModelImage) -> None:
        """Puts a picture of the answer in the attachment store; it is the message's from `finish` on.

        Runs on the database thread, so it is kept before the answer's end is written.
        """
        if self._files is None:
            return
        import mimetypes  # here, not at import: only an image model's answer needs it

        name = f"image-{len(self.images) + 1}{mimetypes.guess_extension(image.mime_type) or ''}"
        try:
            self.images.append(self._files.add_bytes(image.data, name))
        except (OSError, AttachmentRefused) as exc:
            log.warning("a picture of answer %s was not kept: %s", self._message_id, exc)

    def append(self, text: str) -> None:
        if self.failed is not None:
            return
        try:
            self._store.append_to_message(self._message_id, text)
        except StorageError as exc:
            self.failed = exc
            raise

    def finish(self, text: str, status: Status, error: str | None, finish_reason: str | None,
               usage: dict[str, object] | None, first_token_ms: int | None, duration_ms: int,
               grounding: dict[str, Any] | None = None, thoughts: str = "",
               gemini_parts: list[dict[str, Any]] | None = None, answered_by: str | None = None,
               continued: bool = False) -> Message:
        """Runs after every append queued before it (one thread, in order), so `failed` is final here."""
        return self._store.finish_message(
            self._message_id, status, error, finish_reason, usage, first_token_ms, duration_ms,
            text=text if self.failed is not None else None, grounding=grounding, thoughts=thoughts,
            gemini_parts=gemini_parts, answered_by=answered_by, continued=continued, attachments=self.images,
        )


class AnswerStream:
    """One run of one answer: reads the backend's events, emits the `Generation`'s signals, saves.

    `run` never raises but for bugs: a failed request, a stop and a failed save
    all end as a final `Message` with the status that says so.

    Attributes:
        status: how the answer ended so far (complete, interrupted or error).
    """

    def __init__(self, generation: Generation, request: GenerationRequest, db: StoreWorker,
                 backend_factory: Callable[[], GeminiBackend | None], report: Callable[[str], None],
                 debug_log: bool = False, files: AttachmentFiles | None = None) -> None:
        self._generation = generation
        self._request = request
        self._db = db
        self._backend_factory = backend_factory
        self._report = report
        self._debug_log = debug_log
        self._saver = AnswerSaver(db.store, generation.message_id, files)
        self._pending: list[str] = []
        self._last_flush = time.monotonic()
        self._flush_timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()
        self._unsaved: BaseException | None = None
        self._chunks = self._retries = 0
        self._rid = request.request_id or "-"
        self.status = Status.COMPLETE
        self._problem: GemchatError | None = None
        self._finish_reason: str | None = None
        self._usage: dict[str, object] | None = None
        self._grounding: dict[str, Any] | None = None
        self._gemini_parts: list[dict[str, Any]] | None = None  # the whole answer as Gemini sent it, at its end
        self._continuing = request.follow_up is not None
        self._started = time.monotonic()
        self._first_token_ms: int | None = None

    async def run(self) -> Message:
        """Streams the answer to its end (or a stop) and saves it; returns the final `Message`."""
        try:
            await self._consume()
        except asyncio.CancelledError:
            self.status = Status.INTERRUPTED
        except GemchatError as exc:
            self._problem = exc
        finally:
            self._flush()
        error = None
        if self._problem is not None:
            log.warning("answer %s failed: %s (%s)", self._rid, self._problem.kind, self._problem.detail)
            self.status, error = Status.ERROR, self._problem.message
        duration_ms = int((time.monotonic() - self._started) * 1000)
        final = await self._save_end(error, duration_ms)
        self._log_end(final, duration_ms)
        return final

    async def _consume(self) -> None:
        backend = self._backend_factory()
        if backend is None:
            raise GemchatError(
                ErrorKind.AUTH, "No Gemini API key is set. Add one (File → API key…) and retry."
            )
        async with contextlib.aclosing(backend.stream(self._request)) as events:
            async for event in events:
                self._on_event(event)
                # Let Qt run between events: when the network is ahead, the SDK hands out
                # buffered chunks without ever suspending, and the window would freeze
                # for as long as the backlog lasts (hundreds of ms in benchmarks/streaming.py).
                await asyncio.sleep(0)

    def _on_event(self, event: StreamEvent) -> None:
        generation = self._generation
        if event.retry_in is not None:
            self._retries += 1
            generation.retrying.emit(event.retry_in, event.error.message if event.error else "")
            return
        if event.upload is not None:
            generation.upload_progress.emit(event.upload.name, event.upload.sent, event.upload.total)
            return
        if event.uploaded is not None:
            self._db.submit(self._db.store.remember_upload, event.uploaded)
            return
        if event.notice:
            self._report(event.notice)
            return
        if event.image is not None:
            if self._first_token_ms is None:
                self._first_token_ms = int((time.monotonic() - self._started) * 1000)
            self._db.submit(self._saver.keep_image, event.image)
            return
        if event.gemini_parts is not None:
            self._gemini_parts = event.gemini_parts
        if event.grounding and not self._continuing:
            # A continuation's offsets count from where it resumed: the first part's citations stay.
            self._grounding = grounding_metadata.merge(self._grounding, event.grounding)
        if event.thought:
            generation.add_thought(event.thought)
        if event.text:
            self._on_text(event.text)
        if event.finish_reason:
            self._finish_reason = event.finish_reason
        if event.usage:
            self._usage = event.usage
        if event.error is not None:
            self._problem = event.error
        elif event.finish_reason in CUT_OFF_REASONS:
            self.status = Status.INTERRUPTED

    def _on_text(self, text: str) -> None:
        if self._first_token_ms is None:
            self._first_token_ms = int((time.monotonic() - self._started) * 1000)
        self._chunks += 1
        self._generation.add_text(text)
        self._pending.append(text)
        waited = time.monotonic() - self._last_flush
        if waited >= FLUSH_INTERVAL:
            self._flush()
        elif self._flush_timer is None:
            self._flush_timer = self._loop.call_later(FLUSH_INTERVAL - waited, self._flush)

    def _flush(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self._pending:
            self._db.submit(self._saver.append, "".join(self._pending)).add_done_callback(self._on_saved)
            self._pending.clear()
        self._last_flush = time.monotonic()

    def _on_saved(self, future: concurrent.futures.Future[None]) -> None:
        """Runs on the database thread: a failure is handed to the loop."""
        if not future.cancelled() and (exc := future.exception()) is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed while quitting
                self._loop.call_soon_threadsafe(self._save_failed, exc)

    def _save_failed(self, exc: BaseException) -> None:
        if self._unsaved is None:  # the user hears about it once per answer, not once per chunk
            self._unsaved = exc
            self._report(f"The answer could not be saved ({exc}); its text stays on screen.")

    async def _save_end(self, error: str | None, duration_ms: int) -> Message:
        generation = self._generation
        text = generation.text
        try:
            return await self._db.run(self._saver.finish, text, self.status, error, self._finish_reason,
                                      self._usage, self._first_token_ms, duration_ms, self._grounding,
                                      generation.thoughts, self._gemini_parts, self._request.model,
                                      self._continuing)
        except StorageError as exc:
            # Still ends the answer on screen; the database keeps what was saved, marked cut off at the next start.
            self._save_failed(exc)
            self.status = Status.ERROR
            return Message(generation.message_id, generation.chat_id, Role.MODEL, text, self.status, utc_now(),
                           f"This answer could not be saved ({exc}). Copy what you need before you "
                           "leave this chat.", finish_reason=self._finish_reason, usage=self._usage,
                           first_token_ms=self._first_token_ms, duration_ms=duration_ms,
                           grounding=self._grounding, thoughts=generation.thoughts)

    def _log_end(self, final: Message, duration_ms: int) -> None:
        ttft = self._first_token_ms
        text = self._generation.text
        log.info("answer %s model=%s status=%s ttft=%s duration=%.2fs chunks=%d chars=%d retries=%d saved=%s",
                 self._rid, self._request.model, final.status,
                 f"{ttft / 1000:.2f}s" if ttft is not None else "-",
                 duration_ms / 1000, self._chunks, len(text), self._retries,
                 "no" if self._unsaved is not None else "yes")
        if self._debug_log:
            question = next((m.text for m in reversed(self._request.history) if m.role is Role.USER), "")
            log.info("answer %s debug: question=%r answer=%r", self._rid, question, text)
