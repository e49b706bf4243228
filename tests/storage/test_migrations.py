"""Schema upgrades: every migration from a database made by each earlier version, all or nothing.

Generic over `migrations.MIGRATIONS`: a new migration is tested from every
older fixture (tests/storage/fixtures/, made by make_fixtures.py) without
touching this file.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gemchat.core.messages import Role, Status
from gemchat.storage import migrations
from gemchat.storage.errors import NewerDatabase, StorageError
from gemchat.storage.store import ChatStore
from tests.storage.make_fixtures import CHATS, STREAMING_PARTS, fixture_path

OLDER = list(range(1, migrations.LATEST))


def copy_fixture(version: int, tmp_path: Path) -> Path:
    source = fixture_path(version)
    if not source.exists():
        pytest.fail(f"{source.name} is missing: run `python -m tests.storage.make_fixtures` and commit it")
    target = tmp_path / "gemchat.db"
    shutil.copyfile(source, target)
    return target


def dump(path: Path) -> dict[str, Any]:
    """What a database holds, read with plain SQL: its version, schema, chats and messages (v1 columns)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {
            "version": conn.execute("PRAGMA user_version").fetchone()[0],
            "schema": sorted(conn.execute("SELECT type, name, sql FROM sqlite_master").fetchall(), key=str),
            "chats": conn.execute("SELECT id, title, created_at, model, system_instruction FROM chats "
                                  "ORDER BY id").fetchall() if _has(conn, "chats") else [],
            "messages": conn.execute("SELECT id, chat_id, role, text, status, error, created_at FROM messages "
                                     "ORDER BY id").fetchall() if _has(conn, "messages") else [],
            "parts": conn.execute("SELECT message_id, text FROM message_parts ORDER BY seq").fetchall()
            if _has(conn, "message_parts") else [],
        }
    finally:
        conn.close()


def _has(conn: sqlite3.Connection, table: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone() is not None


def test_a_frozen_fixture_exists_for_every_older_schema_version() -> None:
    missing = [fixture_path(v).name for v in OLDER if not fixture_path(v).exists()]
    assert not missing, f"run `python -m tests.storage.make_fixtures` and commit {missing}"


@pytest.mark.parametrize("version", OLDER, ids=[f"from-v{v}" for v in OLDER])
def test_an_older_database_is_upgraded_whole_after_a_backup(version: int, tmp_path: Path) -> None:
    path = copy_fixture(version, tmp_path)
    before = dump(path)
    assert before["version"] == version

    store = ChatStore.open(path)
    try:
        after = dump(path)
        assert after["version"] == migrations.LATEST
        assert after["chats"] == before["chats"] and after["messages"] == before["messages"]
        assert after["parts"] == before["parts"]
        # The backup, made first, is the old version as it was.
        assert store.backup is not None and store.backup.exists()
        assert store.backup.name.startswith(f"gemchat.db.v{version}-") and store.backup.name.endswith(".bak")
        assert dump(store.backup) == before
        # The upgraded file works with today's code: the branch, search, crash recovery.
        chats = store.list_chats()
        assert sorted(c.title for c in chats) == sorted(title for title, _, _ in CHATS)
        for title, _system, messages in CHATS:
            chat = next(c for c in chats if c.title == title)
            shown = [(m.role.value, m.text, m.status.value) for m in store.messages(chat.id)]
            assert shown == [(role, text + ("".join(STREAMING_PARTS) if status == "streaming" else ""), status)
                             for role, text, status, _error in messages]
        assert [h.chat_title for h in store.search("capital")][:1] == ["Capital of France"]
        assert store.recover_streaming() == 1
        code = next(c for c in chats if c.title == "Code")
        last = store.messages(code.id)[-1]
        assert (last.text, last.status) == ("".join(STREAMING_PARTS), Status.INTERRUPTED)
        store.add_message(code.id, Role.USER, "one more")
        assert store.messages(code.id)[-1].text == "one more"
    finally:
        store.close()
    again = ChatStore.open(path)
    assert again.backup is None  # already current: no second backup
    again.close()
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("number", range(1, migrations.LATEST + 1), ids=lambda n: f"v{n}")
def test_a_failing_migration_leaves_the_previous_version_intact(
    number: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration `number` does all its work, then the disk fills up: none of it may stay."""
    real = migrations.MIGRATIONS[number - 1]

    def fails_at_the_end(conn: sqlite3.Connection) -> None:
        real(conn)
        raise sqlite3.OperationalError("database or disk is full")

    patched = list(migrations.MIGRATIONS)
    patched[number - 1] = fails_at_the_end
    monkeypatch.setattr(migrations, "MIGRATIONS", tuple(patched))
    previous = number - 1
    path = copy_fixture(previous, tmp_path) if previous else tmp_path / "gemchat.db"
    before = dump(path) if previous else None

    with pytest.raises(StorageError) as info:
        ChatStore.open(path)
    assert "disk is full" in str(info.value)

    after = dump(path)
    assert after["version"] == previous
    if before is not None:
        assert after == before
        backups = list(tmp_path.glob(f"gemchat.db.v{previous}-*.bak"))
        assert len(backups) == 1 and dump(backups[0]) == before
    else:
        assert after["schema"] == [] and not list(tmp_path.glob("*.bak"))

    monkeypatch.undo()
    store = ChatStore.open(path)  # the next start, with a working migration, upgrades it
    assert dump(path)["version"] == migrations.LATEST
    store.close()


@pytest.mark.parametrize("recover_corrupt", [False, True])
def test_a_database_from_a_newer_gemchat_is_refused_untouched(recover_corrupt: bool, tmp_path: Path) -> None:
    path = copy_fixture(migrations.LATEST - 1 or 1, tmp_path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(NewerDatabase) as info:
        ChatStore.open(path, recover_corrupt=recover_corrupt)
    message = str(info.value)
    assert "newer gemchat" in message and "update gemchat" in message
    assert f"schema {migrations.LATEST + 1}" in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gemchat.db"]  # no backup, not moved aside


def test_copies_made_in_the_same_second_each_get_a_name_of_their_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Clock:
            return cls(2026, 11, 29, 17, 45, 3)

    monkeypatch.setattr(migrations.dt, "datetime", Clock)
    path = tmp_path / "gemchat.db"
    names = []
    for _ in range(3):
        copy = migrations.stamped_path(path, "v4", ".bak")
        copy.write_text("a copy")
        names.append(copy.name)
    assert names == ["gemchat.db.v4-20261129-174503.bak", "gemchat.db.v4-20261129-174503-1.bak",
                     "gemchat.db.v4-20261129-174503-2.bak"]


def test_the_newest_fixture_reads_back_an_answers_gemini_parts_and_its_model(tmp_path: Path) -> None:
    path = copy_fixture(migrations.LATEST, tmp_path)
    store = ChatStore.open(path)
    try:
        chat = next(c for c in store.list_chats() if c.title == "Capital of France")
        answer = next(m for m in store.messages(chat.id) if m.role is Role.MODEL)
        assert answer.answered_by == "gemini-3.6-flash"
        assert answer.gemini_parts is not None and answer.gemini_parts[1] == {"text": answer.text}
        assert answer.gemini_parts[2]["thoughtSignature"]
        code = next(c for c in store.list_chats() if c.title == "Code")
        assert (code.code_execution, code.url_context, chat.code_execution) == (True, True, False)
        assert (code.thinking_level, chat.thinking_level) == ("high", "")
        assert (code.image_options.aspect_ratio, code.image_options.image_size) == ("16:9", "2K")
        assert chat.image_options.to_json() == {}
        assert (code.pinned, chat.pinned) == (True, False)
        [folder] = store.folders.list()
        assert (folder.name, folder.collapsed, chat.folder_id, code.folder_id) == ("Voyages ✈", True, folder.id, None)
    finally:
        store.close()
