"""The database thread: work runs off the caller's thread, in the order asked, and is finished at close.

The order is what lets a streaming answer be saved by appends nobody waits for:
the end of the answer, queued after them, must find them all written.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from gemchat.core.messages import Role, Status
from gemchat.storage.store import ChatStore
from gemchat.storage.worker import StoreWorker


def test_appends_nobody_waits_for_are_all_in_the_answer_that_ends_after_them(tmp_path: Path) -> None:
    worker = StoreWorker(ChatStore.open(tmp_path / "gemchat.db"))
    store = worker.store

    async def stream() -> tuple[str, str]:
        chat = await worker.run(store.create_chat, "m", title="Ordered")
        answer = await worker.run(store.add_message, chat.id, Role.MODEL, "", status=Status.STREAMING)
        for n in range(200):
            worker.submit(store.append_to_message, answer.id, f"{n} ")
        final = await worker.run(store.finish_message, answer.id, Status.COMPLETE)
        assert final.status is Status.COMPLETE and (await worker.run(store.get_chat, chat.id)).title == "Ordered"
        return final.text, await worker.run(lambda: threading.current_thread().name)

    text, thread = asyncio.run(stream())
    assert text == "".join(f"{n} " for n in range(200))
    assert thread != threading.current_thread().name and thread.startswith("gemchat-db")
    worker.close()


def test_closing_finishes_queued_work_then_closes_the_database(tmp_path: Path) -> None:
    worker = StoreWorker(ChatStore.open(tmp_path / "gemchat.db"))
    chat = worker.store.create_chat("m", "Before quitting")
    for n in range(50):
        worker.submit(worker.store.add_message, chat.id, Role.USER, f"message {n}", status=Status.INTERRUPTED)
    worker.close()
    with sqlite3.connect(tmp_path / "gemchat.db") as conn:
        assert conn.execute("SELECT count(*), min(status), max(status) FROM messages").fetchone() == (
            50, "interrupted", "interrupted")
    with pytest.raises(sqlite3.ProgrammingError):  # closed: nothing can write through it any more
        worker.store.get_chat(chat.id)


def test_a_failed_write_nobody_waits_for_is_logged_with_its_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    worker = StoreWorker(ChatStore.open(tmp_path / "gemchat.db"))
    chat = worker.store.create_chat("m", "t")
    worker.store._conn.execute("PRAGMA query_only = 1")
    with caplog.at_level(logging.ERROR, logger="gemchat.storage.worker"):
        future = worker.submit(worker.store.set_title, chat.id, "never written")
        with pytest.raises(Exception, match="readonly"):
            future.result(5)
        worker.submit(worker.store.get_chat, chat.id).result(5)  # a success logs nothing
        worker.close()  # joins the thread, so its logging is done
    assert [r.getMessage() for r in caplog.records] == ["database write failed: attempt to write a readonly database"]
