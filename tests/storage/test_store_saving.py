"""How a streaming answer is saved: the design that keeps a long answer cheap and whole.

An answer is saved while it streams by appending one row to `message_parts`
per save (the session saves at least every 250 ms); `messages.text` is written
once, when the answer ends, and the parts are then deleted. Rewriting
`messages.text` on every save would cost more with every save (each one
rewrites the whole answer, and its full-text index entry), which these tests
measure as pages written to the WAL file: a count, not a timing. Parts left
behind after the end would be shown a second time when the answer is
continued.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from gemchat.core.messages import Role, Status
from gemchat.storage.store import ChatStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ChatStore]:
    store = ChatStore.open(tmp_path / "gemchat.db")
    yield store
    store.close()


def on_disk(store: ChatStore, sql: str, params: tuple = ()) -> list[tuple]:
    """What another reader of the file (the next start, `gemchat export`) finds, not what the store says."""
    assert store.path is not None
    conn = sqlite3.connect(store.path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def streaming_answer(store: ChatStore) -> tuple[int, int]:
    """A chat with a question and an empty answer being streamed; returns (chat id, answer id)."""
    chat = store.create_chat("gemini-3.6-flash", "Saving")
    store.add_message(chat.id, Role.USER, "Tell me a long story")
    answer = store.add_message(chat.id, Role.MODEL, "", Status.STREAMING)
    return chat.id, answer.id


def test_a_streaming_answer_is_saved_as_new_rows_and_its_text_written_once_when_it_ends(store: ChatStore) -> None:
    chat_id, answer_id = streaming_answer(store)
    pieces = ["Once upon ", "a time, ", "there was ", "a database."]
    for n, piece in enumerate(pieces, 1):
        store.append_to_message(answer_id, piece)
        assert on_disk(store, "SELECT text FROM message_parts WHERE message_id = ? ORDER BY seq",
                       (answer_id,)) == [(p,) for p in pieces[:n]]
        assert on_disk(store, "SELECT text, status FROM messages WHERE id = ?", (answer_id,)) == [("", "streaming")]
        assert store.messages(chat_id)[-1].text == "".join(pieces[:n])  # a chat reopened mid-answer shows it all
    store.finish_message(answer_id, Status.COMPLETE)
    assert on_disk(store, "SELECT text, status FROM messages WHERE id = ?", (answer_id,)) == [
        ("".join(pieces), "complete")]
    assert on_disk(store, "SELECT count(*) FROM message_parts") == [(0,)]


def wal_pages(store: ChatStore) -> int:
    """Pages written to the WAL file so far (each page is one frame: a 24-byte header and the page)."""
    assert store.path is not None
    page_size = store._conn.execute("PRAGMA page_size").fetchone()[0]
    wal = store.path.with_name(store.path.name + "-wal")
    return (wal.stat().st_size - 32) // (page_size + 24)


def test_saving_more_of_a_long_answer_writes_no_more_than_saving_more_of_a_short_one(store: ChatStore) -> None:
    """300 saves of 1 KB each: the last hundred (the answer at 200-300 KB) cost what the first hundred did.

    Measured in pages written to the WAL, with checkpoints off so the file only grows.
    Rewriting the whole text on each save writes about five times as many pages
    per save by the end as at the start.
    """
    store._conn.execute("PRAGMA wal_autocheckpoint = 0")
    _chat_id, answer_id = streaming_answer(store)
    piece = "All work and no play makes a long answer. " * 24  # 1 KB
    written: list[int] = []
    for _ in range(300):
        before = wal_pages(store)
        store.append_to_message(answer_id, piece)
        written.append(wal_pages(store) - before)
    early, late = sum(written[:100]) / 100, sum(written[200:]) / 100
    assert early > 0, "the saves wrote nothing to the WAL: the measure measures nothing"
    assert late <= early * 1.5, (
        f"a save of the answer at 200-300 KB wrote {late:.1f} pages on average, at 0-100 KB {early:.1f}")
    store.finish_message(answer_id, Status.COMPLETE)
    assert on_disk(store, "SELECT length(text) FROM messages WHERE id = ?", (answer_id,)) == [(300 * len(piece),)]


def test_finishing_with_the_whole_text_leaves_no_saved_parts_behind(store: ChatStore) -> None:
    """The end of an answer whose later saves failed: the whole text replaces the parts saved before."""
    chat_id, answer_id = streaming_answer(store)
    store.append_to_message(answer_id, "ab")
    store.finish_message(answer_id, Status.INTERRUPTED, text="abcd")
    assert on_disk(store, "SELECT count(*) FROM message_parts") == [(0,)]
    assert on_disk(store, "SELECT text FROM messages WHERE id = ?", (answer_id,)) == [("abcd",)]
    assert store.messages(chat_id)[-1].text == "abcd"


@pytest.mark.parametrize("whole_text_at_the_end", [False, True], ids=["parts folded", "whole text given"])
def test_continuing_a_cut_off_answer_shows_its_text_once_then_the_rest(
    store: ChatStore, whole_text_at_the_end: bool
) -> None:
    chat_id, answer_id = streaming_answer(store)
    store.append_to_message(answer_id, "ab")
    if whole_text_at_the_end:  # "cd" could not be saved as a part; the end writes the whole text
        store.finish_message(answer_id, Status.INTERRUPTED, text="abcd")
    else:
        store.append_to_message(answer_id, "cd")
        store.finish_message(answer_id, Status.INTERRUPTED)
    reopened = store.reopen_message(answer_id)  # the user presses Continue
    assert reopened.text == "abcd" and reopened.status is Status.STREAMING
    assert store.messages(chat_id)[-1].text == "abcd"
    store.append_to_message(answer_id, "ef")
    assert store.messages(chat_id)[-1].text == "abcdef"
    final = store.finish_message(answer_id, Status.COMPLETE)
    assert final.text == "abcdef"
    assert [(m.text, m.status) for m in store.messages(chat_id)] == [
        ("Tell me a long story", Status.COMPLETE), ("abcdef", Status.COMPLETE)]
    assert on_disk(store, "SELECT count(*) FROM message_parts") == [(0,)]


def test_an_answer_cut_off_by_a_crash_keeps_its_saved_text_once_after_the_next_start(
    store: ChatStore, tmp_path: Path
) -> None:
    chat_id, answer_id = streaming_answer(store)
    store.append_to_message(answer_id, "Saved ")
    store.append_to_message(answer_id, "before the crash.")
    store.close()
    again = ChatStore.open(tmp_path / "gemchat.db")
    try:
        assert again.recover_streaming() == 1
        assert again.recover_streaming() == 0  # a second start finds nothing left streaming
        last = again.messages(chat_id)[-1]
        assert (last.text, last.status) == ("Saved before the crash.", Status.INTERRUPTED)
        assert on_disk(again, "SELECT count(*) FROM message_parts") == [(0,)]
        again.reopen_message(answer_id)
        assert again.messages(chat_id)[-1].text == "Saved before the crash."
    finally:
        again.close()


SIGNED = [{"text": "Hello"}, {"text": "", "thoughtSignature": "c2ln"}]


def test_an_answers_parts_and_model_are_kept_and_read_back(store: ChatStore) -> None:
    chat = store.create_chat("gemini-3.6-flash", "t")
    store.add_message(chat.id, Role.USER, "Hi")
    answer = store.add_message(chat.id, Role.MODEL, "", Status.STREAMING)
    store.append_to_message(answer.id, "Hello")
    done = store.finish_message(answer.id, Status.COMPLETE, gemini_parts=SIGNED, answered_by="gemini-3.6-flash")
    assert (done.gemini_parts, done.answered_by) == (SIGNED, "gemini-3.6-flash")
    assert [(m.gemini_parts, m.answered_by) for m in store.messages(chat.id)][1] == (SIGNED, "gemini-3.6-flash")


def cut_off_and_reopened(store: ChatStore) -> tuple[int, int]:
    """A chat whose answer "Hello" was cut off with its parts kept (by m1), now being continued: (chat, answer)."""
    chat = store.create_chat("gemini-3.6-flash", "t")
    store.add_message(chat.id, Role.USER, "Hi")
    answer = store.add_message(chat.id, Role.MODEL, "", Status.STREAMING)
    store.append_to_message(answer.id, "Hello")
    store.finish_message(answer.id, Status.INTERRUPTED, gemini_parts=SIGNED, answered_by="m1")
    store.reopen_message(answer.id)
    return chat.id, answer.id


def test_a_continued_answer_adds_its_parts_to_the_kept_ones_of_the_same_model_only(store: ChatStore) -> None:
    _chat_id, answer_id = cut_off_and_reopened(store)
    store.append_to_message(answer_id, ", world")
    more = [{"text": ", world"}, {"text": "", "thoughtSignature": "bW9yZQ=="}]
    assert store.finish_message(answer_id, Status.COMPLETE, gemini_parts=more, answered_by="m1",
                                continued=True).gemini_parts == SIGNED + more

    store.reopen_message(answer_id)  # continued again, by another model: the whole goes back as text
    store.append_to_message(answer_id, "!")
    other = store.finish_message(answer_id, Status.COMPLETE, gemini_parts=[{"text": "!"}], answered_by="m2",
                                 continued=True)
    assert (other.text, other.gemini_parts, other.answered_by) == ("Hello, world!", None, None)


def test_an_answer_cut_off_by_a_crash_while_being_continued_loses_its_parts_and_goes_back_as_text(
        store: ChatStore) -> None:
    chat_id, answer_id = cut_off_and_reopened(store)
    store.append_to_message(answer_id, ", wor")
    assert store.recover_streaming() == 1
    recovered = store.messages(chat_id)[-1]
    assert (recovered.text, recovered.status, recovered.gemini_parts) == ("Hello, wor", Status.INTERRUPTED, None)
