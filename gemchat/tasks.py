"""The one way gemchat starts background coroutines.

asyncio keeps only a weak reference to a task: one nobody holds can be
collected mid-flight, and an exception nobody retrieves is lost or printed at
exit. Every background coroutine therefore starts here, in a `TaskGroup`-like
owner that keeps each task until it ends, logs and reports its failure, and
cancels what is left at shutdown. Starting a task under a key cancels the one
already running under that key (a newer search or count replaces the older).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Tasks:
    """Background coroutines with an owner.

    Attributes:
        on_failure: called on the loop with the exception of a task that failed
            (not of one cancelled); the session turns it into words for the user.
    """

    def __init__(self, on_failure: Callable[[BaseException], None] | None = None) -> None:
        self.on_failure = on_failure
        self._running: set[asyncio.Task[Any]] = set()
        self._keyed: dict[Hashable, asyncio.Task[Any]] = {}
        self._closed = False

    def start(self, coro: Coroutine[Any, Any, T], key: Hashable | None = None) -> asyncio.Task[T]:
        """Runs `coro` in the background; under `key`, the task that key had is cancelled first."""
        if key is not None and (previous := self._keyed.get(key)) is not None:
            previous.cancel()
        task = asyncio.ensure_future(coro)
        if self._closed:  # asked for during or after shutdown (a slot run by the closing window)
            task.cancel()  # before its first step: it never runs, and nothing warns it was never awaited
            return task
        self._running.add(task)
        if key is not None:
            self._keyed[key] = task
        task.add_done_callback(lambda done: self._ended(done, key))
        return task

    def running(self, key: Hashable) -> asyncio.Task[Any] | None:
        """The unfinished task started under `key`, if there is one."""
        task = self._keyed.get(key)
        return task if task is not None and not task.done() else None

    def cancel(self, key: Hashable) -> asyncio.Task[Any] | None:
        """Cancels the task under `key`; returns it, so a caller can wait for it to end."""
        task = self.running(key)
        if task is not None:
            task.cancel()
        return task

    def __len__(self) -> int:
        return len(self._running)

    def _ended(self, task: asyncio.Task[Any], key: Hashable | None) -> None:
        self._running.discard(task)
        if key is not None and self._keyed.get(key) is task:
            del self._keyed[key]
        if task.cancelled() or (exc := task.exception()) is None:
            return
        log.error("background task %s failed", task.get_coro(), exc_info=exc)
        if self.on_failure is not None:
            self.on_failure(exc)

    async def wait(self, timeout: float | None = None) -> None:
        """Waits until every task running now has ended (or `timeout` passes)."""
        if self._running:
            await asyncio.wait(list(self._running), timeout=timeout)

    async def shutdown(self, timeout: float = 5.0, cancel: bool = True) -> None:
        """Cancels new tasks from now on, and waits for the running ones; cancels those first unless told not to.

        Work that must finish (a save, a delete whose undo time ended at quit) is
        waited for with `cancel=False`.
        """
        self._closed = True
        if cancel:
            for task in list(self._running):
                task.cancel()
        await self.wait(timeout)
