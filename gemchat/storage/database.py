"""Opening gemchat's SQLite file: connection settings, upgrades, damage, and transactions.

Kept apart from `ChatStore`, which holds the queries: how a file is opened
(WAL, busy timeout, the quick check, the migrations, moving a damaged file
aside) is one job, what is stored in it another.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from gemchat.storage import migrations
from gemchat.storage.errors import CorruptDatabase, NewerDatabase, StorageError

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# SQLite reports these for damaged files, whatever the operation.
_CORRUPT_CODES = ("SQLITE_CORRUPT", "SQLITE_NOTADB")


def is_corruption(exc: sqlite3.DatabaseError) -> bool:
    """Whether SQLite found the file damaged or not a database (extended codes such as
    SQLITE_CORRUPT_INDEX included); every error SQLite raises carries its code's name."""
    return str(getattr(exc, "sqlite_errorname", "")).startswith(_CORRUPT_CODES)


def connect(path: Path | None, check: bool = False) -> tuple[sqlite3.Connection, Path | None]:
    """The database at `path` (None: in memory), created or upgraded, and the copy made before
    an upgrade, if one was.

    `check` reads every page first (PRAGMA quick_check: about 0.1 s per 75 MB here).

    A file can open and list its chats with a valid first page and garbage
    further on; it would then fail in the middle of the session. The window
    checks at start-up, while the damage can still be moved aside.
    """
    target = ":memory:" if path is None else str(path)
    try:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False,
                               timeout=BUSY_TIMEOUT_MS / 1000)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot open {target}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        version = migrations.schema_version(conn)
        if version > migrations.LATEST:
            raise NewerDatabase(
                f"{target} was written by a newer gemchat (schema {version}, this one knows "
                f"{migrations.LATEST}); update gemchat to open it."
            )
        if check and version and path is not None:
            found = conn.execute("PRAGMA quick_check(1)").fetchall()
            if found != [("ok",)]:
                raise CorruptDatabase(path, str(found[0][0]) if found else "quick_check failed")
        if path is not None:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("journal mode is %s, not WAL", mode)
            # WAL + NORMAL survives an application crash (kill -9); only power loss may lose the last commits.
            conn.execute("PRAGMA synchronous = NORMAL")
        backup = migrations.migrate(conn, path)
        if version:
            # A damaged page shows up here rather than later in a write.
            conn.execute("SELECT count(*) FROM chats").fetchone()
        return conn, backup
    except StorageError:
        conn.close()
        raise
    except sqlite3.DatabaseError as exc:
        conn.close()
        if is_corruption(exc) and path is not None:
            raise CorruptDatabase(path, str(exc)) from exc
        raise StorageError(f"cannot open {target}: {exc}") from exc


def move_aside(path: Path) -> Path:
    """Renames a damaged database and its WAL files to `NAME.damaged-TIMESTAMP`."""
    aside = migrations.stamped_path(path, "damaged")
    try:
        os.replace(path, aside)
        for suffix in ("-wal", "-shm"):
            extra = path.with_name(path.name + suffix)
            if extra.exists():
                os.replace(extra, aside.with_name(aside.name + suffix))
    except OSError as exc:
        raise StorageError(f"{path} is damaged and could not be moved aside: {exc}") from exc
    return aside


class Transaction:
    """All or nothing: BEGIN IMMEDIATE, then COMMIT, or ROLLBACK on any error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StorageError(str(exc)) from exc
        return self._conn

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if kind is None:
            try:
                self._conn.execute("COMMIT")
                return
            except sqlite3.OperationalError as commit_error:
                self._rollback()
                raise StorageError(str(commit_error)) from commit_error
        self._rollback()
        if isinstance(exc, sqlite3.OperationalError):
            raise StorageError(str(exc)) from exc

    def _rollback(self) -> None:
        # SQLite rolls back by itself on some errors (SQLITE_FULL, IOERR); a second ROLLBACK would
        # raise and hide the error that matters.
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
