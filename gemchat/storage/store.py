"""ChatStore: chats and messages in SQL (beside database.py, which opens the file, and search.py).

The storage package holds all of gemchat's SQL.

One SQLite file in WAL mode. Every method is a short transaction, called from
the one database thread (`StoreWorker`) while the app runs, or directly by the
command-line tools. Failures that are the machine's (disk full, read-only
directory, damaged file) come out as `StorageError`; anything else is a bug.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from gemchat.core.image_models import ImageOptions
from gemchat.core.messages import (
    Attachment,
    Chat,
    Message,
    Role,
    SearchHit,
    Status,
    utc_now,
)
from gemchat.storage.database import Transaction, connect, move_aside
from gemchat.storage.errors import CorruptDatabase, StorageError
from gemchat.storage.folders import FolderStore
from gemchat.storage.search import search

log = logging.getLogger(__name__)

_CHAT_COLUMNS = (
    "id, title, created_at, updated_at, model, system_instruction, google_search, code_execution, url_context, "
    "thinking_level, image_options, pinned, folder_id"
)
TOOLS = ("google_search", "code_execution", "url_context")  # a chat's tool toggles: their columns, and Chat's fields
_MESSAGE_COLUMNS = (
    "id, chat_id, role, text, status, created_at, error, parent_id, finish_reason, usage, first_token_ms, duration_ms"
    ", grounding, thoughts, gemini_parts, answered_by"
)


def _clean(text: str) -> str:
    """Text SQLite can store as UTF-8: lone surrogates (Qt's clipboard can hand them over) become U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _chat(row: Sequence[Any]) -> Chat:
    return Chat(id=row[0], title=row[1], created_at=row[2], updated_at=row[3], model=row[4],
                system_instruction=row[5], google_search=bool(row[6]), code_execution=bool(row[7]),
                url_context=bool(row[8]), thinking_level=row[9] or "",
                image_options=ImageOptions.from_json(_json_object(row[10])), pinned=bool(row[11]), folder_id=row[12])


def _json_value(text: str | None) -> Any:
    """A JSON column's value; anything unreadable counts as absent (None) rather than failing the chat."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _json_object(text: str | None) -> dict[str, Any] | None:
    value = _json_value(text)
    return value if isinstance(value, dict) else None


def _json_text(value: dict[str, Any] | list[dict[str, Any]] | None) -> str | None:
    return json.dumps(value, ensure_ascii=False) if value else None


def _json_parts(text: str | None) -> list[dict[str, Any]] | None:
    """A `gemini_parts` column: a list of objects, or None (not kept, or unreadable: the text is sent instead)."""
    value = _json_value(text)
    return value if isinstance(value, list) and all(isinstance(p, dict) for p in value) else None


def _message(row: Sequence[Any]) -> Message:
    return Message(id=row[0], chat_id=row[1], role=Role(row[2]), text=row[3], status=Status(row[4]),
                   created_at=row[5], error=row[6], parent_id=row[7], finish_reason=row[8],
                   usage=_json_object(row[9]), first_token_ms=row[10], duration_ms=row[11],
                   grounding=_json_object(row[12]), thoughts=row[13] or "", gemini_parts=_json_parts(row[14]),
                   answered_by=row[15])


def _insert_attachments(conn: sqlite3.Connection, message_id: int, attachments: Sequence[Attachment],
                        first: int = 0) -> None:
    """A message's files, in order, numbered from `first`."""
    conn.executemany(
        "INSERT INTO message_attachments (message_id, position, sha256, name, mime_type, size) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(message_id, first + n, a.sha256, _clean(a.name), a.mime_type, a.size) for n, a in enumerate(attachments)],
    )


def _leaf(conn: sqlite3.Connection, chat_id: int) -> int | None:
    row = conn.execute(
        "SELECT coalesce(current_leaf_id, (SELECT max(id) FROM messages WHERE chat_id = chats.id)) "
        "FROM chats WHERE id = ?", (chat_id,)).fetchone()
    return row[0] if row else None


def _fold_parts(conn: sqlite3.Connection, message_id: int) -> None:
    parts = [p for (p,) in conn.execute(
        "SELECT text FROM message_parts WHERE message_id = ? ORDER BY seq", (message_id,))]
    if parts:
        conn.execute("UPDATE messages SET text = text || ? WHERE id = ?", ("".join(parts), message_id))
        conn.execute("DELETE FROM message_parts WHERE message_id = ?", (message_id,))


def _keep_parts(conn: sqlite3.Connection, message_id: int, gemini_parts: list[dict[str, Any]] | None,
                answered_by: str | None, continued: bool) -> None:
    """An ended answer's parts as Gemini sent them (see `ChatStore.finish_message`)."""
    if continued:
        before = conn.execute("SELECT gemini_parts, answered_by FROM messages WHERE id = ?", (message_id,)).fetchone()
        earlier = _json_parts(before[0]) if before is not None else None
        same_model = before is not None and before[1] == answered_by
        gemini_parts = earlier + gemini_parts if earlier and gemini_parts and same_model else None
    conn.execute("UPDATE messages SET gemini_parts = ?, answered_by = ? WHERE id = ?",
                 (_json_text(gemini_parts), answered_by if gemini_parts else None, message_id))


class ChatStore:
    """Chats and messages in SQLite.

    Attributes:
        path: the database file (None for an in-memory store).
        backup: the copy made before a schema upgrade at open, if one was made.
        moved_aside: where a damaged database was moved at open, if it was.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path | None) -> None:
        self._conn = conn
        self.path = path
        self.backup: Path | None = None
        self.moved_aside: Path | None = None
        self.folders = FolderStore(conn, self._write, _clean)

    # -- opening -----------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | None, recover_corrupt: bool = False) -> ChatStore:
        """Opens (creating or upgrading) the database at `path`; None opens one in memory.

        With `recover_corrupt`, a damaged file is renamed aside with a timestamp
        (never deleted) and a fresh database is started; `moved_aside` says where.
        """
        moved_aside = None
        try:
            conn, backup = connect(path, check=recover_corrupt)
        except CorruptDatabase:
            if not recover_corrupt or path is None:
                raise
            moved_aside = move_aside(path)
            conn, backup = connect(path)
            log.error("damaged database moved to %s", moved_aside)
        store = cls(conn, path)
        store.backup, store.moved_aside = backup, moved_aside
        return store

    def close(self) -> None:
        try:
            self._conn.close()
        except sqlite3.Error as exc:
            log.warning("closing the database failed: %s", exc)

    # -- transactions --------------------------------------------------------------

    def _write(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            raise StorageError(str(exc)) from exc

    def transaction(self) -> Transaction:
        """All or nothing: `with store.transaction() as conn: ...`."""
        return Transaction(self._conn)

    # -- chats ---------------------------------------------------------------------

    def create_chat(self, model: str, title: str = "", system_instruction: str | None = None,
                    created_at: str | None = None, google_search: bool = False, code_execution: bool = False,
                    url_context: bool = False) -> Chat:
        now = created_at or utc_now()
        cursor = self._write(
            "INSERT INTO chats (title, created_at, updated_at, model, system_instruction, google_search, "
            "code_execution, url_context) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (_clean(title), now, now, _clean(model), _clean(system_instruction) if system_instruction else None,
             int(google_search), int(code_execution), int(url_context)),
        )
        return Chat(cursor.lastrowid or 0, _clean(title), now, now, _clean(model),
                    _clean(system_instruction) if system_instruction else None, google_search, code_execution,
                    url_context)

    def get_chat(self, chat_id: int) -> Chat | None:
        row = self._conn.execute(f"SELECT {_CHAT_COLUMNS} FROM chats WHERE id = ?", (chat_id,)).fetchone()
        return _chat(row) if row else None

    def list_chats(self) -> list[Chat]:
        """Every chat, newest activity first."""
        rows = self._conn.execute(f"SELECT {_CHAT_COLUMNS} FROM chats ORDER BY updated_at DESC, id DESC")
        return [_chat(row) for row in rows]

    def chat_ids(self) -> list[int]:
        """Every chat's id, oldest first."""
        return [row[0] for row in self._conn.execute("SELECT id FROM chats ORDER BY created_at, id")]

    def last_chat_id(self) -> int | None:
        row = self._conn.execute("SELECT id FROM chats ORDER BY updated_at DESC, id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def set_title(self, chat_id: int, title: str) -> None:
        self._write("UPDATE chats SET title = ? WHERE id = ?", (_clean(title), chat_id))

    def set_google_search(self, chat_id: int, on: bool) -> None:
        """The chat's Google Search toggle: its answers are grounded with search while it is on."""
        self.set_tool(chat_id, "google_search", on)

    def set_pinned(self, chat_id: int, pinned: bool) -> None:
        """Pins a chat (listed first, under Pinned) or unpins it."""
        self._write("UPDATE chats SET pinned = ? WHERE id = ?", (int(pinned), chat_id))

    def set_tool(self, chat_id: int, tool: str, on: bool) -> None:
        """One of the chat's tool toggles (`TOOLS`): Gemini may use that tool in its answers while it is on."""
        if tool not in TOOLS:
            raise ValueError(f"no tool {tool!r}")
        self._write(f"UPDATE chats SET {tool} = ? WHERE id = ?", (int(on), chat_id))

    def set_chat_options(self, chat_id: int, model: str, system_instruction: str | None,
                         thinking_level: str | None = None, image_options: ImageOptions | None = None) -> None:
        """The chat's model, system instruction and (unless None) thinking level and image options."""
        self._write("UPDATE chats SET model = ?, system_instruction = ?, thinking_level = coalesce(?, thinking_level) "
                    "WHERE id = ?",
                    (_clean(model), _clean(system_instruction) if system_instruction else None, thinking_level, chat_id))
        if image_options is not None:
            self._write("UPDATE chats SET image_options = ? WHERE id = ?",
                        (_json_text(image_options.to_json()), chat_id))

    def delete_chat(self, chat_id: int) -> None:
        with self.transaction() as conn:
            conn.execute(
                "DELETE FROM message_parts WHERE message_id IN (SELECT id FROM messages WHERE chat_id = ?)",
                (chat_id,),
            )
            conn.execute(
                "DELETE FROM message_attachments WHERE message_id IN (SELECT id FROM messages WHERE chat_id = ?)",
                (chat_id,),
            )
            conn.execute("DELETE FROM messages WHERE chat_id = ?", (chat_id,))
            conn.execute("DELETE FROM chats WHERE id = ?", (chat_id,))

    # -- messages ------------------------------------------------------------------------

    def add_message(self, chat_id: int, role: Role, text: str, status: Status = Status.COMPLETE,
                    error: str | None = None, created_at: str | None = None,
                    parent_id: int | object | None = ..., attachments: Sequence[Attachment] = ()) -> Message:
        """Saves a message after the shown branch's last one (or after `parent_id`) and shows it.

        Committed when this returns, with its attachments (whose files must
        already be in the attachment folder); the chat is marked active.
        """
        now = created_at or utc_now()
        text = _clean(text)
        error = _clean(error) if error is not None else None
        with self.transaction() as conn:
            if parent_id is ...:
                parent_id = _leaf(conn, chat_id)
            cursor = conn.execute(
                "INSERT INTO messages (chat_id, role, text, status, error, created_at, parent_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (chat_id, role.value, text, status.value, error, now, parent_id),
            )
            _insert_attachments(conn, cursor.lastrowid or 0, attachments)
            conn.execute("UPDATE chats SET updated_at = max(updated_at, ?), current_leaf_id = ? WHERE id = ?",
                         (now, cursor.lastrowid, chat_id))
        return Message(cursor.lastrowid or 0, chat_id, role, text, status, now, error,
                       parent_id=parent_id, attachments=list(attachments))  # type: ignore[arg-type]

    def _load_attachments(self, messages: Sequence[Message]) -> None:
        """Fills in each message's attachments, with what is known of their Files API copies."""
        by_id = {m.id: m for m in messages}
        if not by_id:
            return
        marks = ",".join("?" * len(by_id))
        for message_id, sha, name, mime, size, file_name, uri, expires in self._conn.execute(
                "SELECT a.message_id, a.sha256, a.name, a.mime_type, a.size, u.file_name, u.file_uri, u.expires_at "
                f"FROM message_attachments a LEFT JOIN uploads u ON u.sha256 = a.sha256 "
                f"WHERE a.message_id IN ({marks}) ORDER BY a.message_id, a.position", list(by_id)):
            by_id[message_id].attachments.append(Attachment(sha, name, mime, size, file_name, uri, expires))

    def remember_upload(self, attachment: Attachment) -> None:
        """Keeps where the Files API holds a file's content, so later requests refer to it."""
        if attachment.file_name and attachment.file_uri and attachment.expires_at:
            self._write("INSERT OR REPLACE INTO uploads (sha256, file_name, file_uri, expires_at) VALUES (?, ?, ?, ?)",
                        (attachment.sha256, attachment.file_name, attachment.file_uri, attachment.expires_at))

    def attachment_hashes(self) -> set[str]:
        """The SHA-256 of every file some message refers to (what the attachment folder must keep)."""
        return {sha for (sha,) in self._conn.execute("SELECT DISTINCT sha256 FROM message_attachments")}

    def set_leaf(self, chat_id: int, message_id: int | None) -> None:
        """Shows the branch that ends at `message_id` (None: the chat shows nothing yet)."""
        self._write("UPDATE chats SET current_leaf_id = ? WHERE id = ?", (message_id, chat_id))

    def switch_version(self, message_id: int, step: int) -> int | None:
        """Shows the version `step` places from `message_id` among its siblings, with its latest branch.

        Returns the message now shown in that place, or None when there is no such version.
        """
        with self.transaction() as conn:
            row = conn.execute("SELECT chat_id, parent_id, role FROM messages WHERE id = ?",
                               (message_id,)).fetchone()
            if row is None:
                return None
            chat_id, parent_id, role = row
            siblings = [i for (i,) in conn.execute(
                "SELECT id FROM messages WHERE chat_id = ? AND parent_id IS ? AND role = ? ORDER BY id",
                (chat_id, parent_id, role))]
            index = siblings.index(message_id) + step
            if not 0 <= index < len(siblings):
                return None
            target = leaf = siblings[index]
            while (child := conn.execute("SELECT max(id) FROM messages WHERE parent_id = ?",
                                         (leaf,)).fetchone()[0]) is not None:
                leaf = child
            conn.execute("UPDATE chats SET current_leaf_id = ? WHERE id = ?", (leaf, chat_id))
        return target

    def append_to_message(self, message_id: int, text: str) -> None:
        """Saves more of a streaming answer: one small row, whatever the answer's length."""
        if text:
            self._write("INSERT INTO message_parts (message_id, text) VALUES (?, ?)", (message_id, _clean(text)))

    def finish_message(self, message_id: int, status: Status, error: str | None = None,
                       finish_reason: str | None = None, usage: dict[str, Any] | None = None,
                       first_token_ms: int | None = None, duration_ms: int | None = None,
                       text: str | None = None, grounding: dict[str, Any] | None = None,
                       thoughts: str = "", gemini_parts: list[dict[str, Any]] | None = None,
                       answered_by: str | None = None, continued: bool = False,
                       attachments: Sequence[Attachment] = ()) -> Message:
        """Ends a streaming answer: its parts become its text; its status and facts are set.

        `text`, when given, is the whole answer and replaces what was saved: used
        when saving its parts failed part-way, so no gap is ever stored.
        `gemini_parts` are what Gemini sent of it (None: nothing whole); for a
        `continued` answer they are added to those kept, and the answer is kept
        as text only when either half is missing or another model wrote the first.
        `attachments` are pictures in the answer (their files already in the
        attachment store), added after any it has.
        """
        with self.transaction() as conn:
            if text is None:
                _fold_parts(conn, message_id)
            else:
                conn.execute("DELETE FROM message_parts WHERE message_id = ?", (message_id,))
                conn.execute("UPDATE messages SET text = ? WHERE id = ?", (_clean(text), message_id))
            conn.execute(
                "UPDATE messages SET status = ?, error = ?, finish_reason = ?, usage = ?, "
                "first_token_ms = coalesce(?, first_token_ms), duration_ms = ?, "
                "grounding = coalesce(?, grounding), thoughts = coalesce(thoughts, '') || ? WHERE id = ?",
                (status.value, _clean(error) if status is Status.ERROR and error is not None else None, finish_reason,
                 json.dumps(usage) if usage else None, first_token_ms, duration_ms, _json_text(grounding),
                 _clean(thoughts), message_id),
            )
            _keep_parts(conn, message_id, gemini_parts, answered_by, continued)
            if attachments:  # after any it has
                first = conn.execute("SELECT count(*) FROM message_attachments WHERE message_id = ?",
                                     (message_id,)).fetchone()[0]
                _insert_attachments(conn, message_id, attachments, first)
            row = conn.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise LookupError(f"no message {message_id}")
            message = _message(row)
            siblings = [i for (i,) in conn.execute(
                "SELECT id FROM messages WHERE chat_id = ? AND parent_id IS ? AND role = ? ORDER BY id",
                (message.chat_id, message.parent_id, message.role.value))]
            message.version, message.versions = siblings.index(message.id) + 1, len(siblings)
        self._load_attachments([message])
        return message

    def messages(self, chat_id: int) -> list[Message]:
        """The shown branch of a chat, in order, each with its place among its versions.

        A streaming answer includes the parts saved so far.
        """
        leaf = _leaf(self._conn, chat_id)
        rows = self._conn.execute(
            f"""WITH RECURSIVE path(id) AS (
                    SELECT ? UNION ALL
                    SELECT m.parent_id FROM messages m JOIN path ON m.id = path.id WHERE m.parent_id IS NOT NULL
                )
                SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id IN (SELECT id FROM path) ORDER BY id""",
            (leaf,),
        ).fetchall()
        result = [_message(row) for row in rows]
        siblings: dict[tuple[int | None, str], list[int]] = {}
        for parent, role, mid in self._conn.execute(
                "SELECT parent_id, role, id FROM messages WHERE chat_id = ? ORDER BY id", (chat_id,)):
            siblings.setdefault((parent, role), []).append(mid)
        for message in result:
            group = siblings.get((message.parent_id, message.role.value), [message.id])
            message.version, message.versions = group.index(message.id) + 1, len(group)
        for message in result:
            if message.status is Status.STREAMING:
                message.text += "".join(p for (p,) in self._conn.execute(
                    "SELECT text FROM message_parts WHERE message_id = ? ORDER BY seq", (message.id,)))
        self._load_attachments(result)
        return result

    def get_message(self, message_id: int) -> Message | None:
        row = self._conn.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            return None
        message = _message(row)
        self._load_attachments([message])
        return message

    def reveal(self, message_id: int) -> int | None:
        """Makes a message part of its chat's shown branch (a search hit in another version).

        Keeps the branch when the message is already on it; returns the chat's id.
        """
        with self.transaction() as conn:
            row = conn.execute("SELECT chat_id FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                return None
            chat_id = row[0]
            leaf = _leaf(conn, chat_id)
            on_branch = conn.execute(
                """WITH RECURSIVE path(id) AS (
                       SELECT ? UNION ALL
                       SELECT m.parent_id FROM messages m JOIN path ON m.id = path.id WHERE m.parent_id IS NOT NULL
                   ) SELECT 1 FROM path WHERE id = ?""", (leaf, message_id)).fetchone()
            if on_branch is None:
                leaf = message_id
                while (child := conn.execute("SELECT max(id) FROM messages WHERE parent_id = ?",
                                             (leaf,)).fetchone()[0]) is not None:
                    leaf = child
                conn.execute("UPDATE chats SET current_leaf_id = ? WHERE id = ?", (leaf, chat_id))
        return chat_id

    def reopen_message(self, message_id: int) -> Message:
        """An answer the user asked to continue: streaming again, its text kept."""
        with self.transaction() as conn:
            conn.execute("UPDATE messages SET status = 'streaming', error = NULL, finish_reason = NULL "
                         "WHERE id = ?", (message_id,))
            row = conn.execute(f"SELECT {_MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)).fetchone()
        if row is None:
            raise LookupError(f"no message {message_id}")
        return _message(row)

    def delete_message(self, message_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM message_parts WHERE message_id = ?", (message_id,))
            conn.execute("DELETE FROM messages WHERE id = ?", (message_id,))

    def recover_streaming(self) -> int:
        """At start-up: answers left streaming by a crash keep what was saved and become interrupted."""
        with self.transaction() as conn:
            ids = [i for (i,) in conn.execute("SELECT id FROM messages WHERE status = 'streaming'")]
            for message_id in ids:
                _fold_parts(conn, message_id)
            # A continued answer's kept parts now cover less than its text: it goes back as text.
            conn.execute("UPDATE messages SET status = 'interrupted', gemini_parts = NULL, answered_by = NULL "
                         "WHERE status = 'streaming'")
        return len(ids)

    # -- search ---------------------------------------------------------------------------

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Chats and messages containing every word typed; see `gemchat.storage.search`."""
        return search(self._conn, text, limit)

    # -- bulk ---------------------------------------------------------------------------

    def import_chats(self, chats: Iterable[tuple[Chat, list[Message]]],
                     folders: Sequence[str | None] | None = None) -> list[int]:
        """Adds whole chats in one transaction: all of them or, on any failure, none.

        `folders`, beside `chats`: the name of the folder each goes into (`FolderStore.find_or_make`).
        """
        ids: list[int] = []
        with self.transaction() as conn:
            folder_of = self.folders.find_or_make(conn)
            for n, (chat, messages) in enumerate(chats):
                cursor = conn.execute(
                    "INSERT INTO chats (title, created_at, updated_at, model, system_instruction, google_search, "
                    "code_execution, url_context, thinking_level, image_options, pinned, folder_id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (_clean(chat.title), chat.created_at, chat.updated_at, _clean(chat.model),
                     _clean(chat.system_instruction) if chat.system_instruction else None, int(chat.google_search),
                     int(chat.code_execution), int(chat.url_context), chat.thinking_level,
                     _json_text(chat.image_options.to_json()), int(chat.pinned),
                     folder_of(folders[n] if folders else None)),
                )
                chat_id = cursor.lastrowid
                parent = None
                for m in messages:
                    parent = conn.execute(
                        "INSERT INTO messages (chat_id, role, text, status, error, created_at, parent_id, "
                        "finish_reason, usage, first_token_ms, duration_ms, grounding, thoughts, gemini_parts, "
                        "answered_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (chat_id, m.role.value, _clean(m.text), m.status.value, _clean(m.error) if m.error is not None else None,
                         m.created_at, parent,
                         m.finish_reason, json.dumps(m.usage) if m.usage else None, m.first_token_ms,
                         m.duration_ms, _json_text(m.grounding), _clean(m.thoughts) or None,
                         _json_text(m.gemini_parts), m.answered_by if m.gemini_parts else None),
                    ).lastrowid
                    _insert_attachments(conn, parent or 0, m.attachments)
                conn.execute("UPDATE chats SET current_leaf_id = ? WHERE id = ?", (parent, chat_id))
                ids.append(chat_id or 0)
        return ids

    def iter_chats(self, chat_id: int | None = None) -> Iterator[tuple[Chat, list[Message]]]:
        """Chats with their messages, oldest first (or only `chat_id`); for export."""
        ids = self.chat_ids() if chat_id is None else [chat_id]
        for cid in ids:
            chat = self.get_chat(cid)
            if chat is None:
                raise LookupError(f"no chat {cid}")
            yield chat, self.messages(cid)
