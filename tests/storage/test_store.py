"""ChatStore: whatever text goes in comes back, and the machine's failures fail cleanly.

Property-based round trips (any Unicode, lone surrogates and NUL included),
then SQLite's own ways of failing, produced honestly inside SQLite: a size
limit (`PRAGMA max_page_count`, which is how SQLite reports a full disk:
SQLITE_FULL), `PRAGMA query_only` (SQLITE_READONLY), and a second connection
holding the write lock (SQLITE_BUSY), as another process would.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemchat.core.messages import Role, Status
from gemchat.storage.errors import StorageError
from gemchat.storage.store import ChatStore
from tests.examples import examples

# Every code point, lone surrogates (category Cs) and NUL included.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
statuses = st.sampled_from([Status.COMPLETE, Status.INTERRUPTED, Status.ERROR])


def stored(text: str) -> str:
    """What gemchat promises to keep of a text: all of it, with a lone surrogate as U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


@settings(max_examples=examples(150), deadline=None)
@given(title=any_text, system=st.one_of(st.none(), any_text),
       messages=st.lists(st.tuples(st.sampled_from(list(Role)), any_text, statuses), max_size=8))
def test_chats_and_messages_come_back_as_they_went_in(
    title: str, system: str | None, messages: list[tuple[Role, str, Status]]
) -> None:
    store = ChatStore.open(None)
    chat = store.create_chat("gemini-3.6-flash", title, system)
    for role, text, status in messages:
        store.add_message(chat.id, role, text, status, "why" if status is Status.ERROR else None)
    again = store.get_chat(chat.id)
    assert again is not None and again.title == stored(title)
    assert again.system_instruction == (stored(system) if system else None)
    assert [(m.role, m.text, m.status) for m in store.messages(chat.id)] == [
        (role, stored(text), status) for role, text, status in messages]
    store.close()


@settings(max_examples=examples(150), deadline=None)
@given(parts=st.lists(any_text, max_size=12), crash=st.booleans())
def test_a_streamed_answer_is_its_parts_in_order_whether_finished_or_cut_by_a_crash(
    parts: list[str], crash: bool
) -> None:
    store = ChatStore.open(None)
    chat = store.create_chat("m", "t")
    store.add_message(chat.id, Role.USER, "q")
    answer = store.add_message(chat.id, Role.MODEL, "", Status.STREAMING)
    for part in parts:
        store.append_to_message(answer.id, part)
    whole = "".join(stored(p) for p in parts)
    assert store.messages(chat.id)[-1].text == whole  # readable while streaming, as a reopened chat shows it
    if crash:
        assert store.recover_streaming() == 1
        expected = Status.INTERRUPTED
    else:
        store.finish_message(answer.id, Status.COMPLETE)
        expected = Status.COMPLETE
    last = store.messages(chat.id)[-1]
    assert (last.text, last.status) == (whole, expected)
    store.close()


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(saved=st.lists(any_text, max_size=5), rest=st.lists(any_text, max_size=5))
def test_finishing_with_the_whole_text_replaces_what_was_saved(saved: list[str], rest: list[str]) -> None:
    """The path taken after a part could not be saved: the whole text, once, instead of the parts."""
    store = ChatStore.open(None)
    chat = store.create_chat("m", "t")
    answer = store.add_message(chat.id, Role.MODEL, "", Status.STREAMING)
    for part in saved:
        store.append_to_message(answer.id, part)
    whole = "".join(saved + rest)
    final = store.finish_message(answer.id, Status.COMPLETE, text=whole)
    assert final.text == stored(whole) == store.messages(chat.id)[-1].text
    store.close()


# -- the machine's failures --------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path):
    store = ChatStore.open(tmp_path / "gemchat.db")
    yield store
    store.close()


def snapshot(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return (conn.execute("SELECT id, role, text, status FROM messages ORDER BY id").fetchall()
                + conn.execute("SELECT message_id, text FROM message_parts ORDER BY seq").fetchall())
    finally:
        conn.close()


def fill_up(store: ChatStore) -> None:
    """A disk with no room left, as SQLite sees it: the file may not grow by a single page."""
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")


def test_a_full_disk_is_a_storage_error_and_leaves_no_half_written_rows(store: ChatStore, tmp_path: Path) -> None:
    chat = store.create_chat("m", "t")
    store.add_message(chat.id, Role.USER, "short question")
    answer = store.add_message(chat.id, Role.MODEL, "", Status.STREAMING)
    store.append_to_message(answer.id, "Saved before the disk filled. ")
    fill_up(store)
    before = snapshot(tmp_path / "gemchat.db")
    with pytest.raises(StorageError, match="full"):
        store.add_message(chat.id, Role.USER, "x" * 50_000)
    with pytest.raises(StorageError, match="full"):
        store.append_to_message(answer.id, "y" * 50_000)
    with pytest.raises(StorageError, match="full"):
        store.finish_message(answer.id, Status.COMPLETE, text="Saved before the disk filled. " + "y" * 50_000)
    assert snapshot(tmp_path / "gemchat.db") == before
    store._conn.execute("PRAGMA max_page_count = 1073741823")  # room again
    store.finish_message(answer.id, Status.COMPLETE)
    assert store.messages(chat.id)[-1].text == "Saved before the disk filled. "


def test_a_read_only_database_is_a_storage_error(store: ChatStore, tmp_path: Path) -> None:
    chat = store.create_chat("m", "t")
    store._conn.execute("PRAGMA query_only = 1")
    before = snapshot(tmp_path / "gemchat.db")
    with pytest.raises(StorageError, match="readonly"):
        store.add_message(chat.id, Role.USER, "q")
    with pytest.raises(StorageError, match="readonly"):
        store.set_title(chat.id, "new")
    assert snapshot(tmp_path / "gemchat.db") == before
    assert store.list_chats()[0].title == "t"  # reading still works


def hold_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Another process's write transaction (another gemchat, or `gemchat import`), held for `seconds`."""
    started = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO chats (title, created_at, updated_at, model) VALUES ('other', 'x', 'x', 'm')")
        started.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold)
    thread.start()
    started.wait(5)
    return thread


def test_a_write_waits_for_another_writer_then_succeeds(store: ChatStore, tmp_path: Path) -> None:
    chat = store.create_chat("m", "t")
    holder = hold_write_lock(tmp_path / "gemchat.db", 0.5)
    started = time.monotonic()
    store.add_message(chat.id, Role.USER, "after the other writer")
    assert time.monotonic() - started >= 0.4
    holder.join()
    assert {c.title for c in store.list_chats()} == {"t", "other"}  # nothing of either writer lost
    assert store.messages(chat.id)[-1].text == "after the other writer"


def test_a_lock_held_past_the_busy_timeout_is_a_clear_storage_error(store: ChatStore, tmp_path: Path) -> None:
    chat = store.create_chat("m", "t")
    store._conn.execute("PRAGMA busy_timeout = 200")  # the app waits 5 s; the same error, sooner
    holder = hold_write_lock(tmp_path / "gemchat.db", 1.0)
    with pytest.raises(StorageError, match="locked"):
        store.add_message(chat.id, Role.USER, "while locked")
    holder.join()
    assert store.messages(chat.id) == []
    store.add_message(chat.id, Role.USER, "once free")
    assert [m.text for m in store.messages(chat.id)] == ["once free"]


def test_an_answer_keeps_its_error_only_when_it_failed_and_its_usage_as_given(store: ChatStore) -> None:
    chat = store.create_chat("m", "t")
    store.add_message(chat.id, Role.USER, "q")
    usage = {"prompt_token_count": 12, "candidates_token_count": 34}
    failed = store.add_message(chat.id, Role.MODEL, "", status=Status.STREAMING)
    finished = store.finish_message(failed.id, Status.ERROR, error="No connection to Gemini.", usage=usage)
    assert (finished.error, finished.usage) == ("No connection to Gemini.", usage)
    stopped = store.add_message(chat.id, Role.MODEL, "", status=Status.STREAMING, parent_id=failed.parent_id)
    finished = store.finish_message(stopped.id, Status.INTERRUPTED, error="Stopped.", usage={})
    assert (finished.error, finished.usage) == (None, None)
    assert [(m.error, m.usage) for m in store.messages(chat.id)][1:] == [(None, None)]


def test_exporting_a_chat_that_was_deleted_names_it(store: ChatStore) -> None:
    with pytest.raises(LookupError, match=r"^no chat 4242$"):
        list(store.iter_chats(4242))
