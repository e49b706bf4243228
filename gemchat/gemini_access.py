"""The API key and the Gemini client made from it: where the key comes from, and warming the client.

The key comes from the environment at start, from the OS keyring once the
window shows, or from the key dialog; the first makes the backend, each later
one is handed to it. No widgets: what the user should read goes to `tell`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from gemchat.core.credentials import KeyringUnavailable, KeyStore, key_from_env

if TYPE_CHECKING:
    from gemchat.core.gemini import GeminiBackend
    from gemchat.tasks import Tasks

log = logging.getLogger("gemchat")


class GeminiAccess:
    """Holds the backend for the current key; the session asks `current` before each request.

    Attributes:
        backend: the client made from the key; None while no key is known.
    """

    def __init__(self, key_store: KeyStore, make_backend: Callable[[str], GeminiBackend], tasks: Tasks,
                 tell: Callable[[str, int], None]) -> None:
        self._key_store = key_store
        self._make_backend = make_backend
        self._tasks = tasks
        self._tell = tell
        self.backend: GeminiBackend | None = None
        if key := key_from_env():  # the keyring is read after the window shows (load_stored_key)
            self.backend = make_backend(key)

    def current(self) -> GeminiBackend | None:
        return self.backend

    def status(self) -> str:
        """Words for Settings: where the key in use comes from."""
        if key_from_env():
            return "Set by the environment (GOOGLE_API_KEY / GEMINI_API_KEY)."
        if self.backend is not None:
            return "Set (kept in the system keyring)." if self._key_store.load() else "Set for this session only."
        return "No key set."

    async def load_stored_key(self) -> None:
        """The key from the OS keyring, read on a worker thread after the window shows.

        Finding and asking a keyring backend (D-Bus, a locked wallet) can take from
        a tenth of a second to much longer: never on the UI thread, never before
        the window is up.
        """
        if self.backend is not None:
            return
        key = await asyncio.get_running_loop().run_in_executor(None, self._key_store.load)
        if key and self.backend is None:
            self.backend = self._make_backend(key)

    def use_key(self, key: str) -> None:
        """A key typed into the key dialog: used at once, and kept in the keyring in the background."""
        if self.backend is None:
            self.backend = self._make_backend(key)
        else:
            self.backend.set_api_key(key)
        self._tasks.start(self._save_key(key))

    def forget_key(self) -> None:
        """Removes the stored key; the client goes too unless the environment still gives one."""
        self._key_store.delete()
        if key_from_env() is None and self.backend is not None:
            old, self.backend = self.backend, None
            self._tasks.start(old.aclose())

    async def _save_key(self, key: str) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._key_store.save, key)
            self._tell("API key saved in the system keyring.", 5000)
        except KeyringUnavailable as exc:
            self._tell(str(exc), 15000)

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
