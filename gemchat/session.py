"""The conversation controller: one object between the widgets and the world.

`ChatSession` owns the open chat and every answer being generated. It saves
the question before the request goes out, saves the answer as it streams (at
least every 250 ms, by appending, never rewriting), and tells the widgets what
happened through signals. Widgets never touch the store or the network; the
store and the backend never touch a widget.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import secrets
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject, Signal

from gemchat.core.gemini import GeminiBackend
from gemchat.core.messages import GenerationRequest
from gemchat.core.errors import CUT_OFF_REASONS, ErrorKind, GemchatError
from gemchat.core.messages import utc_now
from gemchat.core.messages import Attachment, Chat, Message, Role, SearchHit, Status
from gemchat.core import grounding as grounding_metadata
from gemchat.settings import Settings
from gemchat.storage.attachment_files import AttachmentFiles
from gemchat.storage.drafts import DraftStore
from gemchat.storage.errors import StorageError
from gemchat.storage.store import ChatStore
from gemchat.storage.worker import StoreWorker
from gemchat.tasks import Tasks

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.25  # seconds; bounds what a crash can lose of an answer
UNDO_SECONDS = 8.0  # how long a deleted chat can be brought back
CONTINUE_PROMPT = (
    "Your previous answer was cut off. Continue it exactly where it stopped, without repeating "
    "anything and without any preamble."
)
TITLE_PROMPT = (
    "Write a title of at most six words for a conversation that starts with the message below. "
    "Answer with the title only: no quotes, no punctuation at the end.\n\nMessage:\n"
)


def clean_title(raw: str, max_chars: int = 60) -> str:
    """A model's title answer, trimmed to one plain line."""
    line = next((ln for ln in raw.strip().splitlines() if ln.strip()), "")
    line = line.strip().strip("\"'“”‘’*#").strip().rstrip(".")
    return title_from(line, max_chars) if line else ""


def title_from(text: str, max_chars: int = 48) -> str:
    """A chat's first title: the first words of its first question."""
    words = " ".join(text.split())
    if len(words) <= max_chars:
        return words
    cut = words[:max_chars].rsplit(" ", 1)[0] or words[:max_chars]
    return cut + "…"


class _AnswerSaver:
    """Saves one streaming answer on the database thread, so the database never holds a hole.

    Appends stop at the first one that fails (disk full, read-only, locked):
    what is stored is then always a beginning of the answer. The end writes the
    whole text in one transaction instead, which either succeeds whole or
    leaves that beginning, to be shown as cut off at the next start.
    """

    def __init__(self, store: ChatStore, message_id: int) -> None:
        self._store = store
        self._message_id = message_id
        self.failed: StorageError | None = None

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
               grounding: dict[str, Any] | None = None, thoughts: str = "") -> Message:
        """Runs after every append queued before it (one thread, in order), so `failed` is final here."""
        return self._store.finish_message(
            self._message_id, status, error, finish_reason, usage, first_token_ms, duration_ms,
            text=text if self.failed is not None else None, grounding=grounding, thoughts=thoughts,
        )


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

    def __init__(self, chat_id: int, message: Message, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.chat_id = chat_id
        self.message_id = message.id
        self._prefix = message.text  # an answer being continued keeps what it had
        self._parts: list[str] = []
        self.received_first = False
        self.thoughts = ""  # the thought summary so far, for a chat reopened mid-answer

    @property
    def text(self) -> str:
        """The answer so far (joined on demand; only read when a chat is reopened)."""
        return self._prefix + "".join(self._parts)

    def _add(self, text: str) -> None:
        self._parts.append(text)
        self.received_first = True
        self.chunk.emit(text)


class ChatSession(QObject):
    """Owns the current chat and the streams of all chats.

    Signals:
        chat_opened(object, object, object): `Chat | None` (None for a new, unsaved
            chat), its messages, and the `Generation` still running in it, if any.
        chat_changed(object): a `Chat` whose title or activity changed.
        chats_listed(object): every chat, newest activity first (deleted ones hidden).
        chat_deleted(int, str): a chat was deleted (id, title); `undo_delete` brings it back.
        message_added(object): a user `Message` was saved and belongs to the open chat.
        generation_started(object): a `Generation` began in the open chat.
        answer_ended(object): an answer in any chat ended; the final `Message`.
        problem(str): something outside any answer failed (storage); for the status bar.
        unsent(str): a message that could not be saved, so was not sent; its text, to put back.
        unsent_attachments(object): the attachments of that message, to put back too.
        message_focused(int): the open chat should bring this message into view (a search hit).
    """

    chat_opened = Signal(object, object, object)
    chat_changed = Signal(object)
    chats_listed = Signal(object)
    chat_deleted = Signal(int, str)
    message_added = Signal(object)
    generation_started = Signal(object)
    answer_ended = Signal(object)
    problem = Signal(str)
    unsent = Signal(str)
    unsent_attachments = Signal(object)
    message_focused = Signal(int)

    def __init__(
        self,
        db: StoreWorker,
        settings: Settings,
        backend_factory: Callable[[], GeminiBackend | None],
        model_override: str | None = None,
        parent: QObject | None = None,
        drafts: DraftStore | None = None,
        attachments: AttachmentFiles | None = None,
    ) -> None:
        super().__init__(parent)
        self._drafts = drafts
        self._files = attachments
        self._search_for_new_chat = False  # the Google Search toggle of a chat not saved yet
        self._db = db
        self._store = db.store
        self._settings = settings
        self._backend_factory = backend_factory
        self._model_override = model_override
        self._chat: Chat | None = None
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._generations: dict[int, Generation] = {}
        # Chat actions run in the background; the window starts its own coroutines here too.
        self.tasks = Tasks(on_failure=self._report_failure)
        self._send_lock = asyncio.Lock()
        self._chats: list[Chat] = []
        self._pending_deletes: dict[int, asyncio.TimerHandle] = {}
        self._deleted_order: list[int] = []
        self._titled: set[int] = set()
        self._closing = False
        # Seconds a deleted chat can be brought back; an attribute so tests need not wait eight.
        self.undo_seconds = UNDO_SECONDS

    # -- state -----------------------------------------------------------------

    @property
    def chat(self) -> Chat | None:
        return self._chat

    def is_generating(self, chat_id: int | None = None) -> bool:
        chat_id = chat_id if chat_id is not None else (self._chat.id if self._chat else None)
        return chat_id is not None and chat_id in self._tasks

    def active_generation(self) -> Generation | None:
        return self._generations.get(self._chat.id) if self._chat else None

    # -- Gemini-native features ----------------------------------------------------

    @property
    def google_search(self) -> bool:
        """Whether the open chat's answers are grounded with Google Search."""
        return self._chat.google_search if self._chat is not None else self._search_for_new_chat

    def set_google_search(self, on: bool) -> None:
        """The open chat's search toggle; a new chat keeps it once its first message saves it."""
        if self._chat is None:
            self._search_for_new_chat = on
            return
        self._chat.google_search = on
        self.tasks.start(self._db.run(self._store.set_google_search, self._chat.id, on))

    async def attach_files(self, paths: list[Path], already: int) -> tuple[list[Attachment], list[str]]:
        """Copies files into the attachment folder (off the UI thread); returns them and why others were not.

        `already` is how many files the message has, for the per-message limit.
        """
        from gemchat.storage.attachment_files import AttachmentRefused

        if self._files is None:
            return [], ["Attachments are not available in this window."]
        files = self._files

        def add_all() -> tuple[list[Attachment], list[str]]:
            added: list[Attachment] = []
            refused: list[str] = []
            for path in paths:
                try:
                    added.append(files.add_file(path, already + len(added)))
                except AttachmentRefused as exc:
                    refused.append(str(exc))
                except OSError as exc:
                    refused.append(f"{path.name} was not attached: {exc.strerror or exc}.")
            return added, refused

        return await asyncio.get_running_loop().run_in_executor(None, add_all)

    async def attach_bytes(self, data: bytes, name: str, already: int) -> tuple[list[Attachment], list[str]]:
        """Keeps pasted bytes (an image from the clipboard) as an attachment; like `attach_files`."""
        from gemchat.storage.attachment_files import AttachmentRefused

        if self._files is None:
            return [], ["Attachments are not available in this window."]
        files = self._files

        def add() -> tuple[list[Attachment], list[str]]:
            try:
                return [files.add_bytes(data, name, already)], []
            except AttachmentRefused as exc:
                return [], [str(exc)]
            except OSError as exc:
                return [], [f"{name} was not attached: {exc.strerror or exc}."]

        return await asyncio.get_running_loop().run_in_executor(None, add)

    def attachment_path(self, sha256: str) -> Path | None:
        """Where an attachment's copy is, for thumbnails and opening it; None when it is missing."""
        if self._files is None or not self._files.has(sha256):
            return None
        return self._files.path(sha256)

    def current_model(self) -> str:
        """The model the next answer in the open chat (or a new one) comes from."""
        if self._chat is not None:
            return self._chat.model
        return self._model_override or self._settings.model

    async def input_token_limit(self) -> int | None:
        """The open chat's model's input token limit, or None when unknown (no key, no network)."""
        backend = self._backend_factory()
        if backend is None:
            return None
        try:
            return await backend.input_token_limit(self.current_model())
        except Exception as exc:  # the meter is a convenience; it goes quiet instead
            log.info("no input token limit: %s", type(exc).__name__)
            return None

    async def count_tokens(self, text: str) -> int | None:
        """Tokens of `text` for the open chat's model (`countTokens`); None when it cannot be asked."""
        if not text.strip():
            return 0
        backend = self._backend_factory()
        if backend is None:
            return None
        try:
            return await backend.count_tokens(self.current_model(), text)
        except Exception as exc:
            log.info("tokens not counted: %s", type(exc).__name__)
            return None

    async def list_models(self) -> list[str]:
        """Models the API lists for chat; raises when there is no key or no answer."""
        backend = self._backend_factory()
        if backend is None:
            raise GemchatError(ErrorKind.AUTH, "No API key is set.")
        return await backend.list_models()

    # -- opening chats ---------------------------------------------------------

    async def open_chat(self, chat_id: int) -> None:
        chat = await self._db.run(self._store.get_chat, chat_id)
        if chat is None or chat_id in self._pending_deletes:
            await self.new_chat()
            return
        messages = await self._db.run(self._store.messages, chat_id)
        self._chat = chat
        self.chat_opened.emit(chat, messages, self._generations.get(chat_id))

    async def search(self, text: str) -> list[SearchHit]:
        """Every chat's titles and messages containing the words typed; [] if the search fails."""
        try:
            return await self._db.run(self._store.search, text)
        except StorageError as exc:
            self.problem.emit(f"Search failed: {exc}")
            return []

    def open_hit(self, hit: SearchHit) -> None:
        """Opens the chat of a search result, showing the branch its message is on."""
        self.tasks.start(self._open_hit(hit))

    async def _open_hit(self, hit: SearchHit) -> None:
        if hit.message_id is not None and not self.is_generating(hit.chat_id):
            await self._db.run(self._store.reveal, hit.message_id)
        await self.open_chat(hit.chat_id)
        if hit.message_id is not None:
            self.message_focused.emit(hit.message_id)

    async def open_last_chat(self) -> None:
        """At start-up: the chat with the newest activity, or a new one."""
        chat_id = await self._db.run(self._store.last_chat_id)
        if chat_id is None:
            await self.new_chat()
        else:
            await self.open_chat(chat_id)

    async def new_chat(self) -> None:
        """A fresh chat; it is saved with its first message, so empty chats never pile up."""
        self._chat = None
        self._search_for_new_chat = False  # each chat starts without search
        self.chat_opened.emit(None, [], None)

    # -- the list of chats ----------------------------------------------------------

    @property
    def chats(self) -> list[Chat]:
        return list(self._chats)

    async def refresh_chats(self) -> None:
        chats = await self._db.run(self._store.list_chats)
        self._chats = [c for c in chats if c.id not in self._pending_deletes]
        self.chats_listed.emit(self.chats)

    def _changed(self, chat: Chat) -> None:
        self.chat_changed.emit(chat)
        self.tasks.start(self.refresh_chats())

    def switch_by(self, step: int) -> None:
        """Opens the chat `step` places down (negative: up) the list, wrapping around."""
        ids = [c.id for c in self._chats]
        if not ids:
            return
        current = self._chat.id if self._chat else None
        index = ids.index(current) + step if current in ids else (0 if step > 0 else -1)
        self.tasks.start(self.open_chat(ids[index % len(ids)]))

    def switch_to(self, position: int) -> None:
        """Opens the chat at that place in the list (0-based); 8 (Ctrl+9) is the last, as in browsers."""
        if self._chats:
            last = len(self._chats) - 1
            self.tasks.start(self.open_chat(self._chats[last if position >= 8 else min(position, last)].id))

    def rename_chat(self, chat_id: int, title: str) -> None:
        title = " ".join(title.split())
        if title:
            self._titled.add(chat_id)
            self.tasks.start(self._rename(chat_id, title))

    async def _rename(self, chat_id: int, title: str) -> None:
        await self._db.run(self._store.set_title, chat_id, title)
        chat = await self._db.run(self._store.get_chat, chat_id)
        if chat is not None:
            if self._chat is not None and self._chat.id == chat_id:
                self._chat = chat
            self._changed(chat)

    def delete_chat(self, chat_id: int) -> None:
        """Hides the chat at once and deletes it after `undo_seconds` unless undone."""
        if chat_id in self._pending_deletes:
            return
        title = next((c.title for c in self._chats if c.id == chat_id), "")
        task = self._tasks.get(chat_id)
        if task is not None:
            task.cancel()
        ids = [c.id for c in self._chats]
        loop = asyncio.get_event_loop()
        self._pending_deletes[chat_id] = loop.call_later(
            self.undo_seconds, lambda: self.tasks.start(self._delete_now(chat_id))
        )
        self._deleted_order.append(chat_id)
        self._chats = [c for c in self._chats if c.id != chat_id]
        self.chats_listed.emit(self.chats)
        self.chat_deleted.emit(chat_id, title)
        if self._chat is not None and self._chat.id == chat_id:
            rest = [i for i in ids if i != chat_id]
            if rest:
                position = min(ids.index(chat_id), len(rest) - 1)
                self.tasks.start(self.open_chat(rest[position]))
            else:
                self.tasks.start(self.new_chat())

    def undo_delete(self) -> bool:
        """Brings back the most recently deleted chat, if it is still within the undo time."""
        while self._deleted_order:
            chat_id = self._deleted_order.pop()
            handle = self._pending_deletes.pop(chat_id, None)
            if handle is not None:
                handle.cancel()
                self.tasks.start(self._restore(chat_id))
                return True
        return False

    async def _restore(self, chat_id: int) -> None:
        await self.refresh_chats()
        await self.open_chat(chat_id)

    async def _delete_now(self, chat_id: int) -> None:
        if self._pending_deletes.pop(chat_id, None) is None:
            return
        await self._stop_and_wait(chat_id)
        await self._db.run(self._store.delete_chat, chat_id)

    def set_chat_options(self, model: str, system_instruction: str) -> None:
        """Changes the open chat's model and system instruction (new chats still take the defaults)."""
        if self._chat is not None and model.strip():
            self.tasks.start(self._set_chat_options(self._chat.id, model.strip(), system_instruction.strip() or None))

    async def _set_chat_options(self, chat_id: int, model: str, system_instruction: str | None) -> None:
        await self._db.run(self._store.set_chat_options, chat_id, model, system_instruction)
        chat = await self._db.run(self._store.get_chat, chat_id)
        if chat is not None:
            if self._chat is not None and self._chat.id == chat_id:
                self._chat = chat
            self._changed(chat)

    # -- drafts -----------------------------------------------------------------------

    def draft(self, chat_id: int | None) -> str:
        """What was typed in that chat's message box and not sent ("" for none)."""
        return self._drafts.get(chat_id) if self._drafts is not None else ""

    def save_draft(self, chat_id: int | None, text: str) -> None:
        """Keeps unsent text; written on the database thread, in order with everything else."""
        if self._drafts is not None:
            self._db.submit(self._drafts.put, chat_id, text)

    # -- export and import ---------------------------------------------------------

    async def export_to(self, path: str, markdown: bool, chat_id: int | None) -> None:
        """Writes one chat (or all) to a file, on the database thread.

        JSON takes the attached files along, in a folder beside it (see `exchange`).
        """
        from gemchat.storage.exchange import export_bundle, export_markdown

        def write() -> None:
            if not markdown and self._files is not None:
                export_bundle(self._store, self._files, Path(path), chat_id)
                return
            text = export_markdown(self._store, chat_id)
            with open(path, "w", encoding="utf-8") as file:
                file.write(text if text.endswith("\n") else text + "\n")

        await self._db.run(write)

    async def import_from(self, path: str) -> int:
        """Adds the chats of an export file; raises ImportFormatError/OSError with a reason."""
        from gemchat.storage.exchange import import_json

        def read_and_import() -> list[int]:
            with open(path, encoding="utf-8") as file:
                return import_json(self._store, file.read(), self._files, Path(path))

        ids = await self._db.run(read_and_import)
        await self.refresh_chats()
        return len(ids)

    # -- sending ---------------------------------------------------------------

    def send(self, text: str, attachments: Sequence[Attachment] = ()) -> bool:
        """Sends a question in the open chat; whitespace-only text without attachments is refused."""
        if not text.strip() and not attachments:
            return False
        self.tasks.start(self._send(text, list(attachments)))
        return True

    def stop(self) -> bool:
        """Stops the answer being generated in the open chat; its text is kept."""
        task = self._tasks.get(self._chat.id) if self._chat else None
        if task is None:
            return False
        task.cancel()
        return True

    def retry(self) -> bool:
        """Asks again for an answer to the last question of the open chat.

        The previous answer is kept as another version of it (see `switch_version`).
        """
        if self._chat is None or self.is_generating():
            return False
        self.tasks.start(self._retry(self._chat.id))
        return True

    def edit_question(self, message_id: int, text: str) -> bool:
        """Sends a new version of one of the user's questions; the old branch is kept as a version."""
        if self._chat is None or not text.strip():
            return False
        self.tasks.start(self._edit(self._chat.id, message_id, text))
        return True

    def continue_answer(self) -> bool:
        """Asks the model to go on with the open chat's last answer, if it was cut or stopped."""
        if self._chat is None or self.is_generating():
            return False
        self.tasks.start(self._continue(self._chat.id))
        return True

    def switch_version(self, message_id: int, step: int) -> None:
        """Shows another version of a message (step -1: previous, +1: next)."""
        if self._chat is not None:
            self.tasks.start(self._switch_version(self._chat.id, message_id, step))

    async def _switch_version(self, chat_id: int, message_id: int, step: int) -> None:
        async with self._send_lock:
            if chat_id in self._tasks:
                return  # the branch being streamed into stays shown
            if await self._db.run(self._store.switch_version, message_id, step) is not None:
                await self.open_chat(chat_id)

    async def _send(self, text: str, attachments: list[Attachment] | None = None) -> None:
        attachments = attachments or []
        async with self._send_lock:
            chat = self._chat
            try:
                if chat is None:
                    model = self._model_override or self._settings.model
                    chat = await self._db.run(
                        self._store.create_chat, model,
                        title_from(text) if text.strip() else title_from(attachments[0].name),
                        self._settings.system_instruction or None, google_search=self._search_for_new_chat,
                    )
                    self._chat = chat
                    self._changed(chat)
                await self._stop_and_wait(chat.id)
                question = await self._db.run(self._store.add_message, chat.id, Role.USER, text,
                                              attachments=attachments)
            except StorageError as exc:
                # Never ask Gemini about a question that is not kept: the answer could not be saved either.
                log.error("question not saved: %s", exc)
                self.problem.emit(f"Your message was not sent: gemchat could not save it ({exc}).")
                self.unsent.emit(text)
                if attachments:
                    self.unsent_attachments.emit(attachments)
                return
            if self._chat is not None and self._chat.id == chat.id:
                self.message_added.emit(question)
            await self._start_generation(chat)

    async def _retry(self, chat_id: int) -> None:
        async with self._send_lock:
            chat = await self._db.run(self._store.get_chat, chat_id)
            if chat is None or chat_id in self._tasks:
                return
            history = await self._db.run(self._store.messages, chat_id)
            if not history:
                return
            if history[-1].role is Role.MODEL:
                await self._db.run(self._store.set_leaf, chat_id, history[-1].parent_id)
                await self.open_chat(chat_id)
            await self._start_generation(chat)

    async def _edit(self, chat_id: int, message_id: int, text: str) -> None:
        async with self._send_lock:
            chat = await self._db.run(self._store.get_chat, chat_id)
            old = await self._db.run(self._store.get_message, message_id)
            if chat is None or old is None or old.role is not Role.USER or old.chat_id != chat_id:
                return
            await self._stop_and_wait(chat_id)
            # A new version of a question keeps the files the old one carried.
            await self._db.run(self._store.add_message, chat_id, Role.USER, text, parent_id=old.parent_id,
                               attachments=old.attachments)
            await self.open_chat(chat_id)
            await self._start_generation(chat)

    async def _continue(self, chat_id: int) -> None:
        async with self._send_lock:
            chat = await self._db.run(self._store.get_chat, chat_id)
            if chat is None or chat_id in self._tasks:
                return
            history = await self._db.run(self._store.messages, chat_id)
            last = history[-1] if history else None
            if last is None or last.role is not Role.MODEL or not last.text.strip() \
                    or last.status is Status.COMPLETE:
                self.problem.emit("There is no cut-off answer to continue.")
                return
            last.status = Status.INTERRUPTED  # the model must see its partial answer, even a failed one
            reopened = await self._db.run(self._store.reopen_message, last.id)
            await self._start_generation(chat, history=history, continuing=reopened)

    async def _stop_and_wait(self, chat_id: int) -> None:
        task = self._tasks.get(chat_id)
        if task is not None:
            task.cancel()
            await asyncio.wait([task])

    async def _start_generation(self, chat: Chat, history: list[Message] | None = None,
                                continuing: Message | None = None) -> None:
        """Starts streaming an answer after the shown branch (or into `continuing`, a reopened answer)."""
        if self._closing:
            if continuing is not None:
                await self._db.run(self._store.finish_message, continuing.id, Status.INTERRUPTED)
            return  # the question is saved; the app is quitting, so no answer is asked for
        if history is None:
            history = await self._db.run(self._store.messages, chat.id)
        if continuing is None:
            message = await self._db.run(self._store.add_message, chat.id, Role.MODEL, "", Status.STREAMING)
        else:
            message = continuing
        generation = Generation(chat.id, message, parent=self)
        self._generations[chat.id] = generation
        request = GenerationRequest(
            model=chat.model,
            history=history,
            system_instruction=chat.system_instruction,
            thinking_level=self._settings.thinking_level,
            temperature=self._settings.temperature,
            follow_up=CONTINUE_PROMPT if continuing is not None else None,
            request_id=secrets.token_hex(4),
            include_thoughts=self._settings.show_thoughts,
            google_search=chat.google_search,
            attachment_path=self._files.path if self._files is not None else None,
        )
        shown = self._chat is not None and self._chat.id == chat.id
        if continuing is not None and shown:
            await self.open_chat(chat.id)  # shows the reopened answer with the generation attached
        task = asyncio.ensure_future(self._generate(generation, request))
        self._tasks[chat.id] = task
        task.add_done_callback(lambda t, cid=chat.id: self._forget(cid, t))
        if continuing is None and shown:
            self.generation_started.emit(generation)

    def _forget(self, chat_id: int, task: asyncio.Task[None]) -> None:
        generation = None
        if self._tasks.get(chat_id) is task:
            del self._tasks[chat_id]
            generation = self._generations.pop(chat_id, None)
        if task.cancelled() and generation is not None:
            # Cancelled before it ever ran: nothing arrived, but the placeholder must not stay 'streaming'.
            self._db.submit(self._store.finish_message, generation.message_id, Status.INTERRUPTED)
        if generation is not None:
            generation.deleteLater()
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("generation task failed", exc_info=exc)
            self.problem.emit(f"An answer could not be saved: {exc}")

    async def _generate(self, generation: Generation, request: GenerationRequest) -> None:
        """Streams one answer into the store and the signals; never raises but for bugs."""
        message_id = generation.message_id
        saver = _AnswerSaver(self._store, message_id)
        pending: list[str] = []
        last_flush = time.monotonic()
        flush_timer: asyncio.TimerHandle | None = None
        loop = asyncio.get_running_loop()
        unsaved: list[BaseException] = []
        chunks = retries = 0
        rid = request.request_id or "-"

        def save_failed(exc: BaseException) -> None:
            if not unsaved:  # the user hears about it once per answer, not once per chunk
                unsaved.append(exc)
                self.problem.emit(f"The answer could not be saved ({exc}); its text stays on screen.")

        def on_saved(future: "concurrent.futures.Future[None]") -> None:
            if not future.cancelled() and (exc := future.exception()) is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed while quitting
                    loop.call_soon_threadsafe(save_failed, exc)

        def flush() -> None:
            nonlocal last_flush, flush_timer
            if flush_timer is not None:
                flush_timer.cancel()
                flush_timer = None
            if pending:
                self._db.submit(saver.append, "".join(pending)).add_done_callback(on_saved)
                pending.clear()
            last_flush = time.monotonic()

        status, error, problem = Status.COMPLETE, None, None
        finish_reason: str | None = None
        usage: dict[str, object] | None = None
        grounding: dict[str, Any] | None = None
        continuing = request.follow_up is not None
        started = time.monotonic()
        first_token_ms: int | None = None
        try:
            backend = self._backend_factory()
            if backend is None:
                raise GemchatError(
                    ErrorKind.AUTH, "No Gemini API key is set. Add one (File → API key…) and retry."
                )
            async with contextlib.aclosing(backend.stream(request)) as events:
                async for event in events:
                    if event.retry_in is not None:
                        retries += 1
                        reason = event.error.message if event.error else ""
                        generation.retrying.emit(event.retry_in, reason)
                        continue
                    if event.upload is not None:
                        generation.upload_progress.emit(event.upload.name, event.upload.sent, event.upload.total)
                        continue
                    if event.uploaded is not None:
                        self._db.submit(self._store.remember_upload, event.uploaded)
                        continue
                    if event.grounding and not continuing:
                        # A continuation's offsets count from where it resumed: the first part's citations stay.
                        grounding = grounding_metadata.merge(grounding, event.grounding)
                    if event.thought:
                        generation.thoughts += event.thought
                        generation.thought.emit(event.thought)
                    if event.text:
                        if first_token_ms is None:
                            first_token_ms = int((time.monotonic() - started) * 1000)
                        chunks += 1
                        generation._add(event.text)
                        pending.append(event.text)
                        waited = time.monotonic() - last_flush
                        if waited >= FLUSH_INTERVAL:
                            flush()
                        elif flush_timer is None:
                            flush_timer = loop.call_later(FLUSH_INTERVAL - waited, flush)
                    if event.finish_reason:
                        finish_reason = event.finish_reason
                    if event.usage:
                        usage = event.usage
                    if event.error is not None:
                        problem = event.error
                    elif event.finish_reason in CUT_OFF_REASONS:
                        status = Status.INTERRUPTED
                    # Let Qt run between events: when the network is ahead, the SDK hands out
                    # buffered chunks without ever suspending, and the window would freeze
                    # for as long as the backlog lasts (hundreds of ms in benchmarks/streaming.py).
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            status = Status.INTERRUPTED
        except GemchatError as exc:
            problem = exc
        finally:
            flush()
        if problem is not None:
            log.warning("answer %s failed: %s (%s)", rid, problem.kind, problem.detail)
            status, error = Status.ERROR, problem.message
        duration_ms = int((time.monotonic() - started) * 1000)
        text = generation.text
        try:
            final = await self._db.run(saver.finish, text, status, error, finish_reason, usage,
                                       first_token_ms, duration_ms, grounding, generation.thoughts)
        except StorageError as exc:
            # Still ends the answer on screen; the database keeps what was saved, marked cut off at the next start.
            save_failed(exc)
            status = Status.ERROR
            final = Message(message_id, generation.chat_id, Role.MODEL, text, status, utc_now(),
                            f"This answer could not be saved ({exc}). Copy what you need before you "
                            "leave this chat.", finish_reason=finish_reason, usage=usage,
                            first_token_ms=first_token_ms, duration_ms=duration_ms, grounding=grounding,
                            thoughts=generation.thoughts)
        log.info("answer %s model=%s status=%s ttft=%s duration=%.2fs chunks=%d chars=%d retries=%d saved=%s",
                 rid, request.model, final.status,
                 f"{first_token_ms / 1000:.2f}s" if first_token_ms is not None else "-",
                 duration_ms / 1000, chunks, len(text), retries, "no" if unsaved else "yes")
        if self._settings.debug_log:
            question = next((m.text for m in reversed(request.history) if m.role is Role.USER), "")
            log.info("answer %s debug: question=%r answer=%r", rid, question, text)
        try:
            chat = await self._db.run(self._store.get_chat, generation.chat_id)
        except StorageError as exc:
            log.error("answer %s: chat not read back: %s", rid, exc)
            chat = None
        if chat is not None:
            if self._chat is not None and self._chat.id == chat.id:
                self._chat = chat
            self._changed(chat)
            if status is Status.COMPLETE and chat.id not in self._titled:
                self._titled.add(chat.id)
                self.tasks.start(self._make_title(chat, request))
        if status is Status.ERROR:
            generation.failed.emit(final)
        else:
            generation.finished.emit(final)
        self.answer_ended.emit(final)

    async def _make_title(self, chat: Chat, request: GenerationRequest) -> None:
        """After the first answer, a short title from the model, in the background.

        The first words of the question stay the title when this fails or the
        user renamed the chat meanwhile.
        """
        first = next((m for m in request.history if m.role is Role.USER), None)
        backend = self._backend_factory()
        if first is None or backend is None or chat.title != title_from(first.text):
            return
        try:
            title = clean_title(await backend.generate_text(chat.model, TITLE_PROMPT + first.text[:2000]))
        except GemchatError as exc:
            log.info("no title from the model: %s", exc.kind)
            return
        current = await self._db.run(self._store.get_chat, chat.id)
        if title and current is not None and current.title == chat.title:
            await self._rename(chat.id, title)

    # -- lifecycle -------------------------------------------------------------

    def _report_failure(self, exc: BaseException) -> None:
        if isinstance(exc, StorageError):
            self.problem.emit(f"gemchat could not write its database: {exc}")
        else:
            self.problem.emit(f"Something went wrong: {exc}")

    async def shutdown(self) -> None:
        """Stops every stream, saving what arrived as interrupted; call before the loop ends.

        Chats deleted within the undo time are deleted now.
        """
        self._closing = True
        for chat_id, handle in list(self._pending_deletes.items()):
            handle.cancel()
            self.tasks.start(self._delete_now(chat_id))
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        await self.tasks.shutdown(timeout=5, cancel=False)
        if late := list(self._tasks.values()):  # started while the first ones were stopping
            for task in late:
                task.cancel()
            await asyncio.wait(late)
