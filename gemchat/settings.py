"""The user's preferences, in one place.

A small JSON file in the data directory rather than QSettings, so the command
line, tests and a portable install see the same values with no Qt involved.
Unknown or ill-typed values fall back to the defaults instead of failing start-up,
and the log names what was ignored.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from gemchat.files import write_atomically

# Not from gemchat.core.gemini: settings are read before the window shows, the backend after.
DEFAULT_MODEL = "gemini-3.6-flash"
log = logging.getLogger(__name__)


THINKING_LEVELS = ("", "minimal", "low", "medium", "high")
THEMES = ("system", "light", "dark")
TEXT_ZOOM_RANGE = (50, 300)
"""The text size of the conversation and the message box, in percent of the system's: smallest, largest."""


@dataclass(slots=True)
class Settings:
    """Attributes:
        model: model for new chats.
        typing_effect: pace the reveal of answers; off shows text as it arrives.
        full_width: the conversation fills the window instead of a centred column (View menu).
        typing_speed: characters per second of the typing effect when not behind.
        read_timeout: seconds without data before a stream is given up.
        system_instruction: default system instruction for new chats.
        thinking_level: "" leaves it to the model; else one of minimal/low/medium/high.
        temperature: None sends none (Gemini 3.6 deprecated the sampling parameters).
        theme: system, light or dark.
        debug_log: also log questions and answers (off: the log holds timings and errors only).
        show_thoughts: ask thinking models for a summary of their thoughts (`include_thoughts`),
            shown in a collapsed Thinking section above the answer.
        text_zoom: the text size of the conversation and the message box, in percent (Ctrl+= / Ctrl+-).
        notifications: a desktop notification when an answer ends where the user is not looking.
    """

    model: str = DEFAULT_MODEL
    typing_effect: bool = True
    full_width: bool = False
    typing_speed: float = 250.0
    read_timeout: float = 60.0
    system_instruction: str = ""
    thinking_level: str = ""
    temperature: float | None = None
    theme: str = "system"
    debug_log: bool = False
    show_thoughts: bool = True
    text_zoom: int = 100
    notifications: bool = True

    @classmethod
    def load(cls, path: Path) -> Settings:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("settings file %s unreadable (%s); using defaults", path, exc)
            return cls()
        settings = cls()
        if not isinstance(raw, dict):
            log.warning("settings file %s holds no settings (a JSON object is expected); using defaults", path)
            return settings
        invalid: list[str] = []
        for f in fields(cls):
            if f.name not in raw:
                continue
            if not _valid(f.name, raw[f.name]):
                invalid.append(f.name)
                continue
            value = raw[f.name]
            if isinstance(value, int) and not isinstance(value, bool) and "float" in str(f.type):
                value = float(value)  # 60 in the file is the 60.0 a float setting holds
            setattr(settings, f.name, value)
        # Names only, never values: a system instruction is the user's own text, kept out of the log.
        if invalid:
            log.warning("settings file %s: ignored the invalid value of %s; the default is used",
                        path, ", ".join(invalid))
        known = {f.name for f in fields(cls)}
        if unknown := [str(name)[:40] for name in raw if name not in known]:
            log.warning("settings file %s: ignored unknown setting%s %s", path, "s" if len(unknown) > 1 else "",
                        ", ".join(unknown[:10]))
        return settings

    def save(self, path: Path) -> None:
        """Written to a temporary file and renamed, so a crash never leaves half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, json.dumps(asdict(self), indent=2))


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_VALIDATORS = {
    "model": lambda v: isinstance(v, str) and bool(v.strip()),
    "typing_effect": lambda v: isinstance(v, bool),
    "full_width": lambda v: isinstance(v, bool),
    "typing_speed": lambda v: _number(v) and 5 <= v <= 100_000,
    "read_timeout": lambda v: _number(v) and 1 <= v <= 3600,
    "system_instruction": lambda v: isinstance(v, str),
    "thinking_level": lambda v: v in THINKING_LEVELS,
    "temperature": lambda v: v is None or (_number(v) and 0 <= v <= 2),
    "theme": lambda v: v in THEMES,
    "debug_log": lambda v: isinstance(v, bool),
    "show_thoughts": lambda v: isinstance(v, bool),
    "text_zoom": lambda v: isinstance(v, int) and not isinstance(v, bool) and TEXT_ZOOM_RANGE[0] <= v <= TEXT_ZOOM_RANGE[1],
    "notifications": lambda v: isinstance(v, bool),
}


def _valid(name: str, value: object) -> bool:
    """Hand-edited or old files may hold anything; a bad value keeps the default."""
    return bool(_VALIDATORS[name](value))
