"""The chats: which one is open, the list of them, and what is done to a whole chat.

Opening, switching, renaming, a chat's options and deleting with undo live
here; what is said inside a chat is the conversation's (`conversation.py`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from gemchat.core.image_models import ImageOptions
from gemchat.core.messages import Chat, Folder, SearchHit
from gemchat.session.streams import Streams
from gemchat.settings import Settings
from gemchat.storage.errors import StorageError
from gemchat.storage.worker import StoreWorker
from gemchat.tasks import Tasks

UNDO_SECONDS = 8.0  # how long a deleted chat can be brought back


class ChatList(QObject):
    """The open chat and the list of every chat, newest activity first.

    Attributes:
        undo_seconds: how long a deleted chat can be brought back; an attribute
            so tests need not wait eight.

    Signals:
        chat_opened(object, object, object): `Chat | None` (None for a new, unsaved
            chat), its messages, and the `Generation` still running in it, if any.
        chat_changed(object): a `Chat` whose title or activity changed.
        chats_listed(object): every chat, newest activity first (deleted ones hidden).
        chat_deleted(int, str): a chat was deleted (id, title); `undo_delete` brings it back.
        message_focused(int): the open chat should bring this message into view (a search hit).
        problem(str): a search failed; for the status bar.
    """

    chat_opened = Signal(object, object, object)
    chat_changed = Signal(object)
    chats_listed = Signal(object)
    chat_deleted = Signal(int, str)
    message_focused = Signal(int)
    problem = Signal(str)

    def __init__(self, db: StoreWorker, settings: Settings, streams: Streams, tasks: Tasks,
                 model_override: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db = db
        self._store = db.store
        self._settings = settings
        self._streams = streams
        self._tasks = tasks
        self._model_override = model_override
        self._chat: Chat | None = None
        self._tools_for_new_chat: set[str] = set()  # the tool toggles of a chat not saved yet
        self._model_for_new_chat: str | None = None  # the model chosen for it (the model chip)
        self._chats: list[Chat] = []
        self._folders: list[Folder] = []
        self._pending_deletes: dict[int, asyncio.TimerHandle] = {}
        self._deleted_order: list[int] = []
        self.undo_seconds = UNDO_SECONDS

    # -- the open chat -----------------------------------------------------------------

    @property
    def chat(self) -> Chat | None:
        return self._chat

    def is_open(self, chat_id: int) -> bool:
        return self._chat is not None and self._chat.id == chat_id

    def current_model(self) -> str:
        """The model the next answer in the open chat (or a new one) comes from."""
        if self._chat is not None:
            return self._chat.model
        return self._model_for_new_chat or self._model_override or self._settings.model

    @property
    def google_search(self) -> bool:
        """Whether the open chat's answers are grounded with Google Search."""
        return self.tool("google_search")

    def set_google_search(self, on: bool) -> None:
        self.set_tool("google_search", on)

    def tool(self, name: str) -> bool:
        """Whether one of the open chat's tools (`gemchat.storage.store.TOOLS`) is on."""
        return bool(getattr(self._chat, name)) if self._chat is not None else name in self._tools_for_new_chat

    def set_tool(self, name: str, on: bool) -> None:
        """The open chat's tool toggle; a new chat keeps it once its first message saves it."""
        if self._chat is None:
            if on:
                self._tools_for_new_chat.add(name)
            else:
                self._tools_for_new_chat.discard(name)
            return
        setattr(self._chat, name, on)
        self._tasks.start(self._db.run(self._store.set_tool, self._chat.id, name, on))

    async def create_chat(self, title: str, aside: bool = False) -> Chat:
        """Saves the new chat being written in (its first message comes next); it is the open one now.

        `aside`: a chat begun outside the window (quick ask), with the settings'
        defaults; the open chat stays open, and the new one is only listed.
        """
        on = set() if aside else self._tools_for_new_chat
        model = None if aside else self._model_for_new_chat
        chat = await self._db.run(
            functools.partial(self._store.create_chat, google_search="google_search" in on,
                              code_execution="code_execution" in on, url_context="url_context" in on),
            model or self._model_override or self._settings.model, title, self._settings.system_instruction or None,
        )
        if not aside:
            self._chat = chat
        self.changed(chat)
        return chat

    async def open_chat(self, chat_id: int) -> None:
        chat = await self._db.run(self._store.get_chat, chat_id)
        if chat is None or chat_id in self._pending_deletes:
            await self.new_chat()
            return
        messages = await self._db.run(self._store.messages, chat_id)
        self._chat = chat
        self.chat_opened.emit(chat, messages, self._streams.generation(chat_id))

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
        self._tools_for_new_chat = set()  # each chat starts without tools
        self._model_for_new_chat = None  # and with the model of Settings (or of --model)
        self.chat_opened.emit(None, [], None)

    async def search(self, text: str) -> list[SearchHit]:
        """Every chat's titles and messages containing the words typed; [] if the search fails."""
        try:
            return await self._db.run(self._store.search, text)
        except StorageError as exc:
            self.problem.emit(f"Search failed: {exc}")
            return []

    def open_hit(self, hit: SearchHit) -> None:
        """Opens the chat of a search result, showing the branch its message is on."""
        self._tasks.start(self._open_hit(hit))

    async def _open_hit(self, hit: SearchHit) -> None:
        if hit.message_id is not None and not self._streams.is_running(hit.chat_id):
            await self._db.run(self._store.reveal, hit.message_id)
        await self.open_chat(hit.chat_id)
        if hit.message_id is not None:
            self.message_focused.emit(hit.message_id)

    # -- the list ------------------------------------------------------------------------

    @property
    def chats(self) -> list[Chat]:
        return list(self._chats)

    async def refresh_chats(self) -> None:
        self._folders = await self._db.run(self._store.folders.list)
        chats = await self._db.run(self._store.list_chats)
        self._chats = [c for c in chats if c.id not in self._pending_deletes]
        self.chats_listed.emit(self.chats)

    def changed(self, chat: Chat) -> None:
        """`chat`'s title or activity changed: says so, and lists the chats again."""
        self.chat_changed.emit(chat)
        self._tasks.start(self.refresh_chats())

    def update(self, chat: Chat) -> None:
        """`chat` as read back after a change: the open chat takes it too."""
        if self.is_open(chat.id):
            self._chat = chat
        self.changed(chat)

    def switch_by(self, step: int) -> None:
        """Opens the chat `step` places down (negative: up) the list, wrapping around."""
        ids = [c.id for c in self._chats]
        if not ids:
            return
        current = self._chat.id if self._chat else None
        index = ids.index(current) + step if current in ids else (0 if step > 0 else -1)
        self._tasks.start(self.open_chat(ids[index % len(ids)]))

    def switch_to(self, position: int) -> None:
        """Opens the chat at that place in the list (0-based); 8 (Ctrl+9) is the last, as in browsers."""
        if self._chats:
            last = len(self._chats) - 1
            self._tasks.start(self.open_chat(self._chats[last if position >= 8 else min(position, last)].id))

    @property
    def folders(self) -> list[Folder]:
        """The user's folders, as of the last listing (`chats_listed` comes after it)."""
        return list(self._folders)

    def change_folders(self, change: Callable[..., object], *args: object) -> None:
        """Runs a change to the folders (a `ChatStore` method) on the database thread, then lists the chats again."""
        self._tasks.start(self._change_folders(change, *args))

    async def _change_folders(self, change: Callable[..., object], *args: object) -> None:
        await self._db.run(change, *args)
        await self.refresh_chats()

    async def new_folder(self, name: str, chat_id: int | None = None) -> None:
        """Makes a folder named `name`, with that chat in it if one is given."""
        folder = await self._db.run(self._store.folders.create, name)
        if chat_id is not None:
            await self._db.run(self._store.folders.move_chat, chat_id, folder.id)
        await self.refresh_chats()

    def set_pinned(self, chat_id: int, pinned: bool) -> None:
        """Pins a chat (first in the list, under Pinned) or unpins it; the list is shown again."""
        self._tasks.start(self._set_pinned(chat_id, pinned))

    async def _set_pinned(self, chat_id: int, pinned: bool) -> None:
        await self._db.run(self._store.set_pinned, chat_id, pinned)
        if self._chat is not None and self._chat.id == chat_id:
            self._chat.pinned = pinned
        await self.refresh_chats()

    async def rename(self, chat_id: int, title: str) -> None:
        await self._db.run(self._store.set_title, chat_id, title)
        await self._read_back(chat_id)

    def set_model(self, model: str) -> None:
        """The open chat's model, its instruction and thinking level kept; a new chat is saved with it."""
        model = model.strip()
        if not model:
            return
        if self._chat is None:
            self._model_for_new_chat = model
        else:
            self.set_chat_options(model, self._chat.system_instruction or "")

    def set_chat_options(self, model: str, system_instruction: str, thinking_level: str | None = None,
                         image_options: ImageOptions | None = None) -> None:
        """Changes the open chat's model and system instruction (new chats still take the defaults)."""
        if self._chat is not None and model.strip():
            self._tasks.start(self._set_chat_options(self._chat.id, model.strip(), system_instruction.strip() or None,
                                                     thinking_level, image_options))

    async def _set_chat_options(self, chat_id: int, model: str, system_instruction: str | None,
                                thinking_level: str | None = None, image_options: ImageOptions | None = None) -> None:
        await self._db.run(self._store.set_chat_options, chat_id, model, system_instruction, thinking_level,
                           image_options)
        await self._read_back(chat_id)

    async def _read_back(self, chat_id: int) -> None:
        chat = await self._db.run(self._store.get_chat, chat_id)
        if chat is not None:
            self.update(chat)

    # -- deleting, with undo ------------------------------------------------------------

    def delete_chat(self, chat_id: int) -> None:
        """Hides the chat at once and deletes it after `undo_seconds` unless undone."""
        if chat_id in self._pending_deletes:
            return
        title = next((c.title for c in self._chats if c.id == chat_id), "")
        self._streams.stop(chat_id)
        ids = [c.id for c in self._chats]
        loop = asyncio.get_event_loop()
        self._pending_deletes[chat_id] = loop.call_later(
            self.undo_seconds, lambda: self._tasks.start(self._delete_now(chat_id))
        )
        self._deleted_order.append(chat_id)
        self._chats = [c for c in self._chats if c.id != chat_id]
        self.chats_listed.emit(self.chats)
        self.chat_deleted.emit(chat_id, title)
        if self.is_open(chat_id):
            rest = [i for i in ids if i != chat_id]
            if rest:
                position = min(ids.index(chat_id), len(rest) - 1)
                self._tasks.start(self.open_chat(rest[position]))
            else:
                self._tasks.start(self.new_chat())

    def undo_delete(self) -> bool:
        """Brings back the most recently deleted chat, if it is still within the undo time."""
        while self._deleted_order:
            chat_id = self._deleted_order.pop()
            handle = self._pending_deletes.pop(chat_id, None)
            if handle is not None:
                handle.cancel()
                self._tasks.start(self._restore(chat_id))
                return True
        return False

    def delete_pending_now(self) -> None:
        """Quitting: chats deleted within the undo time are deleted now."""
        for chat_id, handle in list(self._pending_deletes.items()):
            handle.cancel()
            self._tasks.start(self._delete_now(chat_id))

    async def _restore(self, chat_id: int) -> None:
        await self.refresh_chats()
        await self.open_chat(chat_id)

    async def _delete_now(self, chat_id: int) -> None:
        if self._pending_deletes.pop(chat_id, None) is None:
            return
        await self._streams.stop_and_wait(chat_id)
        await self._db.run(self._store.delete_chat, chat_id)
