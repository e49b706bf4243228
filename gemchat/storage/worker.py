"""All database work on one thread, in order.

SQLite calls are short, but a checkpoint or a slow disk can stall one for
longer than a frame, and they must never run on the UI thread. A single worker
thread keeps them off it and keeps them in the order they were asked for, which
is what lets a streaming answer be saved by fire-and-forget appends.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from gemchat.storage.store import ChatStore

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


class StoreWorker:
    """Runs `ChatStore` methods on one background thread.

    Attributes:
        store: the store; only ever touched from the worker thread once the app runs.
    """

    def __init__(self, store: ChatStore) -> None:
        self.store = store
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="gemchat-db"
        )

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Awaitable result of `fn(*args)` run on the worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def submit(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> concurrent.futures.Future[T]:
        """Queues `fn(*args)` without waiting; failures are logged."""
        future = self._executor.submit(fn, *args, **kwargs)
        future.add_done_callback(_log_failure)
        return future

    def close(self) -> None:
        """Finishes queued work, then closes the database."""
        self._executor.shutdown(wait=True)
        self.store.close()


def _log_failure(future: concurrent.futures.Future[Any]) -> None:
    if not future.cancelled() and (exc := future.exception()) is not None:
        log.error("database write failed: %s", exc, exc_info=exc)
