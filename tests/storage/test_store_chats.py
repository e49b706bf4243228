"""Living in chats, as the store keeps them: versions and branches, search, options, deleting.

The window's tests (tests/ui/test_chats.py) drive these through keys; here the
store itself is pinned, so a change to one of its queries fails next to it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from gemchat.core.messages import MATCH_END, MATCH_START, Role, Status
from gemchat.storage.errors import CorruptDatabase, StorageError
from gemchat.storage.search import fts_query
from gemchat.storage.store import ChatStore


@pytest.fixture
def store() -> Iterator[ChatStore]:
    store = ChatStore.open(None)
    yield store
    store.close()


def shown(store: ChatStore, chat_id: int) -> list[tuple[str, int, int]]:
    """(text, version, versions) of each message on the shown branch, as the chat view lists them."""
    return [(m.text, m.version, m.versions) for m in store.messages(chat_id)]


def test_a_new_answer_version_is_shown_and_the_old_one_can_be_paged_back_to(store: ChatStore) -> None:
    chat = store.create_chat("m", "Versions")
    question = store.add_message(chat.id, Role.USER, "q")
    first = store.add_message(chat.id, Role.MODEL, "first answer")
    store.add_message(chat.id, Role.USER, "follow-up")
    store.add_message(chat.id, Role.MODEL, "follow-up answer")
    second = store.add_message(chat.id, Role.MODEL, "second answer", parent_id=question.id)  # Ctrl+R
    assert shown(store, chat.id) == [("q", 1, 1), ("second answer", 2, 2)]
    assert store.switch_version(second.id, -1) == first.id  # Alt+Left: the old version, with its branch
    assert shown(store, chat.id) == [("q", 1, 1), ("first answer", 1, 2), ("follow-up", 1, 1),
                                     ("follow-up answer", 1, 1)]
    assert store.switch_version(first.id, -1) is None  # no version before the first
    assert shown(store, chat.id)[1] == ("first answer", 1, 2)
    assert store.switch_version(first.id, +1) == second.id
    assert shown(store, chat.id) == [("q", 1, 1), ("second answer", 2, 2)]
    assert store.switch_version(second.id, +1) is None
    assert store.switch_version(10_000, -1) is None  # a message deleted meanwhile


def test_the_version_of_a_finished_answer_counts_only_its_own_siblings(store: ChatStore) -> None:
    chat = store.create_chat("m", "t")
    q1 = store.add_message(chat.id, Role.USER, "q1")
    store.add_message(chat.id, Role.MODEL, "a1")
    store.add_message(chat.id, Role.USER, "q2")
    store.add_message(chat.id, Role.MODEL, "a2")
    again = store.add_message(chat.id, Role.MODEL, "", Status.STREAMING, parent_id=q1.id)
    store.append_to_message(again.id, "a1, again")
    final = store.finish_message(again.id, Status.COMPLETE)
    assert (final.text, final.version, final.versions) == ("a1, again", 2, 2)


def test_a_search_hit_in_another_version_is_shown_when_opened_and_one_on_the_branch_keeps_it(store: ChatStore) -> None:
    chat = store.create_chat("m", "t")
    question = store.add_message(chat.id, Role.USER, "q")
    old = store.add_message(chat.id, Role.MODEL, "old answer")
    store.add_message(chat.id, Role.USER, "old follow-up")
    store.add_message(chat.id, Role.MODEL, "new answer", parent_id=question.id)
    assert store.reveal(question.id) == chat.id  # on the branch: nothing changes
    assert [t for t, _, _ in shown(store, chat.id)] == ["q", "new answer"]
    assert store.reveal(old.id) == chat.id
    assert [t for t, _, _ in shown(store, chat.id)] == ["q", "old answer", "old follow-up"]
    assert store.reveal(10_000) is None


def test_asking_again_shows_the_question_alone_then_the_new_answer_as_its_second_version(store: ChatStore) -> None:
    chat = store.create_chat("m", "t")
    question = store.add_message(chat.id, Role.USER, "q")
    store.add_message(chat.id, Role.MODEL, "a")
    store.set_leaf(chat.id, question.id)  # the answer is about to be asked for again
    assert [t for t, _, _ in shown(store, chat.id)] == ["q"]
    again = store.add_message(chat.id, Role.MODEL, "a, again")
    assert again.parent_id == question.id
    assert shown(store, chat.id) == [("q", 1, 1), ("a, again", 2, 2)]


def test_the_last_active_chat_opens_at_start(store: ChatStore) -> None:
    assert store.last_chat_id() is None
    old = store.create_chat("m", "old", created_at="2025-01-01T00:00:00.000Z")
    new = store.create_chat("m", "new", created_at="2025-02-01T00:00:00.000Z")
    assert store.last_chat_id() == new.id
    store.add_message(old.id, Role.USER, "back to the old one", created_at="2025-03-01T00:00:00.000Z")
    assert store.last_chat_id() == old.id
    assert [c.title for c in store.list_chats()] == ["old", "new"]
    assert store.chat_ids() == [old.id, new.id]  # export order: oldest first


def test_a_chats_options_title_and_search_toggle_are_kept(store: ChatStore) -> None:
    chat = store.create_chat("gemini-3.6-flash", "Before", "Be brief.")
    store.set_chat_options(chat.id, "gemini-3.6-pro", "Answer in French.")
    store.set_title(chat.id, "After")
    store.set_google_search(chat.id, True)
    again = store.get_chat(chat.id)
    assert again is not None
    assert (again.model, again.system_instruction, again.title, again.google_search) == (
        "gemini-3.6-pro", "Answer in French.", "After", True)
    store.set_chat_options(chat.id, "gemini-3.6-pro", "")  # the box emptied: no instruction
    store.set_google_search(chat.id, False)
    again = store.get_chat(chat.id)
    assert again is not None and again.system_instruction is None and again.google_search is False
    assert store.get_chat(10_000) is None


def test_deleting_a_message_or_a_chat_leaves_nothing_of_it(store: ChatStore) -> None:
    keep = store.create_chat("m", "keep")
    store.add_message(keep.id, Role.USER, "kept question")
    kept_answer = store.add_message(keep.id, Role.MODEL, "", Status.STREAMING)
    store.append_to_message(kept_answer.id, "kept part")
    gone = store.create_chat("m", "gone")
    store.add_message(gone.id, Role.USER, "unique zebra question")
    answer = store.add_message(gone.id, Role.MODEL, "", Status.STREAMING)
    store.append_to_message(answer.id, "a part")
    store.delete_message(answer.id)
    assert store.get_message(answer.id) is None
    assert store._conn.execute("SELECT message_id FROM message_parts").fetchall() == [(kept_answer.id,)]
    store.delete_chat(gone.id)
    assert store.get_chat(gone.id) is None and store.search("zebra") == []
    assert store._conn.execute("SELECT count(*) FROM messages WHERE chat_id = ?", (gone.id,)).fetchone() == (0,)
    assert store._conn.execute("SELECT message_id FROM message_parts").fetchall() == [(kept_answer.id,)]
    assert [m.text for m in store.messages(keep.id)] == ["kept question", "kept part"]


def test_search_finds_titles_first_then_messages_newest_first_with_the_words_marked(store: ChatStore) -> None:
    paris = store.create_chat("m", "Trip to Paris")
    store.add_message(paris.id, Role.USER, "What to see in Paris in spring?")
    store.add_message(paris.id, Role.MODEL, "Paris has the Louvre.")
    other = store.create_chat("m", "Cooking")
    store.add_message(other.id, Role.USER, "A recipe from Paris, please")
    hits = store.search("paris")
    assert [(h.chat_id, h.message_id is None, h.role) for h in hits] == [
        (paris.id, True, None), (other.id, False, Role.USER), (paris.id, False, Role.MODEL),
        (paris.id, False, Role.USER)]
    assert hits[0].chat_title == "Trip to Paris"  # the title without the marks
    assert hits[0].snippet == f"Trip to {MATCH_START}Paris{MATCH_END}"
    assert hits[1].chat_title == "Cooking" and f"{MATCH_START}Paris{MATCH_END}" in hits[1].snippet
    assert [h.message_id is None for h in store.search("paris", limit=2)] == [True, False]
    assert store.search("pari spring") and store.search("paris autumn") == []  # every word, as a prefix
    assert store.search("  ...  ") == []


def test_whatever_is_typed_in_search_is_words_never_syntax(store: ChatStore) -> None:
    chat = store.create_chat("m", 'He said "NEAR" (twice) *')
    assert [h.chat_id for h in store.search('"NEAR" (twice')] == [chat.id]
    assert fts_query('say "hi" now') == '"say"* "hi"* "now"*'
    assert fts_query("---") is None
    assert fts_query(" ".join(f"w{n}" for n in range(40))).count("*") == 32  # a pasted essay: its first 32 words


def test_a_search_that_sqlite_cannot_run_is_a_storage_error(tmp_path: Path) -> None:
    store = ChatStore.open(tmp_path / "gemchat.db")
    store.create_chat("m", "t")
    store._conn.execute("DROP TABLE messages_fts")  # as a damaged index would be
    with pytest.raises(StorageError, match="search failed"):
        store.search("t")
    store.close()


def test_a_damaged_database_is_moved_aside_and_a_fresh_one_started(tmp_path: Path) -> None:
    path = tmp_path / "gemchat.db"
    path.write_bytes(b"this is not a database" * 200)
    with pytest.raises(CorruptDatabase, match="damaged or not a gemchat database"):
        ChatStore.open(path)
    assert path.read_bytes().startswith(b"this is not a database")  # untouched without recover_corrupt
    store = ChatStore.open(path, recover_corrupt=True)
    try:
        aside = store.moved_aside
        assert aside is not None and aside.name.startswith("gemchat.db.damaged-")
        assert aside.read_bytes().startswith(b"this is not a database")
        assert store.list_chats() == [] and store.create_chat("m", "fresh").id == 1
    finally:
        store.close()


def test_a_file_damaged_past_its_first_page_is_found_at_start_when_asked_to_check(tmp_path: Path) -> None:
    path = tmp_path / "gemchat.db"
    store = ChatStore.open(path)
    chat = store.create_chat("m", "Old chat")
    for n in range(200):
        store.add_message(chat.id, Role.USER, f"message {n} " * 40)
    store.close()
    data = bytearray(path.read_bytes())
    data[len(data) // 2:] = bytes(len(data) - len(data) // 2)  # zeroed pages
    path.write_bytes(bytes(data))
    store = ChatStore.open(path, recover_corrupt=True)
    try:
        assert store.moved_aside is not None and store.list_chats() == []
    finally:
        store.close()


def test_a_database_that_cannot_be_created_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a folder")
    with pytest.raises(StorageError, match="cannot open"):
        ChatStore.open(tmp_path / "file" / "gemchat.db")
    with sqlite3.connect(tmp_path / "empty.db"):
        pass
    assert ChatStore.open(tmp_path / "empty.db").list_chats() == []  # an empty file is a new database


def test_a_search_hit_on_the_old_version_being_shown_keeps_that_version(store: ChatStore) -> None:
    chat = store.create_chat("m", "t")
    question = store.add_message(chat.id, Role.USER, "q")
    old = store.add_message(chat.id, Role.MODEL, "old answer")
    store.add_message(chat.id, Role.MODEL, "new answer", parent_id=question.id)
    store.switch_version(old.id, 0)  # the user paged back to the old answer
    assert [t for t, _, _ in shown(store, chat.id)] == ["q", "old answer"]
    assert store.reveal(question.id) == chat.id  # a hit on the question, which both versions share
    assert [t for t, _, _ in shown(store, chat.id)] == ["q", "old answer"]


def test_search_shows_at_most_fifty_hits_each_with_when_it_was_written(store: ChatStore) -> None:
    chats = [store.create_chat("m", f"Plan {n}", created_at=f"2025-01-{n % 28 + 1:02}T00:00:00.000Z")
             for n in range(30)]
    for chat in chats:
        store.add_message(chat.id, Role.USER, "a plan for the day", created_at="2025-03-01T10:00:00.000Z")
    hits = store.search("plan")
    assert len(hits) == 50
    assert [h.created_at for h in hits[:30]] == [c.created_at for c in chats]  # titles: the chat's creation
    assert {h.created_at for h in hits[30:]} == {"2025-03-01T10:00:00.000Z"}  # messages: their own time


def test_a_sqlite_file_of_another_program_is_refused_and_never_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "gemchat.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE chats (something_else TEXT)")
    with pytest.raises(StorageError, match="cannot open") as refused:
        ChatStore.open(path, recover_corrupt=True)
    assert not isinstance(refused.value, CorruptDatabase)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gemchat.db"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("chats",)]


def test_a_damaged_file_names_itself_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "gemchat.db"
    path.write_bytes(b"garbage" * 1000)
    with pytest.raises(CorruptDatabase) as damaged:
        ChatStore.open(path)
    assert damaged.value.path == path and str(path) in str(damaged.value)


def test_continuing_an_answer_that_was_deleted_meanwhile_is_an_error_naming_it(store: ChatStore) -> None:
    with pytest.raises(LookupError, match="no message 4242"):
        store.reopen_message(4242)
    with pytest.raises(LookupError, match="no message 4242"):
        store.finish_message(4242, Status.COMPLETE)

