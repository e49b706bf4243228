"""The database schema, as an ordered list of migrations.

The schema version lives in SQLite's `user_version`. Each migration runs in
one transaction together with the version bump, so a crash mid-upgrade leaves
the previous version intact; before any upgrade of an existing database the
file is copied aside (SQLite's backup API, consistent even in WAL mode), so an
upgrade can never be what loses a user's history.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from pathlib import Path

Migration = Callable[[sqlite3.Connection], None]


def _v1_chats_and_messages(conn: sqlite3.Connection) -> None:
    """Chats, their messages, and the parts of answers still streaming.

    An answer is saved while it streams by appending rows to `message_parts`
    (constant cost per save); they are folded into `messages.text` once, when
    the answer ends or, after a crash, at the next start.
    """
    _run(
        conn,
        """
        CREATE TABLE chats (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            model TEXT NOT NULL,
            system_instruction TEXT
        );
        CREATE INDEX chats_by_activity ON chats(updated_at DESC, id DESC);
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('user', 'model')),
            text TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL CHECK (status IN ('complete', 'streaming', 'interrupted', 'error')),
            error TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX messages_by_chat ON messages(chat_id, id);
        CREATE TABLE message_parts (
            seq INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            text TEXT NOT NULL
        );
        CREATE INDEX message_parts_by_message ON message_parts(message_id, seq);
        """
    )


def _run(conn: sqlite3.Connection, script: str) -> None:
    """Runs each statement of `script` inside the caller's transaction.

    Not `executescript`, which commits the open transaction first.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement!r}")


def _v2_full_text_search(conn: sqlite3.Connection) -> None:
    """FTS5 indexes over message texts and chat titles, kept in step by triggers.

    External-content tables: the text is stored once, in `messages`/`chats`.
    `remove_diacritics 2` lets "cafe" find "café". A streaming answer's text is
    '' until it is finished, so the index is written once per answer, not per chunk.
    """
    _run(
        conn,
        """
        CREATE VIRTUAL TABLE messages_fts USING fts5(
            text, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
            INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
            INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE VIRTUAL TABLE chats_fts USING fts5(
            title, content='chats', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER chats_fts_insert AFTER INSERT ON chats BEGIN
            INSERT INTO chats_fts(rowid, title) VALUES (new.id, new.title);
        END;
        CREATE TRIGGER chats_fts_delete AFTER DELETE ON chats BEGIN
            INSERT INTO chats_fts(chats_fts, rowid, title) VALUES ('delete', old.id, old.title);
        END;
        CREATE TRIGGER chats_fts_update AFTER UPDATE OF title ON chats BEGIN
            INSERT INTO chats_fts(chats_fts, rowid, title) VALUES ('delete', old.id, old.title);
            INSERT INTO chats_fts(rowid, title) VALUES (new.id, new.title);
        END;
        INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
        INSERT INTO chats_fts(chats_fts) VALUES ('rebuild');
        """,
    )


def _v3_versions_and_answer_facts(conn: sqlite3.Connection) -> None:
    """Messages form a tree, so a regenerated answer or an edited question keeps the old one.

    Each message points at the one before it (`parent_id`); siblings are the
    versions the user pages through, and `chats.current_leaf_id` says which
    branch is shown. Existing chats become a single branch. Answers also keep
    why they ended (`finish_reason`), their token usage (JSON of `usageMetadata`)
    and their timing, shown under each answer.
    """
    _run(
        conn,
        """
        ALTER TABLE messages ADD COLUMN parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE;
        ALTER TABLE messages ADD COLUMN finish_reason TEXT;
        ALTER TABLE messages ADD COLUMN usage TEXT;
        ALTER TABLE messages ADD COLUMN first_token_ms INTEGER;
        ALTER TABLE messages ADD COLUMN duration_ms INTEGER;
        ALTER TABLE chats ADD COLUMN current_leaf_id INTEGER;
        UPDATE messages SET parent_id = (
            SELECT max(p.id) FROM messages p WHERE p.chat_id = messages.chat_id AND p.id < messages.id
        );
        UPDATE chats SET current_leaf_id = (SELECT max(m.id) FROM messages m WHERE m.chat_id = chats.id);
        CREATE INDEX messages_by_parent ON messages(chat_id, parent_id, role, id);
        """,
    )


def _v4_attachments_grounding_thoughts(conn: sqlite3.Connection) -> None:
    """Files sent with questions, Google Search grounding and thought summaries of answers.

    A question's files are rows of `message_attachments` naming a copy in the
    data directory by its SHA-256 (one copy per content, however often sent).
    `uploads` remembers, per content, the Files API copy (`files/abc123`) and
    when Google deletes it (48 hours after upload), so a follow-up refers to it
    instead of uploading again. `messages.grounding` is the answer's grounding
    metadata as JSON; `chats.google_search` is the chat's search toggle.
    """
    _run(
        conn,
        """
        ALTER TABLE messages ADD COLUMN grounding TEXT;
        ALTER TABLE messages ADD COLUMN thoughts TEXT;
        ALTER TABLE chats ADD COLUMN google_search INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE message_attachments (
            message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            name TEXT NOT NULL,
            mime_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            PRIMARY KEY (message_id, position)
        );
        CREATE INDEX message_attachments_by_sha256 ON message_attachments(sha256);
        CREATE TABLE uploads (
            sha256 TEXT PRIMARY KEY,
            file_name TEXT NOT NULL,
            file_uri TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        """,
    )


def _v5_gemini_parts(conn: sqlite3.Connection) -> None:
    """An answer's content as Gemini sent it, to send back as it came.

    `messages.gemini_parts` is the answer's `parts` as JSON, in the API's own
    form and order: text with its `thought` flag, `thoughtSignature` (the
    model's encrypted reasoning, which Gemini 3 needs back in the next turn's
    history), code execution and function call parts. `messages.answered_by`
    is the model that wrote it: signatures go back only to that model. Answers
    saved before this version keep both NULL and are sent back as their text,
    as before.
    """
    _run(
        conn,
        """
        ALTER TABLE messages ADD COLUMN gemini_parts TEXT;
        ALTER TABLE messages ADD COLUMN answered_by TEXT;
        """,
    )


def _v6_code_execution_and_url_context(conn: sqlite3.Connection) -> None:
    """Two more tools a chat can turn on beside Google Search: code execution and URL context."""
    _run(
        conn,
        """
        ALTER TABLE chats ADD COLUMN code_execution INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE chats ADD COLUMN url_context INTEGER NOT NULL DEFAULT 0;
        """,
    )


def _v7_chat_thinking_level(conn: sqlite3.Connection) -> None:
    """A chat's own thinking level: '' follows Settings, 'default' leaves it to the model, else the level."""
    _run(conn, "ALTER TABLE chats ADD COLUMN thinking_level TEXT NOT NULL DEFAULT '';")


def _v8_image_options(conn: sqlite3.Connection) -> None:
    """A chat's options for an image model (JSON: aspect_ratio, image_size, pictures_only); NULL for none."""
    _run(conn, "ALTER TABLE chats ADD COLUMN image_options TEXT;")


def _v9_pinned_chats(conn: sqlite3.Connection) -> None:
    """Chats the user pinned: listed first, under Pinned."""
    _run(conn, "ALTER TABLE chats ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;")


def _v10_folders(conn: sqlite3.Connection) -> None:
    """Folders the user makes for chats; a chat is in one folder or none. `collapsed`: its chats hidden."""
    _run(
        conn,
        """
        CREATE TABLE folders (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            collapsed INTEGER NOT NULL DEFAULT 0
        );
        ALTER TABLE chats ADD COLUMN folder_id INTEGER REFERENCES folders(id) ON DELETE SET NULL;
        """,
    )


MIGRATIONS: tuple[Migration, ...] = (
    _v1_chats_and_messages,
    _v2_full_text_search,
    _v3_versions_and_answer_facts,
    _v4_attachments_grounding_thoughts,
    _v5_gemini_parts,
    _v6_code_execution_and_url_context,
    _v7_chat_thinking_level,
    _v8_image_options,
    _v9_pinned_chats,
    _v10_folders,
)
LATEST = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def stamped_path(path: Path, label: str, suffix: str = "") -> Path:
    """`NAME.LABEL-TIMESTAMP[-N]SUFFIX` beside `path`, a name no earlier copy has.

    Two copies in one second (two upgrades, two damaged files) must not overwrite each other.
    """
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.{label}-{stamp}{suffix}")
    n = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.{label}-{stamp}-{n}{suffix}")
        n += 1
    return candidate


def backup_path(path: Path, version: int) -> Path:
    return stamped_path(path, f"v{version}", ".bak")


def migrate(conn: sqlite3.Connection, path: Path | None) -> Path | None:
    """Brings the schema to `LATEST`; returns the backup made first, if any.

    `conn` must be in autocommit mode (isolation_level=None). `path` None (an
    in-memory database) skips the backup.
    """
    version = schema_version(conn)
    if version >= LATEST:
        return None
    backup = None
    if version > 0 and path is not None:
        backup = backup_path(path, version)
        with sqlite3.connect(backup) as target:
            conn.backup(target)
        target.close()
    for number in range(version + 1, LATEST + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[number - 1](conn)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return backup
