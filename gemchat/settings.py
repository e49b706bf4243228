"""The user's preferences, in one place.

A small JSON file in the data directory rather than QSettings, so the command
line, tests and a portable install see the same values with no Qt involved.
Unknown or ill-typed values fall back to the defaults instead of failing start-up.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from gemchat.core.backend import DEFAULT_MODEL

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Settings:
    """Attributes:
        model: model for new chats.
        typing_effect: pace the reveal of answers; off shows text as it arrives.
        typing_speed: characters per second of the typing effect when not behind.
        read_timeout: seconds without data before a stream is given up.
        system_instruction: default system instruction for new chats.
    """

    model: str = DEFAULT_MODEL
    typing_effect: bool = True
    typing_speed: float = 250.0
    read_timeout: float = 60.0
    system_instruction: str = ""

    @classmethod
    def load(cls, path: Path) -> "Settings":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("settings file %s unreadable (%s); using defaults", path, exc)
            return cls()
        settings = cls()
        if isinstance(raw, dict):
            for f in fields(cls):
                value = raw.get(f.name)
                default = getattr(settings, f.name)
                if isinstance(default, bool):
                    ok = isinstance(value, bool)
                elif isinstance(default, float):
                    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
                else:
                    ok = isinstance(value, type(default))
                if ok:
                    setattr(settings, f.name, float(value) if isinstance(default, float) else value)
        return settings

    def save(self, path: Path) -> None:
        """Written to a temporary file and renamed, so a crash never leaves half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        os.replace(tmp, path)
