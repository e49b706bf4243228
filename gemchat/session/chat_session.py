"""The conversation controller: one object between the widgets and the world.

`ChatSession` is what the window talks to. It composes the parts that do the
work (the chat list, the conversation, the streams, the titles) and passes
their signals straight through. Widgets never touch the store or the network;
the store and the backend never touch a widget.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from gemchat.core.errors import ErrorKind, GemchatError
from gemchat.core.gemini import GeminiBackend
from gemchat.core.image_models import ImageOptions
from gemchat.core.messages import Attachment, Chat, Folder, Message, SearchHit
from gemchat.core.thinking import accepted_levels
from gemchat.files import write_atomically
from gemchat.session.attachments import add_bytes, add_files
from gemchat.session.chat_list import ChatList
from gemchat.session.conversation import Conversation
from gemchat.session.generation import Generation
from gemchat.session.streams import Streams
from gemchat.session.titles import Titles
from gemchat.settings import Settings
from gemchat.storage.attachment_files import AttachmentFiles
from gemchat.storage.drafts import DraftStore
from gemchat.storage.errors import StorageError
from gemchat.storage.worker import StoreWorker
from gemchat.tasks import Tasks

log = logging.getLogger(__name__)


class ChatSession(QObject):
    """Owns the current chat and the streams of all chats.

    Attributes:
        tasks: chat actions run in the background here; the window starts its own coroutines here too.

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
        self._db = db
        self._store = db.store
        self._drafts = drafts
        self._files = attachments
        self._backend_factory = backend_factory
        self.tasks = Tasks(on_failure=self._report_failure)
        self.streams = Streams(db, on_failure=lambda exc: self.problem.emit(f"An answer could not be saved: {exc}"))
        self._chats = ChatList(db, settings, self.streams, self.tasks, model_override, parent=self)
        self._titles = Titles(db, backend_factory, self._chats.rename, self.tasks)
        self._conversation = Conversation(db, settings, backend_factory, self._chats, self.streams,
                                          self._titles, self.tasks, attachments, parent=self)
        for source, signal in (
            (self._chats.chat_opened, self.chat_opened),
            (self._chats.chat_changed, self.chat_changed),
            (self._chats.chats_listed, self.chats_listed),
            (self._chats.chat_deleted, self.chat_deleted),
            (self._chats.message_focused, self.message_focused),
            (self._chats.problem, self.problem),
            (self._conversation.message_added, self.message_added),
            (self._conversation.generation_started, self.generation_started),
            (self._conversation.answer_ended, self.answer_ended),
            (self._conversation.problem, self.problem),
            (self._conversation.unsent, self.unsent),
            (self._conversation.unsent_attachments, self.unsent_attachments),
        ):
            source.connect(signal)

    # -- state -----------------------------------------------------------------

    @property
    def chat(self) -> Chat | None:
        return self._chats.chat

    @property
    def chats(self) -> list[Chat]:
        return self._chats.chats

    @property
    def undo_seconds(self) -> float:
        """How long a deleted chat can be brought back; settable, so tests need not wait eight."""
        return self._chats.undo_seconds

    @undo_seconds.setter
    def undo_seconds(self, seconds: float) -> None:
        self._chats.undo_seconds = seconds

    def is_generating(self, chat_id: int | None = None) -> bool:
        chat = self._chats.chat
        chat_id = chat_id if chat_id is not None else (chat.id if chat else None)
        return chat_id is not None and self.streams.is_running(chat_id)

    def active_generation(self) -> Generation | None:
        chat = self._chats.chat
        return self.streams.generation(chat.id) if chat else None

    # -- Gemini-native features ----------------------------------------------------

    @property
    def google_search(self) -> bool:
        """Whether the open chat's answers are grounded with Google Search."""
        return self._chats.google_search

    def set_google_search(self, on: bool) -> None:
        self._chats.set_google_search(on)

    def tool(self, name: str) -> bool:
        """Whether the open chat has that tool on: "google_search", "code_execution" or "url_context"."""
        return self._chats.tool(name)

    def set_tool(self, name: str, on: bool) -> None:
        self._chats.set_tool(name, on)

    async def attach_files(self, paths: list[Path], already: int) -> tuple[list[Attachment], list[str]]:
        """Copies files into the attachment folder (off the UI thread); returns them and why others were not."""
        return await add_files(self._files, paths, already)

    async def attach_bytes(self, data: bytes, name: str, already: int) -> tuple[list[Attachment], list[str]]:
        """Keeps pasted bytes (an image from the clipboard) as an attachment; like `attach_files`."""
        return await add_bytes(self._files, data, name, already)

    def attachment_path(self, sha256: str) -> Path | None:
        """Where an attachment's copy is, for thumbnails and opening it; None when it is missing."""
        if self._files is None or not self._files.has(sha256):
            return None
        return self._files.path(sha256)

    def current_model(self) -> str:
        return self._chats.current_model()

    async def input_token_limit(self) -> int | None:
        """The open chat's model's input token limit, or None when unknown (no key, no network)."""
        backend = self._backend_factory()
        if backend is None:
            return None
        try:
            return await backend.input_token_limit(self.current_model())
        except Exception as exc:
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

    # -- the chats (see ChatList) ------------------------------------------------------

    async def open_chat(self, chat_id: int) -> None:
        await self._chats.open_chat(chat_id)

    async def open_last_chat(self) -> None:
        await self._chats.open_last_chat()

    async def new_chat(self) -> None:
        await self._chats.new_chat()

    async def refresh_chats(self) -> None:
        await self._chats.refresh_chats()

    async def search(self, text: str) -> list[SearchHit]:
        return await self._chats.search(text)

    def open_hit(self, hit: SearchHit) -> None:
        self._chats.open_hit(hit)

    def switch_by(self, step: int) -> None:
        self._chats.switch_by(step)

    def switch_to(self, position: int) -> None:
        self._chats.switch_to(position)

    def rename_chat(self, chat_id: int, title: str) -> None:
        """Renames a chat; the model is then never asked for a title of it."""
        title = " ".join(title.split())
        if title:
            self._titles.keep(chat_id)
            self.tasks.start(self._chats.rename(chat_id, title))

    # -- folders ---------------------------------------------------------------------------

    @property
    def folders(self) -> list[Folder]:
        return self._chats.folders

    def new_folder(self, name: str, chat_id: int | None = None) -> None:
        """Makes a folder (with that chat in it, if given); the chats are listed again."""
        name = " ".join(name.split())
        if name:
            self.tasks.start(self._chats.new_folder(name, chat_id))

    def rename_folder(self, folder_id: int, name: str) -> None:
        name = " ".join(name.split())
        if name:
            self._chats.change_folders(self._store.folders.rename, folder_id, name)

    def delete_folder(self, folder_id: int) -> None:
        """Deletes the folder; its chats stay, out of any folder."""
        self._chats.change_folders(self._store.folders.delete, folder_id)

    def set_folder_collapsed(self, folder_id: int, collapsed: bool) -> None:
        self._chats.change_folders(self._store.folders.set_collapsed, folder_id, collapsed)

    def move_to_folder(self, chat_id: int, folder_id: int | None) -> None:
        """Puts the chat in that folder, or in none."""
        self._chats.change_folders(self._store.folders.move_chat, chat_id, folder_id)

    def set_pinned(self, chat_id: int, pinned: bool) -> None:
        """Pins a chat (listed first, under Pinned) or unpins it."""
        self._chats.set_pinned(chat_id, pinned)

    def set_chat_options(self, model: str, system_instruction: str, thinking_level: str | None = None,
                         image_options: ImageOptions | None = None) -> None:
        """The open chat's model, system instruction and (unless None) its thinking level and image options."""
        self._chats.set_chat_options(model, system_instruction, thinking_level, image_options)

    def set_chat_model(self, model: str) -> None:
        """The open chat's model (the model chip), as `set_chat_options` sets it, the rest kept; for a new chat,
        the model it will be saved with (its first message)."""
        self._chats.set_model(model)

    def thinking_levels(self, model: str) -> tuple[str, ...] | None:
        """The thinking levels `model` takes (() none, None unknown), as far as gemchat knows (`core.thinking`)."""
        backend = self._backend_factory()
        return accepted_levels(model, backend.model_thinks(model) if backend is not None else None)

    def delete_chat(self, chat_id: int) -> None:
        self._chats.delete_chat(chat_id)

    def undo_delete(self) -> bool:
        return self._chats.undo_delete()

    # -- the conversation (see Conversation) --------------------------------------------

    def send(self, text: str, attachments: Sequence[Attachment] = ()) -> bool:
        return self._conversation.send(text, attachments)

    async def send_and_wait(self, text: str, attachments: Sequence[Attachment] = ()) -> None:
        await self._conversation.send_and_wait(text, attachments)

    async def ask_aside(self, chat_id: int | None, text: str) -> tuple[Message, Generation] | None:
        """Asks in a chat other than the open one, or a new one for None (quick ask); see `Conversation`."""
        return await self._conversation.ask_aside(chat_id, text)

    def stop(self) -> bool:
        return self._conversation.stop()

    def stop_in(self, chat_id: int) -> bool:
        """Stops the answer coming in that chat, open or not; what arrived is kept."""
        return self.streams.stop(chat_id)

    def retry(self) -> bool:
        return self._conversation.retry()

    def edit_question(self, message_id: int, text: str) -> bool:
        return self._conversation.edit_question(message_id, text)

    def continue_answer(self) -> bool:
        return self._conversation.continue_answer()

    def switch_version(self, message_id: int, step: int) -> None:
        self._conversation.switch_version(message_id, step)

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
            write_atomically(Path(path), text if text.endswith("\n") else text + "\n")

        await self._db.run(write)

    async def import_from(self, path: str) -> int:
        """Adds the chats of an export file; raises ImportFormatError/OSError with a reason."""
        from gemchat.storage.exchange import import_json

        def read_and_import() -> list[int]:
            with open(path, encoding="utf-8") as file:
                return import_json(self._store, file.read(), self._files, Path(path))

        ids = await self._db.run(read_and_import)
        await self._chats.refresh_chats()
        return len(ids)

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
        self._conversation.close()
        self._chats.delete_pending_now()
        await self.streams.stop_all()
        await self.tasks.shutdown(timeout=5, cancel=False)
        await self.streams.shutdown()  # those started while the first ones were stopping
