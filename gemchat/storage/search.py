"""Full-text search over chats' titles and messages (SQLite FTS5, the tables the migrations make)."""

from __future__ import annotations

import re
import sqlite3

from gemchat.core.messages import MATCH_END, MATCH_START, Role, SearchHit
from gemchat.storage.errors import StorageError

_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str | None:
    """An FTS5 query matching every word of `text` as a prefix; None when there is no word.

    Each word is a quoted string (quotes doubled), so no character the user
    types is FTS5 syntax.
    """
    words = _WORD.findall(text)
    if not words:
        return None
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words[:32])


def search(conn: sqlite3.Connection, text: str, limit: int = 50) -> list[SearchHit]:
    """Chats whose title, and messages whose text, contain every word typed (as word prefixes).

    Title matches come first, then messages, newest first (FTS5 walks its
    index in rowid order and stops at `limit`, so a common word costs no more
    than a rare one; ranking by relevance would score every match). Whatever the user
    typed (quotes, `*`, `NEAR`, unbalanced brackets) is searched for as words,
    never read as FTS5 syntax.
    """
    query = fts_query(text)
    if query is None:
        return []
    hits: list[SearchHit] = []
    try:
        for chat_id, title, created in conn.execute(
            "SELECT c.id, highlight(chats_fts, 0, ?, ?), c.created_at FROM chats_fts "
            "JOIN chats c ON c.id = chats_fts.rowid WHERE chats_fts MATCH ? ORDER BY rank LIMIT ?",
            (MATCH_START, MATCH_END, query, limit),
        ):
            plain = title.replace(MATCH_START, "").replace(MATCH_END, "")
            hits.append(SearchHit(chat_id, plain, None, None, title, created))
        for message_id, chat_id, title, role, snippet, created in conn.execute(
            "SELECT m.id, m.chat_id, c.title, m.role, snippet(messages_fts, 0, ?, ?, '…', 16), m.created_at "
            "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid JOIN chats c ON c.id = m.chat_id "
            "WHERE messages_fts MATCH ? ORDER BY messages_fts.rowid DESC LIMIT ?",
            (MATCH_START, MATCH_END, query, limit),
        ):
            hits.append(SearchHit(chat_id, title, message_id, Role(role), snippet, created))
    except sqlite3.OperationalError as exc:
        raise StorageError(f"search failed: {exc}") from exc
    return hits[:limit]
