"""What is said in a chat: send, stop, retry, edit a question, continue an answer, versions.

Each action that asks for an answer saves the question first, then starts the
chat's one stream (`Streams`); actions that change the shown branch wait for
each other behind one lock, so two of them never interleave.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal

from gemchat.core.gemini import GeminiBackend
from gemchat.core.image_models import is_image_model
from gemchat.core.messages import Attachment, Chat, GenerationRequest, Message, Role, Status
from gemchat.core.thinking import level_to_send
from gemchat.session.chat_list import ChatList
from gemchat.session.generation import AnswerStream, Generation
from gemchat.session.streams import Streams
from gemchat.session.titles import Titles, title_from
from gemchat.settings import Settings
from gemchat.storage.attachment_files import AttachmentFiles
from gemchat.storage.errors import StorageError
from gemchat.storage.worker import StoreWorker
from gemchat.tasks import Tasks

log = logging.getLogger(__name__)

CONTINUE_PROMPT = (
    "Your previous answer was cut off. Continue it exactly where it stopped, without repeating "
    "anything and without any preamble."
)


class Conversation(QObject):
    """The actions on the open chat's messages, and the start and end of every answer.

    Signals:
        message_added(object): a user `Message` was saved and belongs to the open chat.
        generation_started(object): a `Generation` began in the open chat.
        answer_ended(object): an answer in any chat ended; the final `Message`.
        problem(str): something failed outside the answer's own text (a save); for the status bar.
        unsent(str): a message that could not be saved, so was not sent; its text, to put back.
        unsent_attachments(object): the attachments of that message, to put back too.
    """

    message_added = Signal(object)
    generation_started = Signal(object)
    answer_ended = Signal(object)
    problem = Signal(str)
    unsent = Signal(str)
    unsent_attachments = Signal(object)

    def __init__(self, db: StoreWorker, settings: Settings, backend_factory: Callable[[], GeminiBackend | None],
                 chats: ChatList, streams: Streams, titles: Titles, tasks: Tasks,
                 files: AttachmentFiles | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._store = db.store
        self._settings = settings
        self._backend_factory = backend_factory
        self._chats = chats
        self._streams = streams
        self._titles = titles
        self._tasks = tasks
        self._files = files
        self._send_lock = asyncio.Lock()
        self._closing = False

    def close(self) -> None:
        """Quitting: a question sent from now on is saved, but no answer is asked for."""
        self._closing = True

    # -- the actions -------------------------------------------------------------------

    def send(self, text: str, attachments: Sequence[Attachment] = ()) -> bool:
        """Sends a question in the open chat; whitespace-only text without attachments is refused."""
        if not text.strip() and not attachments:
            return False
        self._tasks.start(self._send(text, list(attachments)))
        return True

    async def send_and_wait(self, text: str, attachments: Sequence[Attachment] = ()) -> None:
        """Sends like `send`, returning once the question is saved in its chat and its answer has started.

        A new chat is made for a question sent in a new chat only when its task runs;
        something done meanwhile (another new chat, another send) could otherwise
        find that chat open and land in it. Awaiting this first rules that out.
        """
        if text.strip() or attachments:
            await self._send(text, list(attachments))

    def stop(self) -> bool:
        """Stops the answer being generated in the open chat; its text is kept."""
        chat = self._chats.chat
        return chat is not None and self._streams.stop(chat.id)

    def retry(self) -> bool:
        """Asks again for an answer to the last question of the open chat.

        The previous answer is kept as another version of it (see `switch_version`).
        """
        chat = self._chats.chat
        if chat is None or self._streams.is_running(chat.id):
            return False
        self._tasks.start(self._retry(chat.id))
        return True

    def edit_question(self, message_id: int, text: str) -> bool:
        """Sends a new version of one of the user's questions; the old branch is kept as a version."""
        chat = self._chats.chat
        if chat is None or not text.strip():
            return False
        self._tasks.start(self._edit(chat.id, message_id, text))
        return True

    def continue_answer(self) -> bool:
        """Asks the model to go on with the open chat's last answer, if it was cut or stopped."""
        chat = self._chats.chat
        if chat is None or self._streams.is_running(chat.id):
            return False
        self._tasks.start(self._continue(chat.id))
        return True

    def switch_version(self, message_id: int, step: int) -> None:
        """Shows another version of a message (step -1: previous, +1: next)."""
        chat = self._chats.chat
        if chat is not None:
            self._tasks.start(self._switch_version(chat.id, message_id, step))

    # -- what each action does, one at a time ---------------------------------------------

    async def _switch_version(self, chat_id: int, message_id: int, step: int) -> None:
        async with self._send_lock:
            if self._streams.is_running(chat_id):
                return  # the branch being streamed into stays shown
            if await self._db.run(self._store.switch_version, message_id, step) is not None:
                await self._chats.open_chat(chat_id)

    async def _send(self, text: str, attachments: list[Attachment]) -> None:
        async with self._send_lock:
            await self._ask(self._chats.chat, text, attachments)

    async def ask_aside(self, chat_id: int | None, text: str) -> tuple[Message, Generation] | None:
        """Asks in a chat that need not be the open one (a new one for None): the question as saved, its answer.

        For quick ask: the window keeps the chat it shows, and the new chat is
        only listed. None when nothing was asked: blank text, the question could
        not be saved (`unsent` says so), or the app is quitting. A chat deleted
        meanwhile gives way to a new one.
        """
        if not text.strip():
            return None
        async with self._send_lock:
            chat = await self._db.run(self._store.get_chat, chat_id) if chat_id is not None else None
            return await self._ask(chat, text, [], aside=True)

    async def _ask(self, chat: Chat | None, text: str, attachments: list[Attachment],
                   aside: bool = False) -> tuple[Message, Generation] | None:
        """Saves the question in `chat` (made first for None), then starts its answer."""
        try:
            if chat is None:
                chat = await self._chats.create_chat(
                    title_from(text) if text.strip() else title_from(attachments[0].name), aside=aside)
            await self._streams.stop_and_wait(chat.id)
            question = await self._db.run(self._store.add_message, chat.id, Role.USER, text,
                                          attachments=attachments)
        except StorageError as exc:
            # Never ask Gemini about a question that is not kept: the answer could not be saved either.
            log.error("question not saved: %s", exc)
            self.problem.emit(f"Your message was not sent: gemchat could not save it ({exc}).")
            if not aside:  # quick ask keeps its own text
                self.unsent.emit(text)
                if attachments:
                    self.unsent_attachments.emit(attachments)
            return None
        if self._chats.is_open(chat.id):
            self.message_added.emit(question)
        generation = await self._start_generation(chat)
        return (question, generation) if generation is not None else None

    async def _retry(self, chat_id: int) -> None:
        async with self._send_lock:
            chat = await self._db.run(self._store.get_chat, chat_id)
            if chat is None or self._streams.is_running(chat_id):
                return
            history = await self._db.run(self._store.messages, chat_id)
            if not history:
                return
            if history[-1].role is Role.MODEL:
                await self._db.run(self._store.set_leaf, chat_id, history[-1].parent_id)
                await self._chats.open_chat(chat_id)
            await self._start_generation(chat)

    async def _edit(self, chat_id: int, message_id: int, text: str) -> None:
        async with self._send_lock:
            chat = await self._db.run(self._store.get_chat, chat_id)
            old = await self._db.run(self._store.get_message, message_id)
            if chat is None or old is None or old.role is not Role.USER or old.chat_id != chat_id:
                return
            await self._streams.stop_and_wait(chat_id)
            # A new version of a question keeps the files the old one carried.
            await self._db.run(self._store.add_message, chat_id, Role.USER, text, parent_id=old.parent_id,
                               attachments=old.attachments)
            await self._chats.open_chat(chat_id)
            await self._start_generation(chat)

    async def _continue(self, chat_id: int) -> None:
        async with self._send_lock:
            chat = await self._db.run(self._store.get_chat, chat_id)
            if chat is None or self._streams.is_running(chat_id):
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

    # -- an answer's start and end --------------------------------------------------------

    async def _start_generation(self, chat: Chat, history: list[Message] | None = None,
                                continuing: Message | None = None) -> Generation | None:
        """Starts streaming an answer after the shown branch (or into `continuing`, a reopened answer)."""
        if self._closing:
            if continuing is not None:
                await self._db.run(self._store.finish_message, continuing.id, Status.INTERRUPTED)
            return None  # the question is saved; the app is quitting, so no answer is asked for
        if history is None:
            history = await self._db.run(self._store.messages, chat.id)
        if continuing is None:
            message = await self._db.run(self._store.add_message, chat.id, Role.MODEL, "", Status.STREAMING)
        else:
            message = continuing
        generation = Generation(chat.id, message, model=chat.model, parent=self)
        self._streams.prepare(generation)
        request = self._request(chat, history, continuing is not None)
        shown = self._chats.is_open(chat.id)
        if continuing is not None and shown:
            await self._chats.open_chat(chat.id)  # shows the reopened answer with the generation attached
        self._streams.start(generation, self._generate(generation, request))
        if continuing is None and shown:
            self.generation_started.emit(generation)
        return generation

    def _request(self, chat: Chat, history: list[Message], continuing: bool) -> GenerationRequest:
        backend = self._backend_factory()
        thinks = backend.model_thinks(chat.model) if backend is not None else None
        chosen = chat.thinking_level or self._settings.thinking_level  # the chat's own, else the default
        return GenerationRequest(
            model=chat.model,
            history=history,
            system_instruction=chat.system_instruction,
            # Only a level the chat's model takes; "default" (and one it does not take) leave it to the model.
            thinking_level=level_to_send("" if chosen == "default" else chosen, chat.model, thinks),
            temperature=self._settings.temperature,
            follow_up=CONTINUE_PROMPT if continuing else None,
            request_id=os.urandom(4).hex(),  # what secrets.token_hex does, without its import (hmac, hashlib: 0.8 MB at rest)
            include_thoughts=self._settings.show_thoughts and thinks is not False,
            google_search=chat.google_search,
            code_execution=chat.code_execution,
            url_context=chat.url_context,
            image_options=chat.image_options if is_image_model(chat.model) else None,
            attachment_path=self._files.path if self._files is not None else None,
        )

    async def _generate(self, generation: Generation, request: GenerationRequest) -> None:
        """One answer's stream, then what its end changes: the chat's activity, its title, the listeners."""
        stream = AnswerStream(generation, request, self._db, self._backend_factory, self.problem.emit, files=self._files,
                              debug_log=self._settings.debug_log)
        final = await stream.run()
        try:
            chat = await self._db.run(self._store.get_chat, generation.chat_id)
        except StorageError as exc:
            log.error("answer %s: chat not read back: %s", request.request_id or "-", exc)
            chat = None
        if chat is not None:
            self._chats.update(chat)
            if stream.status is Status.COMPLETE:
                self._titles.after_answer(chat, request)
        generation.end(final)
        self.answer_ended.emit(final)
