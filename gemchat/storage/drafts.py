"""Unsent drafts, one per chat, so text typed but not sent survives a chat switch, a quit or a crash.

A small JSON file beside the database rather than a table: drafts change on
every pause in typing, belong to no chat history, export or search, and a lost
or unreadable file costs only drafts. Written whole to a temporary file and
renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from gemchat.files import write_atomically

log = logging.getLogger(__name__)

NEW_CHAT = "new"  # the key of the draft typed before a chat exists


def draft_key(chat_id: int | None) -> str:
    return NEW_CHAT if chat_id is None else str(chat_id)


class DraftStore:
    """Attributes:
        path: the JSON file ({chat id or "new": text}).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._drafts: dict[str, str] = {}
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(raw, dict):
                self._drafts = {str(k): v for k, v in raw.items() if isinstance(v, str) and v}
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            log.warning("drafts file unreadable (%s); starting without drafts", exc)

    def get(self, chat_id: int | None) -> str:
        return self._drafts.get(draft_key(chat_id), "")

    def put(self, chat_id: int | None, text: str) -> None:
        """Remembers (or, for blank text, forgets) a draft and writes the file."""
        key = draft_key(chat_id)
        if text.strip():
            if self._drafts.get(key) == text:
                return
            self._drafts[key] = text
        elif self._drafts.pop(key, None) is None:
            return
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, json.dumps(self._drafts, ensure_ascii=False))
