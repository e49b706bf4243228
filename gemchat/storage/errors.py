"""Storage failures, split into what is not gemchat's fault and what is.

A full disk, a read-only directory or a damaged file is the user's machine
talking: the app says so and keeps running. Anything else is a bug and is
raised as such.
"""

from __future__ import annotations

from pathlib import Path


class StorageError(Exception):
    """The database cannot be opened or written, for a reason outside gemchat."""


class CorruptDatabase(StorageError):
    """The file is not a readable gemchat database.

    Attributes:
        path: the damaged file.
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path} is damaged or not a gemchat database ({reason})")
        self.path = path


class NewerDatabase(StorageError):
    """The database was written by a newer gemchat; opening it could lose what that one stored."""


class ImportFormatError(ValueError):
    """An import file is not what `gemchat export` writes; the message names the faulty entry."""
