"""The chat data model shared by storage, the session and the widgets.

Plain dataclasses with no Qt, so storage, export and the backend can be used
from the command line and tested without a display. What a request asks of
Gemini and what its stream brings back sit beside the messages they are made
from and turn into.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemchat.core.image_models import ImageOptions
from gemchat.core.message_labels import Role, Status

if TYPE_CHECKING:  # for annotations only: making messages needs nothing of errors.py
    from gemchat.core.errors import GemchatError


def utc_now() -> str:
    """Timestamps are ISO 8601 in UTC with milliseconds, so they sort as text."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Chat:
    id: int
    title: str
    created_at: str
    updated_at: str
    model: str
    system_instruction: str | None = None
    google_search: bool = False  # answers are grounded with Google Search (the chat's toggle)
    code_execution: bool = False  # Gemini may write and run Python to answer (the chat's toggle)
    url_context: bool = False  # Gemini may read the web pages a message links to (the chat's toggle)
    thinking_level: str = ""  # "" as in Settings; "default" the model's own; else minimal/low/medium/high
    image_options: ImageOptions = field(default_factory=ImageOptions)  # what an image model is asked for
    pinned: bool = False  # listed first, under Pinned
    folder_id: int | None = None  # the folder it is in (`Folder`), if any


@dataclass(slots=True)
class Folder:
    """A folder the user made for chats, listed in the sidebar by name; `collapsed` hides its chats there."""

    id: int
    name: str
    collapsed: bool = False


@dataclass(slots=True)
class Attachment:
    """A file sent with a question: kept in the data directory under its SHA-256.

    Attributes:
        sha256: hex digest of the bytes; names the stored copy, so one file is kept once.
        name: the file's name as the user had it (shown on its chip, never a path).
        mime_type: what Gemini is told the bytes are.
        size: bytes.
        file_name, file_uri: the Files API copy (`files/abc123` and its URI), once uploaded.
        expires_at: when the Files API deletes that copy (ISO 8601 UTC); re-uploaded after.
    """

    sha256: str
    name: str
    mime_type: str
    size: int
    file_name: str | None = None
    file_uri: str | None = None
    expires_at: str | None = None


@dataclass(slots=True)
class Message:
    """One message of a chat.

    Attributes:
        parent_id: the message before it in its branch (None for a first question).
        finish_reason: why Gemini ended the answer (STOP, MAX_TOKENS, SAFETY, …), if it said.
        usage: Gemini's `usageMetadata` of the answer (token counts), if it sent one.
        first_token_ms, duration_ms: time to the first text and to the end of the answer.
        version, versions: this message is version `version` of `versions` (siblings).
        attachments: files sent with a question, in the order they were attached.
        grounding: Google Search grounding of an answer (the SDK's `GroundingMetadata`
            as JSON, snake_case), when the search tool was on and Gemini searched.
        thoughts: the thought summary of an answer, when thoughts were asked for.
        gemini_parts: an answer's `parts` as Gemini sent them (the API's JSON, in order,
            thought signatures included), to send back as they came; None for answers
            saved before gemchat kept them, which go back as their text.
        answered_by: the model that wrote an answer (its parts go back only to that model).
    """

    id: int
    chat_id: int
    role: Role
    text: str
    status: Status
    created_at: str
    error: str | None = None
    parent_id: int | None = None
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    first_token_ms: int | None = None
    duration_ms: int | None = None
    version: int = 1
    versions: int = 1
    attachments: list[Attachment] = field(default_factory=list)
    grounding: dict[str, Any] | None = None
    thoughts: str = ""
    gemini_parts: list[dict[str, Any]] | None = None
    answered_by: str | None = None


# Marks around the matched words in `SearchHit.snippet`; control characters no text contains.
MATCH_START = "\x02"
MATCH_END = "\x03"


@dataclass(slots=True)
class SearchHit:
    """One search result: a message (or, with `message_id` None, a chat's title) that matched.

    `snippet` is plain text with each match between `MATCH_START` and `MATCH_END`.
    """

    chat_id: int
    chat_title: str
    message_id: int | None
    role: Role | None
    snippet: str
    created_at: str


@dataclass(frozen=True, slots=True)
class UploadProgress:
    """How far the upload of one attachment has got (bytes the server confirmed)."""

    name: str
    sent: int
    total: int


@dataclass(slots=True)
class StreamEvent:
    """One step of a streamed answer.

    Most events carry `text`. The last one carries `finish_reason` and `usage`.
    `retry_in` is set on an event that says a failed attempt will be retried
    after that many seconds (with `error` saying why), before any text came.
    Before the request, `upload` reports an attachment being uploaded and
    `uploaded` the attachment once the Files API has it (to be remembered).
    `grounding` carries Google Search grounding (SDK JSON, snake_case).
    `gemini_parts`, on the event with the finish reason, is the whole answer's
    `parts` as Gemini sent them (see `Message.gemini_parts`).
    """

    text: str = ""
    thought: str = ""
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    retry_in: float | None = None
    error: GemchatError | None = None
    grounding: dict[str, Any] | None = None
    upload: UploadProgress | None = None
    uploaded: Attachment | None = None
    gemini_parts: list[dict[str, Any]] | None = None
    image: ModelImage | None = None  # a picture in the answer (an image model's), its bytes as sent
    notice: str = ""  # something the user should know that is not part of the answer (a setting left out)


@dataclass(frozen=True, slots=True)
class ModelImage:
    """A picture Gemini put in an answer (`inlineData`): kept in the attachment store by its SHA-256."""

    mime_type: str
    data: bytes = field(repr=False)
    sha256: str = ""


@dataclass(slots=True)
class GenerationRequest:
    model: str
    history: Sequence[Message]
    system_instruction: str | None = None
    thinking_level: str = ""
    temperature: float | None = None
    include_thoughts: bool = False
    follow_up: str | None = None  # an extra user turn not kept in the chat (asking to continue)
    request_id: str = ""  # a short id that ties this answer's log lines together
    google_search: bool = False  # ground the answer with Google Search (the `google_search` tool)
    code_execution: bool = False  # let Gemini run code (the `code_execution` tool)
    url_context: bool = False  # let Gemini read linked pages (the `url_context` tool)
    image_options: ImageOptions | None = None  # for an image model: the answer's kinds and its pictures' shape
    # Where an attachment's bytes are, by SHA-256 (the app's attachment store).
    attachment_path: Callable[[str], Path] | None = field(default=None, repr=False)
