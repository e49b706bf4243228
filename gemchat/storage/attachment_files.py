"""The files sent with questions, kept in the data directory so a chat stays whole.

Each file is copied once into `<data dir>/attachments/<sha256>`, named by the
SHA-256 of its bytes: the same picture sent in ten chats is stored once, the
name cannot clash or carry a path, and import and export can check that a file
is the one a message refers to. Copies are written to a temporary name and
renamed, so a crash never leaves half a file under a hash.

Everything here blocks on the disk; the app calls it from an executor thread.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from gemchat.core.attachments import mime_type_for, refusal
from gemchat.core.messages import Attachment

_CHUNK = 1024 * 1024
_HEAD = 8192
_SHA256 = re.compile(r"[0-9a-f]{64}")


class AttachmentRefused(Exception):
    """A file that cannot be attached; the message says why, in words for the user."""


class AttachmentFiles:
    """The attachment folder.

    Attributes:
        root: `<data dir>/attachments`; made on the first write.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        """Where the copy of a file with that hash is (whether or not it exists)."""
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.root / sha256

    def has(self, sha256: str) -> bool:
        return _SHA256.fullmatch(sha256) is not None and self.path(sha256).is_file()

    def add_file(self, source: Path, already: int = 0) -> Attachment:
        """Copies a file the user attached; raises `AttachmentRefused` (or OSError when it cannot be read).

        `already` is how many files the message has, for the per-message limit.
        """
        name = source.name or "file"
        try:
            size = source.stat().st_size
            if not source.is_file():
                raise AttachmentRefused(f"{name} was not attached: it is not a file.")
            with open(source, "rb") as file:
                head = file.read(_HEAD)
                mime_type = mime_type_for(name, head)
                why = refusal(name, size, mime_type, already)
                if why is not None:
                    raise AttachmentRefused(why)
                file.seek(0)
                sha256, copied = self._store(file)
        except PermissionError as exc:
            raise AttachmentRefused(f"{name} was not attached: gemchat may not read it.") from exc
        except FileNotFoundError as exc:
            raise AttachmentRefused(f"{name} was not attached: it no longer exists.") from exc
        assert mime_type is not None
        return Attachment(sha256, name, mime_type, copied)

    def add_bytes(self, data: bytes, name: str, already: int = 0) -> Attachment:
        """Keeps bytes that were pasted (an image from the clipboard) as an attachment."""
        mime_type = mime_type_for(name, data[:_HEAD])
        why = refusal(name, len(data), mime_type, already)
        if why is not None:
            raise AttachmentRefused(why)
        sha256, size = self._store(io.BytesIO(data))
        assert mime_type is not None
        return Attachment(sha256, name, mime_type, size)

    def add_verified(self, source: Path, sha256: str) -> None:
        """Copies a file that must have the given hash (an import's); raises ValueError when it does not."""
        if self.has(sha256):
            return
        with open(source, "rb") as file:
            found, _size = self._store(file, expected=sha256)
        if found != sha256:
            raise ValueError(f"{source} is not the attached file (its SHA-256 is {found})")

    def _store(self, file: BinaryIO, expected: str | None = None) -> tuple[str, int]:
        """Copies `file` in under its hash, hashing while copying; returns (sha256, size)."""
        import hashlib  # here, not at import: OpenSSL's hashes are 0.6 MB at rest, and only an attachment needs them

        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        handle, temporary = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                while chunk := file.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
            sha256 = digest.hexdigest()
            if expected is not None and sha256 != expected:
                return sha256, size
            target = self.root / sha256
            if target.is_file() and target.stat().st_size == size:
                return sha256, size  # the same content is already kept
            os.replace(temporary, target)
            temporary = ""
            return sha256, size
        finally:
            if temporary:
                Path(temporary).unlink(missing_ok=True)

    def prune(self, keep: Iterable[str]) -> int:
        """Deletes copies no message refers to any more (their chats were deleted); returns how many."""
        wanted = set(keep)
        removed = 0
        if not self.root.is_dir():
            return 0
        for entry in self.root.iterdir():
            stale_temp = entry.name.startswith(".incoming-")
            if (stale_temp or (_SHA256.fullmatch(entry.name) and entry.name not in wanted)) and entry.is_file():
                entry.unlink(missing_ok=True)
                removed += 1
        return removed
