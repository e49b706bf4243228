"""The data directory as a whole: held by one gemchat at a time, and explained when it cannot be used."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

from gemchat.paths import database_path


def lock_data_dir(directory: Path) -> IO[str] | None:
    """Holds an OS lock on `DIR/gemchat.lock` while the window runs; None when another process holds it.

    Two windows on one database would each show a stale copy of the chats and
    mark the other's streaming answer as cut off at start-up. The OS releases
    the lock when the process ends, however it ends (kill -9 too), so it never
    goes stale. Raises OSError when the directory cannot be written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    file = open(directory / "gemchat.lock", "a+", encoding="utf-8")  # noqa: SIM115 (held until exit)
    try:
        if sys.platform == "win32":
            import msvcrt

            file.seek(0)
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        file.close()
        return None
    return file


def not_responding(directory: Path, within: float) -> str:
    """What to tell a user whose launch the gemchat already running on that data directory did not answer."""
    return (f"gemchat is running with the data directory {directory} but is not responding: it did not "
            f"answer within {within:g} seconds. Wait a moment and try again; if it stays stuck, end that gemchat "
            "(what it has received is saved). To keep a separate set of chats, start this one with --data-dir DIR.")


def unreachable(directory: Path, socket: str, within: float) -> str:
    """What to tell a user whose launch found no socket of the gemchat running on that data directory.

    The socket is in the runtime directory: a gemchat started in another login
    session, or with another XDG_RUNTIME_DIR, listens where this launch does not look.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR") or "not set"
    return (f"gemchat is running with the data directory {directory}, but in {within:g} seconds it did not open "
            f"the socket this launch looks for ({socket}). If it is still starting, try again in a moment. If it "
            f"was started in another login session or with another XDG_RUNTIME_DIR (this launch's: {runtime}), "
            "switch to its window instead. To keep a separate set of chats, start this one with --data-dir DIR.")


def cannot_hand_over(directory: Path, reason: Exception) -> str:
    """What to tell a user whose launch could not give its request to the gemchat running on that data directory."""
    return (f"gemchat is running with the data directory {directory}, but this launch could not hand it "
            f"its request: {reason}")


def storage_problem(directory: Path, exc: Exception) -> str:
    """What to tell a user whose database cannot be opened, with what they can do about it."""
    from gemchat.storage.errors import NewerDatabase

    if isinstance(exc, NewerDatabase):
        return str(exc)
    database = database_path(directory)
    if not os.access(directory, os.W_OK) or (database.exists() and not os.access(database, os.W_OK)):
        return (f"gemchat cannot write to its data directory {directory}: it is read-only or belongs to "
                f"another user. Make it writable, or start gemchat with --data-dir DIR. ({exc})")
    return f"gemchat cannot open its database {database}: {exc}"
