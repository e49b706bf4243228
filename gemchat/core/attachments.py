"""What may be attached to a question, and how each attachment travels to Gemini.

Pure functions and constants, no Qt and no I/O beyond reading a file's first
bytes, so the rules are the same for drag-and-drop, paste, the Attach button,
import, and the tests.

Gemini takes media in two ways: inline (`inline_data`, base64 inside the
request, which is limited to 20 MB in all) or as a reference to a file uploaded
with the Files API (`file_data`, up to 2 GB, kept 48 hours). `plan_parts`
decides per request: small files go inline while the request stays under the
limit, the rest by reference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from gemchat.core.messages import Attachment


INLINE_LIMIT_BYTES = 8 * 1024 * 1024
"""Files up to this size are sent inline; larger ones are uploaded with the Files API."""
REQUEST_LIMIT_BYTES = 20 * 1024 * 1024
"""Gemini refuses a request bigger than this (text, base64 of inline files, everything)."""
REQUEST_HEADROOM_BYTES = 1024 * 1024
"""Kept free in every request for JSON, instructions and what is not counted exactly."""
MAX_FILE_BYTES = 2_000_000_000
"""The Files API's limit per file."""
MAX_PDF_BYTES = 50_000_000
"""Gemini reads PDFs up to 50 MB (and 1,000 pages)."""
MAX_ATTACHMENTS = 10
"""Files per message: more than a person can refer to in one question, few enough to show as chips."""
UPLOAD_LIFETIME = dt.timedelta(hours=48)
"""How long the Files API keeps an upload."""
EXPIRY_MARGIN = dt.timedelta(hours=1)
"""An upload this close to its expiry is uploaded again rather than risk it vanishing mid-answer."""

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"})
AUDIO_TYPES = frozenset({"audio/wav", "audio/mp3", "audio/mpeg", "audio/aiff", "audio/aac", "audio/ogg",
                         "audio/flac"})
VIDEO_TYPES = frozenset({"video/mp4", "video/mpeg", "video/mov", "video/quicktime", "video/avi", "video/x-flv",
                         "video/mpg", "video/webm", "video/wmv", "video/3gpp"})
DOCUMENT_TYPES = frozenset({"application/pdf", "text/plain"})
SUPPORTED_TYPES = IMAGE_TYPES | AUDIO_TYPES | VIDEO_TYPES | DOCUMENT_TYPES

_BY_EXTENSION: dict[str, str] = {
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "jpe": "image/jpeg", "webp": "image/webp",
    "heic": "image/heic", "heif": "image/heif", "pdf": "application/pdf",
    "wav": "audio/wav", "mp3": "audio/mp3", "aiff": "audio/aiff", "aif": "audio/aiff", "aac": "audio/aac",
    "ogg": "audio/ogg", "oga": "audio/ogg", "opus": "audio/ogg", "flac": "audio/flac",
    "mp4": "video/mp4", "m4v": "video/mp4", "mpeg": "video/mpeg", "mpg": "video/mpg", "mov": "video/mov",
    "avi": "video/avi", "flv": "video/x-flv", "webm": "video/webm", "wmv": "video/wmv", "3gp": "video/3gpp",
}
def mime_type_for(name: str, head: bytes) -> str | None:
    """The MIME type gemchat sends a file as, or None when Gemini cannot read it.

    The first bytes decide for images and PDFs (a renamed PNG is still a PNG);
    the name decides for audio and video; text and code of any extension go as
    text/plain when the bytes are UTF-8.
    """
    sniffed = _sniff(head)
    if sniffed is not None:
        return sniffed
    path = PurePath(name)
    extension = path.suffix.lower().lstrip(".")
    by_name = _BY_EXTENSION.get(extension)
    if by_name is not None and by_name not in IMAGE_TYPES and by_name != "application/pdf":
        return by_name
    if by_name is None and _looks_like_text(head):
        return "text/plain"  # text and code of any kind: the one text type every Gemini model takes
    return None


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"hevc", b"heim", b"heis"):
        return "image/heic"
    if head[4:8] == b"ftyp" and head[8:12] in (b"mif1", b"msf1"):
        return "image/heif"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _looks_like_text(head: bytes) -> bool:
    """UTF-8 without NUL bytes; a multi-byte character cut at the end of `head` still counts."""
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"


def kind_of(mime_type: str) -> Literal["image", "audio", "video", "document"]:
    """The word a chip shows for a file that has no thumbnail."""
    if mime_type in IMAGE_TYPES:
        return "image"
    if mime_type.startswith("audio/"):
        return "audio"
    if mime_type.startswith("video/"):
        return "video"
    return "document"


def format_size(size: int) -> str:
    """Sizes as people read them: 980 bytes, 12 KB, 3.4 MB."""
    if size < 1000:
        return f"{size} bytes"
    for unit, scale in (("KB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if size < scale * 1000 or unit == "GB":
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} bytes"  # unreachable


def refusal(name: str, size: int, mime_type: str | None, already: int) -> str | None:
    """Why a file cannot be attached to a message that has `already` files, or None when it can."""
    if already >= MAX_ATTACHMENTS:
        return f"{name} was not attached: a message can carry at most {MAX_ATTACHMENTS} files."
    if mime_type is None:
        return (f"{name} was not attached: Gemini cannot read this kind of file. Attach images (PNG, JPEG, "
                "WebP, HEIC), PDFs, text or code, audio or video.")
    if size == 0:
        return f"{name} was not attached: the file is empty."
    if mime_type == "application/pdf" and size > MAX_PDF_BYTES:
        return (f"{name} was not attached: it is {format_size(size)} and Gemini reads PDFs up to "
                f"{format_size(MAX_PDF_BYTES)}.")
    if size > MAX_FILE_BYTES:
        return (f"{name} was not attached: it is {format_size(size)} and Gemini takes files up to "
                f"{format_size(MAX_FILE_BYTES)}.")
    return None


def upload_is_usable(attachment: Attachment, now: dt.datetime | None = None) -> bool:
    """Whether the Files API copy can still be referred to (it exists and does not expire soon)."""
    if not attachment.file_uri or not attachment.expires_at:
        return False
    try:
        expires = dt.datetime.fromisoformat(attachment.expires_at.replace("Z", "+00:00"))
    except ValueError:
        return False
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    return expires - EXPIRY_MARGIN > (now or dt.datetime.now(dt.UTC))


def base64_size(size: int) -> int:
    return 4 * ((size + 2) // 3)


@dataclass(frozen=True, slots=True)
class PartPlan:
    """How one attachment goes into one request."""

    attachment: Attachment
    how: Literal["inline", "file", "upload"]  # "upload": upload first, then refer to it


def plan_parts(attachments: Sequence[Attachment], text_bytes: int,
               now: dt.datetime | None = None) -> list[PartPlan]:
    """Inline, an existing upload, or a new upload, for each attachment of a request (oldest first).

    A file already uploaded (and not about to expire) is referred to: cheaper
    than sending its bytes again. Otherwise files up to `INLINE_LIMIT_BYTES`
    go inline while the request stays under `REQUEST_LIMIT_BYTES`; the rest
    are uploaded. `text_bytes` is the UTF-8 size of the request's text.
    """
    budget = REQUEST_LIMIT_BYTES - REQUEST_HEADROOM_BYTES - text_bytes
    plans = []
    for attachment in attachments:
        if upload_is_usable(attachment, now):
            plans.append(PartPlan(attachment, "file"))
        elif attachment.size <= INLINE_LIMIT_BYTES and base64_size(attachment.size) <= budget:
            budget -= base64_size(attachment.size)
            plans.append(PartPlan(attachment, "inline"))
        else:
            plans.append(PartPlan(attachment, "upload"))
    return plans
