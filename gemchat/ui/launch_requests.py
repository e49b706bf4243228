"""What a launch asks of the window, this one's command line or a later launch's handed over.

The window comes to the front; FILEs go into the message box's tray, as if
dropped on the window; a PROMPT opens a new chat and is sent, with those files.
A quick request (`gemchat --quick`) shows the quick-ask window instead, and
its PROMPT is asked there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt

if TYPE_CHECKING:
    from gemchat.ui.main_window import MainWindow


def bring_to_front(window: MainWindow) -> None:
    """Shown, no longer minimized (a maximized window stays maximized), raised and made active.

    The window manager has the last word: under focus-stealing prevention, and
    on Wayland, it may only mark the window as wanting attention.
    """
    window.setWindowState((window.windowState() & ~Qt.WindowState.WindowMinimized) | Qt.WindowState.WindowActive)
    window.show()
    window.raise_()
    window.activateWindow()


class LaunchRequests:
    """Takes launches' requests one at a time, in the order they came.

    Requests handed over while the window is still starting wait for `open`
    (the first chat shown, the key loaded), then go in order.
    """

    def __init__(self, window: MainWindow, before_prompt: Callable[[], None] = lambda: None,
                 quick_ask: Callable[[str | None], None] = lambda _prompt: None) -> None:
        self._window = window
        self._before_prompt = before_prompt  # the SDK's warm-up: an answer is on its way
        self._quick_ask = quick_ask  # shows the quick-ask window, asking the prompt if one is given
        self._opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last: asyncio.Future[Any] = self._opened

    def open(self) -> None:
        """The window is ready: requests waiting are taken now, and later ones as they come."""
        if not self._opened.done():
            self._opened.set_result(None)

    def take(self, prompt: str | None, files: Sequence[Path], quick: bool = False) -> None:
        """Takes a later launch's request after the ones before it, the window brought to the front first."""
        previous = self._last
        self._last = self._window.session.tasks.start(self._take_after(previous, prompt, files, quick))

    async def _take_after(self, previous: asyncio.Future[Any], prompt: str | None, files: Sequence[Path],
                          quick: bool) -> None:
        await asyncio.wait([previous])  # however the one before ended
        if not quick:
            bring_to_front(self._window)
        await self.take_now(prompt, files, quick=quick)

    async def take_now(self, prompt: str | None, files: Sequence[Path],
                       before_sending: Awaitable[object] | None = None, quick: bool = False) -> None:
        """Takes a request at once: this launch's own, as its window starts.

        `before_sending` (the key being loaded) is awaited before the prompt goes.
        Returns once the prompt is saved in its new chat, so that what comes next
        cannot land in that chat.
        """
        if quick:
            self._quick_ask(None)  # at once: typing can start while the key loads
            if prompt:
                self._before_prompt()
                if before_sending is not None:
                    await before_sending
                self._quick_ask(prompt)
            return
        if prompt:
            self._before_prompt()
            await self._window.session.new_chat()
        if files:
            await self._window.attachments.add_paths(list(files))
        if prompt:
            if before_sending is not None:
                await before_sending
            await self._window.message_sender.send_beside_the_box(prompt)
