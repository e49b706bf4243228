"""The API key and the Gemini client made from it: where the key comes from, and warming the client.

The key comes from the environment at start; else, once the window shows, from
the OS keyring, or from the key file the user chose when no keyring existed (in
that order); or from the key dialog. The first makes the backend, each later one
is handed to it. No widgets: what the user should read goes to `tell`, and the
dialogs learn of changes through signals.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QObject, Signal

from gemchat.core.credentials import (
    KeyFile,
    KeyFileError,
    KeyFileRefused,
    KeyPlace,
    KeyringUnavailable,
    KeyStore,
    key_from_env,
)

if TYPE_CHECKING:
    from gemchat.core.gemini import GeminiBackend
    from gemchat.tasks import Tasks

log = logging.getLogger("gemchat")
T = TypeVar("T")


class GeminiAccess(QObject):
    """Holds the backend for the current key; the session asks `current` before each request.

    Signals:
        changed(): the key in use, where it is kept, or what is known of the keyring changed.
        keyring_refused_key(): the keyring could not keep a pasted key, and a key file could.

    Attributes:
        backend: the client made from the key; None while no key is known.
        source: where the key in use came from; None while there is none.
        keyring_available: whether a system keyring exists; None until it was looked for.
        key_file_problem: why the key file was not used (its permissions, its owner), if it was not.
    """

    changed = Signal()
    keyring_refused_key = Signal()

    def __init__(self, key_store: KeyStore, key_file: KeyFile | None, make_backend: Callable[[str], GeminiBackend],
                 tasks: Tasks, tell: Callable[[str, int], None]) -> None:
        """`key_file` is None when no file may hold the key (see `gemchat.paths.key_file_path`)."""
        super().__init__()
        self._key_store = key_store
        self._key_file = key_file
        self._make_backend = make_backend
        self._tasks = tasks
        self._tell = tell
        self._stores = asyncio.Lock()  # keyring and file changes reach the worker in the order asked
        self._key: str | None = None  # the key in use, to keep it in the file if the keyring refuses it
        self.backend: GeminiBackend | None = None
        self.source: KeyPlace | None = None
        self.keyring_available: bool | None = None
        self.key_file_problem: str | None = None
        if key := key_from_env():  # the keyring and the file are read after the window shows (load_stored_key)
            self._set_key(key, KeyPlace.ENVIRONMENT)

    @property
    def key_file_path(self) -> Path | None:
        return self._key_file.path if self._key_file is not None else None

    def current(self) -> GeminiBackend | None:
        return self.backend

    def status(self) -> str:
        """Words for Settings: where the key in use comes from (nothing is read to say it)."""
        if self.source is KeyPlace.ENVIRONMENT:
            return "Set by the environment (GOOGLE_API_KEY / GEMINI_API_KEY)."
        if self.source is KeyPlace.KEYRING:
            return "Set (kept in the system keyring)."
        if self.source is KeyPlace.FILE:
            return f"Set (kept in the file {self.key_file_path}, less safe than a system keyring)."
        if self.source is KeyPlace.SESSION:
            return "Set for this session only."
        if self.key_file_problem:
            return f"No key set. {self.key_file_problem}"
        return "No key set."

    async def load_stored_key(self) -> None:
        """The key from the OS keyring, else from the key file, read on a worker thread after the window shows.

        Finding and asking a keyring backend (D-Bus, a locked wallet) can take from
        a tenth of a second to much longer: never on the UI thread, never before
        the window is up.
        """
        if self.backend is not None:
            return
        available, key, place, problem = await self._on_worker(self._find_stored_key)
        self.keyring_available = available
        self.key_file_problem = problem
        if problem:
            log.warning("%s", problem)
            self._tell(problem, 30000)
        if key and place and self.backend is None:  # unless a key was pasted meanwhile
            self._set_key(key, place)
        self.changed.emit()

    def _find_stored_key(self) -> tuple[bool, str | None, KeyPlace | None, str | None]:
        """(keyring available, key, where it was, why the file was refused): keyring first, then the file."""
        available = self._key_store.available()
        if available and (key := self._key_store.load()):
            return available, key, KeyPlace.KEYRING, None
        if self._key_file is None:
            return available, None, None, None
        try:
            key = self._key_file.load()
        except KeyFileRefused as exc:
            return available, None, None, str(exc)
        return available, key, KeyPlace.FILE if key else None, None

    def probe_keyring(self) -> None:
        """Finds out, in the background, whether a keyring exists (when the key came from the environment)."""
        if self.keyring_available is None and self._tasks.running("probe keyring") is None:
            self._tasks.start(self._probe_keyring(), key="probe keyring")

    async def _probe_keyring(self) -> None:
        available = await self._on_worker(self._key_store.available)
        if self.keyring_available is None:
            self.keyring_available = available
            self.changed.emit()

    def use_key(self, key: str, place: KeyPlace = KeyPlace.KEYRING) -> None:
        """A key typed into the key dialog: used at once, and kept where the user chose in the background."""
        self._set_key(key, KeyPlace.SESSION)
        self.changed.emit()
        if place is KeyPlace.FILE:
            self._tasks.start(self._save_to_file(key))
        elif place is KeyPlace.KEYRING:
            self._tasks.start(self._save_to_keyring(key))
        else:
            self._tell("The API key is used for this session only; nothing keeps it. "
                       "Set GEMINI_API_KEY in your environment to keep it.", 10000)

    def keep_key_in_file(self) -> None:
        """The user's answer when the keyring refused the key: keep it in the key file instead."""
        if self._key is not None and self.source is KeyPlace.SESSION:
            self._tasks.start(self._save_to_file(self._key))

    def forget_key(self) -> None:
        """Removes the stored key from the keyring and the key file; the environment's key, if any, stays in use."""
        if env_key := key_from_env():
            self._set_key(env_key, KeyPlace.ENVIRONMENT)
        else:
            self._key, self.source = None, None
            if self.backend is not None:
                old, self.backend = self.backend, None
                self._tasks.start(old.aclose())
        self.key_file_problem = None
        self.changed.emit()
        self._tasks.start(self._forget_stored())

    def _set_key(self, key: str, place: KeyPlace) -> None:
        self._key, self.source = key, place
        if self.backend is None:
            self.backend = self._make_backend(key)
        else:
            self.backend.set_api_key(key)

    async def _save_to_keyring(self, key: str) -> None:
        try:
            await self._on_worker(self._key_store.save, key)
        except KeyringUnavailable as exc:
            self.keyring_available = False
            self.changed.emit()
            if self._key_file is not None and self._key == key:
                self.keyring_refused_key.emit()  # the user is asked whether to keep it in the file instead
            self._tell(str(exc), 15000)
            return
        said = "API key saved in the system keyring."
        if self._key_file is not None:
            try:  # the key moved somewhere safer: an older one left in the file goes
                if await self._on_worker(self._key_file.delete):
                    said += f" The key file {self._key_file.path} was deleted."
            except KeyFileError as exc:
                said += f" {exc}"
        self._stored(key, KeyPlace.KEYRING)
        self._tell(said, 8000)

    async def _save_to_file(self, key: str) -> None:
        assert self._key_file is not None, "the key file is offered only where one may be"
        try:
            await self._on_worker(self._key_file.save, key)
        except KeyFileError as exc:
            log.warning("%s", exc)
            self._tell(f"{exc} It is used for this session only.", 15000)
            return
        # A key the keyring kept before (if it refused this one because it was locked) would win at the next start.
        await self._on_worker(self._key_store.delete)
        self._stored(key, KeyPlace.FILE)
        self._tell(f"API key saved in {self._key_file.path}, which only you can read "
                   "(less safe than a system keyring).", 8000)

    def _stored(self, key: str, place: KeyPlace) -> None:
        """The key is kept now: Settings says where, unless another key replaced it meanwhile."""
        if self._key == key and self.source is KeyPlace.SESSION:
            self.source = place
            self.key_file_problem = None
            self.changed.emit()

    async def _forget_stored(self) -> None:
        in_keyring = await self._on_worker(self._key_store.delete)
        removed = ["removed it from the system keyring"] if in_keyring else []
        problem = ""
        if self._key_file is not None:
            try:
                if await self._on_worker(self._key_file.delete):
                    removed.append(f"deleted {self._key_file.path}")
            except KeyFileError as exc:
                problem = f" {exc}"
        said = f"Forgot the stored API key: {' and '.join(removed)}." if removed else "No stored API key to forget."
        if self.source is KeyPlace.ENVIRONMENT:
            said += " The key from the environment (GOOGLE_API_KEY / GEMINI_API_KEY) is still used."
        self._tell(said + problem, 10000)

    async def _on_worker(self, function: Callable[..., T], *args: object) -> T:
        """Runs a keyring or key file call on a worker thread, after those asked for before it."""
        async with self._stores:
            return await asyncio.get_running_loop().run_in_executor(None, function, *args)

    async def check_key(self, key: str) -> str:
        """Asks Gemini for its model list with `key`, before it is kept: words for the key dialog.

        A client of its own, closed after, so the key in use is not touched.
        Raises `GemchatError` (redacted, in words) when Gemini refuses the key or cannot be reached.
        """
        backend = self._make_backend(key)
        try:
            names = await backend.list_models()
        finally:
            await backend.aclose()
        return f"The key works: Gemini offers it {len(names)} chat model{'s' if len(names) != 1 else ''}."

    async def warm_up(self) -> None:
        """Loads the SDK, and makes the HTTP client, while the first question is being typed."""
        await asyncio.get_running_loop().run_in_executor(None, _import_sdk)
        backend = self.current()
        if backend is not None:
            try:
                await backend.prepare()
            except Exception:  # the first request will report it properly
                log.exception("preparing the Gemini client failed")


def _import_sdk() -> None:
    from gemchat.core.gemini import load_sdk_now

    # The import makes ~76,000 tracked objects: left on, the cyclic garbage collector walks
    # everything alive in the middle of it (45 ms with a 2,000-message chat open),
    # holding the GIL, so the window stops while the user types.
    gc.disable()
    try:
        load_sdk_now()
    except Exception:  # the first request will report it properly
        log.exception("importing google-genai failed")
    finally:
        # What exists now lives as long as the app: the cyclic garbage collector need not
        # walk it again, which otherwise costs 50-90 ms pauses while an answer streams.
        gc.freeze()
        gc.enable()
