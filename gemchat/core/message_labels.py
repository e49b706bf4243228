"""Role and Status, the two labels every message carries, apart from the messages themselves.

The window's widgets compare messages' labels, so they import these before the
first paint; the data model's dataclasses (`gemchat.core.messages`) cost 10-15 ms
to create and are first needed when the chats load, on the start-up thread. The
widgets name those dataclasses in annotations only. `gemchat.core.messages`
imports both labels, so `from gemchat.core.messages import Role` still works.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Who wrote a message; the values are the Gemini API's own role names."""

    USER = "user"
    MODEL = "model"


class Status(StrEnum):
    """Where a message is in its life.

    `STREAMING` is only ever seen while an answer arrives; a message still
    `STREAMING` at start-up was cut off by a crash and becomes `INTERRUPTED`.
    """

    COMPLETE = "complete"
    STREAMING = "streaming"
    INTERRUPTED = "interrupted"
    ERROR = "error"
