"""Builds the fixture databases of tests/storage/fixtures/: one per schema version, as gemchat left them.

    .venv/bin/python -m tests.storage.make_fixtures          # writes the missing ones
    .venv/bin/python -m tests.storage.make_fixtures --force  # rewrites them all

`gemchat-vK.db` is a database at schema version K (`PRAGMA user_version`),
made with the first K migrations of `gemchat.storage.migrations` and filled,
with plain SQL, with the kinds of rows a user of that version has: chats with
a system instruction or none, answers complete, stopped, failed and one cut
off by a crash (still 'streaming', its text in `message_parts`), titles and
texts in several scripts, emoji, combining marks, a NUL.

Fixtures are frozen: once committed, `gemchat-vK.db` stands for what version K
wrote, and tests/storage/test_migrations.py upgrades each of them to the
latest schema. So the script writes only missing files. When you add
migration N+1, run it once to freeze `gemchat-vN+1.db`; if your migration
stores something new, add a function to `EXTRAS` that writes realistic rows
of it, for the versions that have it.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from gemchat.storage import migrations

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# (title, system instruction, [(role, text, status, error)]); created 2026-01-0N, one minute per message.
CHATS: list[tuple[str, str | None, list[tuple[str, str, str, str | None]]]] = [
    ("Capital of France", None, [
        ("user", "What is the capital of France?", "complete", None),
        ("model", "Paris.", "complete", None),
        ("user", "And its population?", "complete", None),
        ("model", "About 2.1 million in the city itself, and ", "interrupted", None),
    ]),
    ("Été ☀️ — مرحبا", "Answer in French, briefly.", [
        ("user", "Bonjour — مرحبا 👋 e\u0301 👩🏽‍💻 שלום", "complete", None),
        ("model", "Salut ! Ça va ?", "complete", None),
        ("user", "Une longue réponse, s'il te plaît.", "complete", None),
        ("model", "Voici le début", "error", "The connection to Gemini was lost. Check your network and retry."),
    ]),
    ("Code", None, [
        ("user", "Write hello world in Python.\x00(with a NUL)", "complete", None),
        ("model", "```python\nprint('hello world')\n```\n", "complete", None),
        ("user", "Now in C", "complete", None),
        # Cut off by a crash: the text so far is in message_parts, folded in at the next start.
        ("model", "", "streaming", None),
    ]),
]
STREAMING_PARTS = ["```c\n#include <stdio.h>\n", "int main(void) {\n", "    puts(\"hello"]


def _stamp(day: int, minute: int) -> str:
    return f"2026-01-{day:02d}T10:{minute:02d}:00.000Z"


def _v1_rows(conn: sqlite3.Connection) -> None:
    """Rows in the columns every version has (v1's), so the same rows exist in each fixture."""
    for day, (title, system, messages) in enumerate(CHATS, 1):
        chat_id = conn.execute(
            "INSERT INTO chats (title, created_at, updated_at, model, system_instruction) VALUES (?, ?, ?, ?, ?)",
            (title, _stamp(day, 0), _stamp(day, len(messages)), "gemini-3.6-flash", system),
        ).lastrowid
        for minute, (role, text, status, error) in enumerate(messages, 1):
            message_id = conn.execute(
                "INSERT INTO messages (chat_id, role, text, status, error, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (chat_id, role, text, status, error, _stamp(day, minute)),
            ).lastrowid
            if status == "streaming":
                conn.executemany("INSERT INTO message_parts (message_id, text) VALUES (?, ?)",
                                 [(message_id, part) for part in STREAMING_PARTS])


def _v3_rows(conn: sqlite3.Connection) -> None:
    """Version 3 keeps answer facts and versions: a retried answer (two siblings), facts on answers."""
    conn.execute("UPDATE messages SET finish_reason = 'STOP', usage = ?, first_token_ms = 420, duration_ms = 1300 "
                 "WHERE role = 'model' AND status = 'complete'",
                 (json.dumps({"promptTokenCount": 8, "candidatesTokenCount": 3, "totalTokenCount": 11}),))
    first_answer, question = conn.execute(
        "SELECT id, parent_id FROM messages WHERE role = 'model' ORDER BY id LIMIT 1").fetchone()
    chat_id = conn.execute("SELECT chat_id FROM messages WHERE id = ?", (first_answer,)).fetchone()[0]
    # A second version of the first answer, on a branch that is not the one shown.
    conn.execute(
        "INSERT INTO messages (chat_id, role, text, status, error, created_at, parent_id, finish_reason) "
        "VALUES (?, 'model', 'Paris, on the Seine.', 'complete', NULL, ?, ?, 'STOP')",
        (chat_id, _stamp(1, 30), question),
    )


PNG_SHA256 = "f" * 64  # a file the fixture does not ship: the rows are what is upgraded


def _v4_rows(conn: sqlite3.Connection) -> None:
    """Version 4 keeps attachments, Files API uploads, grounding, thoughts and the search toggle."""
    question = conn.execute("SELECT id FROM messages WHERE role = 'user' ORDER BY id LIMIT 1").fetchone()[0]
    conn.execute("INSERT INTO message_attachments (message_id, position, sha256, name, mime_type, size) "
                 "VALUES (?, 0, ?, 'carte de Paris.png', 'image/png', 68)", (question, PNG_SHA256))
    conn.execute("INSERT INTO uploads (sha256, file_name, file_uri, expires_at) VALUES (?, 'files/abc123', "
                 "'https://generativelanguage.googleapis.com/v1beta/files/abc123', '2026-01-03T10:00:00Z')",
                 (PNG_SHA256,))
    answer = conn.execute("SELECT id FROM messages WHERE role = 'model' ORDER BY id LIMIT 1").fetchone()[0]
    grounding = {"web_search_queries": ["capital of France"],
                 "grounding_chunks": [{"web": {"uri": "https://en.wikipedia.org/wiki/Paris", "title": "Paris"}}],
                 "grounding_supports": [{"segment": {"end_index": 6}, "grounding_chunk_indices": [0]}]}
    conn.execute("UPDATE messages SET grounding = ?, thoughts = '**Recalling**\n\nParis.' WHERE id = ?",
                 (json.dumps(grounding), answer))
    conn.execute("UPDATE chats SET google_search = 1 WHERE id = (SELECT chat_id FROM messages WHERE id = ?)",
                 (answer,))


def _v5_rows(conn: sqlite3.Connection) -> None:
    """Version 5 keeps an answer's parts as Gemini sent them, thought signature included, and its model."""
    answer, text = conn.execute(
        "SELECT id, text FROM messages WHERE role = 'model' AND status = 'complete' ORDER BY id LIMIT 1").fetchone()
    parts = [{"text": "**Recalling**\n\nParis.", "thought": True}, {"text": text},
             {"text": "", "thoughtSignature": "c2lnbmF0dXJlIG9mIGEgR2VtaW5pIDMgYW5zd2Vy"}]
    conn.execute("UPDATE messages SET gemini_parts = ?, answered_by = 'gemini-3.6-flash' WHERE id = ?",
                 (json.dumps(parts), answer))


def _v6_rows(conn: sqlite3.Connection) -> None:
    """Version 6 keeps two more tool toggles per chat: code execution and URL context."""
    conn.execute("UPDATE chats SET code_execution = 1, url_context = 1 WHERE title = 'Code'")


def _v7_rows(conn: sqlite3.Connection) -> None:
    """Version 7 keeps a chat's own thinking level."""
    conn.execute("UPDATE chats SET thinking_level = 'high' WHERE title = 'Code'")


def _v8_rows(conn: sqlite3.Connection) -> None:
    """Version 8 keeps a chat's options for an image model."""
    conn.execute("""UPDATE chats SET image_options = '{"aspect_ratio": "16:9", "image_size": "2K"}' """
                 "WHERE title = 'Code'")


def _v9_rows(conn: sqlite3.Connection) -> None:
    """Version 9 keeps which chats are pinned."""
    conn.execute("UPDATE chats SET pinned = 1 WHERE title = 'Code'")


def _v10_rows(conn: sqlite3.Connection) -> None:
    """Version 10 keeps folders: one collapsed, holding a chat."""
    folder = conn.execute("INSERT INTO folders (name, collapsed) VALUES ('Voyages ✈', 1)").lastrowid
    conn.execute("UPDATE chats SET folder_id = ? WHERE title = 'Capital of France'", (folder,))


# Rows that only a schema from that version on can hold; run after the migrations up to it.
EXTRAS: dict[int, Callable[[sqlite3.Connection], None]] = {
    3: _v3_rows, 4: _v4_rows, 5: _v5_rows, 6: _v6_rows, 7: _v7_rows, 8: _v8_rows, 9: _v9_rows, 10: _v10_rows,
}


def build(version: int, path: Path) -> None:
    """A database at schema `version`: v1 rows, upgraded step by step as a user's file would be."""
    if not 1 <= version <= migrations.LATEST:
        raise ValueError(f"schema versions go from 1 to {migrations.LATEST}")
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")  # as gemchat leaves its file
        for number in range(1, version + 1):
            conn.execute("BEGIN")
            migrations.MIGRATIONS[number - 1](conn)
            conn.execute(f"PRAGMA user_version = {number}")
            if number == 1:
                _v1_rows(conn)
            conn.execute("COMMIT")
            if number in EXTRAS:
                conn.execute("BEGIN")
                EXTRAS[number](conn)
                conn.execute("COMMIT")
        conn.execute("VACUUM")
    finally:
        conn.close()


def fixture_path(version: int) -> Path:
    return FIXTURES / f"gemchat-v{version}.db"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rewrite fixtures that exist (they are meant to be frozen)")
    args = parser.parse_args(argv)
    FIXTURES.mkdir(exist_ok=True)
    for version in range(1, migrations.LATEST + 1):
        path = fixture_path(version)
        if path.exists() and not args.force:
            print(f"{path.name}: kept")
            continue
        build(version, path)
        print(f"{path.name}: written ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
