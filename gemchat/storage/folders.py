"""The user's folders for chats (schema version 10): a chat is in one folder or in none."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from gemchat.core.messages import Folder
from gemchat.storage.database import Transaction


class FolderStore:
    """`ChatStore.folders`: the folders, on the store's connection and through its way of writing."""

    def __init__(self, conn: sqlite3.Connection, write: Callable[[str, Sequence[Any]], sqlite3.Cursor],
                 clean: Callable[[str], str]) -> None:
        self._conn = conn
        self._write = write
        self._clean = clean

    def list(self) -> list[Folder]:
        """Every folder, by name (as people scan a list of names), then by age."""
        rows = self._conn.execute("SELECT id, name, collapsed FROM folders ORDER BY name COLLATE NOCASE, id")
        return [Folder(row[0], row[1], bool(row[2])) for row in rows]

    def create(self, name: str) -> Folder:
        cursor = self._write("INSERT INTO folders (name) VALUES (?)", (self._clean(name),))
        return Folder(cursor.lastrowid or 0, self._clean(name))

    def rename(self, folder_id: int, name: str) -> None:
        self._write("UPDATE folders SET name = ? WHERE id = ?", (self._clean(name), folder_id))

    def set_collapsed(self, folder_id: int, collapsed: bool) -> None:
        self._write("UPDATE folders SET collapsed = ? WHERE id = ?", (int(collapsed), folder_id))

    def delete(self, folder_id: int) -> None:
        """Deletes the folder only: its chats stay, out of any folder."""
        with Transaction(self._conn) as conn:
            conn.execute("UPDATE chats SET folder_id = NULL WHERE folder_id = ?", (folder_id,))
            conn.execute("DELETE FROM folders WHERE id = ?", (folder_id,))

    def find_or_make(self, conn: sqlite3.Connection) -> Callable[[str | None], int | None]:
        """For an import, on `conn` inside its transaction: a folder's id by name (None for None), the
        folder of that name in any capitals if there is one, else one made with it."""
        known = {name.casefold(): folder_id for folder_id, name in conn.execute("SELECT id, name FROM folders")}

        def folder_of(wanted: str | None) -> int | None:
            name = self._clean(wanted).strip() if wanted else ""
            if not name:
                return None
            if name.casefold() not in known:
                known[name.casefold()] = conn.execute("INSERT INTO folders (name) VALUES (?)", (name,)).lastrowid
            return known[name.casefold()]

        return folder_of

    def move_chat(self, chat_id: int, folder_id: int | None) -> None:
        """Puts the chat in that folder, or in none for None."""
        self._write("UPDATE chats SET folder_id = ? WHERE id = ?", (folder_id, chat_id))
