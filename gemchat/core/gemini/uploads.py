"""Attachments made ready for a request: read for inline sending, or uploaded with the Files API.

An upload reports its progress as it goes, waits until Gemini has processed
the file (video), and is remembered on the attachment with its expiry, so the
next requests refer to it instead of uploading again. When Gemini says a file
a request refers to is gone, the stream uploads it again (`FileGone`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import re
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gemchat.core.attachments import UPLOAD_LIFETIME, plan_parts
from gemchat.core.errors import ErrorKind, GemchatError
from gemchat.core.gemini.sdk import is_network_error
from gemchat.core.gemini.wire import enum_name, sent_messages
from gemchat.core.messages import Attachment, GenerationRequest, Role, StreamEvent, UploadProgress

if TYPE_CHECKING:
    from google import genai
    from google.genai import types

    from gemchat.core.gemini.client import GeminiBackend


class FileGone(Exception):
    """Gemini no longer has a file the request refers to (expired, deleted, another project's)."""

    def __init__(self, api_error: BaseException) -> None:
        super().__init__(str(api_error))
        self.api_error = api_error


_FILE_GONE = re.compile(r"\bFile\b.*(may not exist|not found|does not exist|has expired)", re.IGNORECASE)


def is_file_gone(code: int, message: str | None, media: dict[str, dict[str, Any]]) -> bool:
    """Whether an API error refusing a request that refers to uploaded files says one of them is gone."""
    return code in (400, 403, 404) and bool(_FILE_GONE.search(message or "")) and any(
        "file_data" in part for part in media.values())


class ProgressReader(io.RawIOBase):
    """A file the SDK uploads from, reporting how much of it the server has confirmed.

    The SDK reads one 8 MB chunk, sends it, waits for the server's answer, then
    reads the next: so a read at offset N means the first N bytes arrived. It
    reads synchronously on the event loop; the file is a local copy in the
    data directory, so a chunk is a few milliseconds from the page cache.
    """

    def __init__(self, path: Path, confirmed: Callable[[int], None]) -> None:
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 (closed with the reader)
        self._confirmed = confirmed
        self.mode = "rb"

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._file.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def read(self, size: int = -1) -> bytes:
        self._confirmed(self._file.tell())
        return self._file.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()


async def prepare_media(backend: GeminiBackend, request: GenerationRequest, media: dict[str, dict[str, Any]],
                        upload_again: bool = False) -> AsyncGenerator[StreamEvent, None]:
    """Fills `media` (SHA-256 -> request part) for every attachment the request carries.

    `upload_again` uploads anew every file that was sent by reference.
    """
    sent = sent_messages(request.history)
    # Questions' files, and pictures in answers this model made (sent back to it; another gets the text).
    attachments = list({a.sha256: a for m in sent if m.role is Role.USER or m.answered_by == request.model
                        for a in m.attachments}.values())
    if not attachments:
        return
    if request.attachment_path is None:
        raise GemchatError(ErrorKind.BUG, "gemchat could not find the attached files.", "no attachment_path")
    if upload_again:
        for attachment in attachments:
            if "file_data" in media.get(attachment.sha256, {}):
                attachment.file_uri = attachment.expires_at = None
    text_bytes = sum(len(m.text.encode("utf-8", "replace")) for m in sent)
    text_bytes += len((request.system_instruction or "").encode("utf-8", "replace"))
    for plan in plan_parts(attachments, text_bytes):
        attachment = plan.attachment
        path = request.attachment_path(attachment.sha256)
        if plan.how == "inline":
            if "inline_data" not in media.get(attachment.sha256, {}):
                media[attachment.sha256] = {"inline_data": {"mime_type": attachment.mime_type,
                                                            "data": await _read(attachment, path)}}
            continue
        if plan.how == "upload":
            async with contextlib.aclosing(upload(backend, attachment, path)) as uploading:
                async for event in uploading:
                    yield event
        media[attachment.sha256] = {"file_data": {"mime_type": attachment.mime_type,
                                                  "file_uri": attachment.file_uri}}


async def _read(attachment: Attachment, path: Path) -> bytes:
    """An attachment's bytes, read on a worker thread (a file of up to 20 MB)."""
    try:
        return await asyncio.get_running_loop().run_in_executor(None, path.read_bytes)
    except OSError as exc:
        raise _missing_file(attachment, exc) from exc


async def upload(backend: GeminiBackend, attachment: Attachment, path: Path) -> AsyncGenerator[StreamEvent, None]:
    """Uploads one attachment with the Files API, yielding progress, then the attachment with its upload.

    Cancelling (Stop) cancels the upload; nothing of it is remembered.
    """
    from google.genai import errors as genai_errors
    from google.genai import types

    config = types.UploadFileConfig(mime_type=attachment.mime_type, display_name=attachment.name[:512])
    client = await backend.client()
    confirmed: asyncio.Queue[int] = asyncio.Queue()
    try:
        reader = ProgressReader(path, confirmed.put_nowait)
    except OSError as exc:
        raise _missing_file(attachment, exc) from exc
    sending = backend.tasks.start(_upload_file(client, reader, config))
    try:
        yield StreamEvent(upload=UploadProgress(attachment.name, 0, attachment.size))
        async with contextlib.aclosing(_progress(backend, attachment, confirmed, sending)) as progress:
            async for event in progress:
                yield event
        if isinstance(uploaded := sending.result(), Exception):
            raise uploaded
        uploaded = await wait_until_active(backend, uploaded)
    except genai_errors.APIError as exc:
        raise _refused(backend, attachment, exc) from exc
    except GemchatError:
        raise
    except Exception as exc:
        raise _cut_off(backend, attachment, exc) from exc
    finally:
        if not sending.done():
            sending.cancel()
            await asyncio.wait([sending])
        reader.close()
    _remember(attachment, uploaded)
    yield StreamEvent(upload=UploadProgress(attachment.name, attachment.size, attachment.size))
    yield StreamEvent(uploaded=attachment)


async def _upload_file(client: genai.Client, reader: ProgressReader, config: types.UploadFileConfig) -> Any:
    """The Files API upload, run beside its progress reports.

    A failure is returned, not raised: the stream reports it as the answer's
    error, and `Tasks` would log it a second time as a crash.
    """
    try:
        return await client.aio.files.upload(file=reader, config=config)
    except Exception as exc:
        return exc


async def _progress(backend: GeminiBackend, attachment: Attachment, confirmed: asyncio.Queue[int],
                    sending: asyncio.Task[Any]) -> AsyncGenerator[StreamEvent, None]:
    """Reports each chunk the server confirms, until the upload ends."""
    next_report: asyncio.Task[int] | None = None
    try:
        while not sending.done():
            next_report = backend.tasks.start(confirmed.get())
            await asyncio.wait([sending, next_report], return_when=asyncio.FIRST_COMPLETED)
            if next_report.done():
                sent = next_report.result()
                if sent:
                    yield StreamEvent(upload=UploadProgress(attachment.name, sent, attachment.size))
            else:
                next_report.cancel()
    finally:
        if next_report is not None and not next_report.done():
            next_report.cancel()


async def wait_until_active(backend: GeminiBackend, uploaded: Any) -> Any:
    """Video (and large audio) is processed after upload; a request may use it only once ACTIVE."""
    waited = 0.0
    while enum_name(uploaded.state) == "PROCESSING":
        if waited >= backend.processing_limit:
            raise GemchatError(ErrorKind.SERVER, "Gemini took too long to process the uploaded file. Retry.",
                               f"{uploaded.name} still PROCESSING")
        await backend.sleep(backend.processing_poll)
        waited += backend.processing_poll
        uploaded = await (await backend.client()).aio.files.get(name=uploaded.name)
    if enum_name(uploaded.state) == "FAILED":
        raise GemchatError(ErrorKind.BAD_REQUEST, "Gemini could not process the uploaded file.",
                           f"{uploaded.name} FAILED: {uploaded.error}")
    return uploaded


def _remember(attachment: Attachment, uploaded: Any) -> None:
    """Keeps the Files API copy on the attachment, for later requests to refer to until it expires."""
    expires = uploaded.expiration_time or (dt.datetime.now(dt.UTC) + UPLOAD_LIFETIME)
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    attachment.file_name = uploaded.name
    attachment.file_uri = uploaded.uri
    attachment.expires_at = expires.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _refused(backend: GeminiBackend, attachment: Attachment, exc: Any) -> GemchatError:
    """What the user is told when the Files API answers an upload with an HTTP error."""
    error = backend.api_error(exc, "")
    if error.kind in (ErrorKind.MODEL, ErrorKind.PERMISSION, ErrorKind.BAD_REQUEST):
        error = GemchatError(ErrorKind.BAD_REQUEST, f"Gemini refused the upload of {attachment.name}: "
                             + backend.redact(exc.message or f"HTTP {exc.code}"), error.detail)
    return error


def _cut_off(backend: GeminiBackend, attachment: Attachment, exc: Exception) -> GemchatError:
    """What the user is told when an upload fails without an answer from the Files API."""
    detail = backend.redact(f"{type(exc).__name__}: {exc}")
    if is_network_error(exc):
        return GemchatError(ErrorKind.NETWORK, f"The upload of {attachment.name} was cut off. Check your "
                            "network and retry.", detail)
    return GemchatError(ErrorKind.SERVER, f"Gemini did not accept the upload of {attachment.name}. Retry.", detail)


def _missing_file(attachment: Attachment, exc: OSError) -> GemchatError:
    return GemchatError(ErrorKind.BUG, f"The attached file {attachment.name} is missing from gemchat's data "
                        "directory, so it could not be sent.", f"{type(exc).__name__}: {exc}")
