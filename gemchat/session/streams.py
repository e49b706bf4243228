"""The answers being generated now: at most one per chat, each in its own task.

The chat list asks here whether a chat is streaming (to show the answer as it
grows when the chat is reopened, to stop it before the chat is deleted); the
conversation starts and stops the streams.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from gemchat.core.messages import Status
from gemchat.session.generation import Generation
from gemchat.storage.worker import StoreWorker
from gemchat.tasks import Tasks


class Streams:
    """One stream task per chat, keyed by the chat's id, and the `Generation` each one feeds."""

    def __init__(self, db: StoreWorker, on_failure: Callable[[BaseException], None]) -> None:
        self._db = db
        self._tasks = Tasks(on_failure=on_failure)
        self._generations: dict[int, Generation] = {}

    def __len__(self) -> int:
        """How many streams have not ended yet."""
        return len(self._tasks)

    def generation(self, chat_id: int) -> Generation | None:
        """The answer being generated in that chat, if any; set just before its task starts."""
        return self._generations.get(chat_id)

    def is_running(self, chat_id: int) -> bool:
        return self._tasks.running(chat_id) is not None

    def prepare(self, generation: Generation) -> None:
        """Makes the generation its chat's, so a chat opened before its task starts shows it growing."""
        self._generations[generation.chat_id] = generation

    def start(self, generation: Generation, stream: Coroutine[Any, Any, None]) -> None:
        """Runs `stream`, the life of `generation`, as its chat's one stream task."""
        self.prepare(generation)
        ran: list[bool] = []

        async def run() -> None:
            ran.append(True)
            await stream

        task = self._tasks.start(run(), key=generation.chat_id)
        task.add_done_callback(lambda done: self._ended(generation, done, started=bool(ran), stream=stream))

    def _ended(self, generation: Generation, task: asyncio.Task[None], started: bool,
               stream: Coroutine[Any, Any, None]) -> None:
        if self._generations.get(generation.chat_id) is generation:
            del self._generations[generation.chat_id]
        if task.cancelled() and not started:
            # Cancelled before it ever ran: nothing arrived, but the placeholder must not stay 'streaming'.
            # (Once running, the stream saves its own end, complete or interrupted, whenever it is stopped.)
            stream.close()
            self._db.submit(self._db.store.finish_message, generation.message_id, Status.INTERRUPTED)
        generation.deleteLater()

    def stop(self, chat_id: int) -> bool:
        """Stops that chat's answer (what arrived is kept); False when none is running."""
        return self._tasks.cancel(chat_id) is not None

    async def stop_and_wait(self, chat_id: int) -> None:
        """Stops that chat's answer and waits until what arrived of it is saved."""
        task = self._tasks.cancel(chat_id)
        if task is not None:
            await asyncio.wait([task])

    async def stop_all(self) -> None:
        """Stops every answer and waits until each has saved what arrived (as interrupted)."""
        stopped = [task for chat_id in list(self._generations) if (task := self._tasks.cancel(chat_id))]
        if stopped:
            await asyncio.wait(stopped)

    async def shutdown(self) -> None:
        """Stops the answers started meanwhile too; none starts after this."""
        await self.stop_all()
        await self._tasks.shutdown()
