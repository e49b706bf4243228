"""Files taken into a message: copied into the attachment folder off the UI thread.

A file refused (too big, of a kind Gemini does not read, unreadable) comes
back as a sentence for the user, never as an exception.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from gemchat.core.messages import Attachment
from gemchat.storage.attachment_files import AttachmentFiles, AttachmentRefused

NOT_AVAILABLE = "Attachments are not available in this window."


async def add_files(files: AttachmentFiles | None, paths: list[Path],
                    already: int) -> tuple[list[Attachment], list[str]]:
    """Copies files in; returns them and why others were not.

    `already` is how many files the message has, for the per-message limit.
    """
    if files is None:
        return [], [NOT_AVAILABLE]

    def add_all() -> tuple[list[Attachment], list[str]]:
        added: list[Attachment] = []
        refused: list[str] = []
        for path in paths:
            try:
                added.append(files.add_file(path, already + len(added)))
            except AttachmentRefused as exc:
                refused.append(str(exc))
            except OSError as exc:
                refused.append(f"{path.name} was not attached: {exc.strerror or exc}.")
        return added, refused

    return await asyncio.get_running_loop().run_in_executor(None, add_all)


async def add_bytes(files: AttachmentFiles | None, data: bytes, name: str,
                    already: int) -> tuple[list[Attachment], list[str]]:
    """Keeps pasted bytes (an image from the clipboard) as an attachment; like `add_files`."""
    if files is None:
        return [], [NOT_AVAILABLE]

    def add() -> tuple[list[Attachment], list[str]]:
        try:
            return [files.add_bytes(data, name, already)], []
        except AttachmentRefused as exc:
            return [], [str(exc)]
        except OSError as exc:
            return [], [f"{name} was not attached: {exc.strerror or exc}."]

    return await asyncio.get_running_loop().run_in_executor(None, add)
