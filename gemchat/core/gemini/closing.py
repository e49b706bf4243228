"""Closing, in the task that opened it, an HTTP stream the SDK drops half-read (`SdkCall` says why)."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncGenerator, Callable
from typing import Any

log = logging.getLogger(__name__)

_closing_in: dict[asyncio.Task[Any], list[AsyncGenerator[Any, Any]]] = {}
"""The tasks now inside an SDK call, each with the SDK's generators dropped meanwhile (see `SdkCall`)."""


class _AdoptingFinalizer:
    """The thread's async generator finalizer: hands a generator dropped inside an SDK call to its task.

    Python calls the finalizer a generator had at its first iteration when it is
    dropped before its end. Inside an SDK call the current task is the one that
    iterated it (`SdkCall` says which tasks are inside one), so it is kept for
    that task to close. Any other generator goes to the finalizer this one
    replaced (an asyncio loop's), or, when there was none (qasync installs
    none), is closed at once as Python itself would.
    """

    def __init__(self, previous: Callable[[AsyncGenerator[Any, Any]], object] | None) -> None:
        self.previous = previous

    def __call__(self, agen: AsyncGenerator[Any, Any]) -> None:
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no loop running in this thread
            task = None
        dropped = _closing_in.get(task) if task is not None else None
        if dropped is not None:
            dropped.append(agen)
        elif self.previous is not None:
            self.previous(agen)
        else:
            closing = agen.aclose()
            try:
                closing.send(None)
            except StopIteration:
                return
            except Exception:
                log.debug("a dropped stream could not be closed without a loop", exc_info=True)
                return
            # It awaits something, which nothing can run from here: Python's own words for that.
            raise RuntimeError(f"async generator ignored GeneratorExit: {agen!r}")


def _adopt_dropped_generators() -> None:
    """Installs `_AdoptingFinalizer` for this thread, around whatever finalizer it has (once)."""
    firstiter, finalizer = sys.get_asyncgen_hooks()
    if not isinstance(finalizer, _AdoptingFinalizer):
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=_AdoptingFinalizer(finalizer))


class SdkCall:
    """Closes, in the task that opened it, an HTTP stream the SDK drops half-read.

    When a malformed event makes the SDK raise, the exception leaves through its
    chain of async generators (SSE lines, then httpx's and httpcore's byte
    streams), and the inner ones, suspended mid-read, are dropped still holding
    the connection. Left to Python, they are closed without a loop under qasync
    (which installs no finalizer), where httpcore cannot await the release of
    its connection ("async generator ignored GeneratorExit", "Attempted to exit
    cancel scope in a different task"), or, under asyncio, in a task of their
    own. Inside `with call:` the current task keeps what is dropped (see
    `_AdoptingFinalizer`); `close_dropped` then closes it, awaiting, in this
    task, before the stream's call returns.
    """

    def __init__(self) -> None:
        _adopt_dropped_generators()
        task = asyncio.current_task()
        assert task is not None, "an SDK call runs in a task"
        self._task = task
        self._dropped: list[AsyncGenerator[Any, Any]] = []

    def __enter__(self) -> SdkCall:
        _closing_in[self._task] = self._dropped
        return self

    def __exit__(self, *exc: object) -> None:
        _closing_in.pop(self._task, None)

    async def close_dropped(self) -> None:
        with self:  # closing one drops the next one down the chain
            while self._dropped:
                agen = self._dropped.pop(0)
                try:
                    await agen.aclose()
                except Exception:  # the stream has already failed; its close must not hide why
                    log.debug("closing a dropped SDK stream failed", exc_info=True)
