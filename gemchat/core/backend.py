"""The one place that talks to Gemini.

`GeminiBackend.stream` wraps `client.aio.models.generate_content_stream` with
what a chat window needs and the SDK does not do for it: the request history
is rebuilt from our own stored messages; 429/5xx answers before the first chunk
are retried with backoff, honouring the server's `RetryInfo`; a stream that
stops sending for `read_timeout` seconds ends as an error instead of hanging;
and every failure comes out as a `GemchatError` a user can read.

The SDK is imported on first use, not at import time: it costs a second of
start-up that the window should not wait for.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import importlib
import io
import logging
import random
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence

from gemchat.core.errors import (
    CUT_OFF_REASONS,
    ErrorKind,
    GemchatError,
    from_api_error,
    empty_answer,
    from_block_reason,
    from_finish_reason,
    redact,
)
from gemchat.core.attachments import UPLOAD_LIFETIME, plan_parts
from gemchat.core.messages import Attachment, Message, Role, Status

if TYPE_CHECKING:
    from google import genai

log = logging.getLogger(__name__)


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
    # Where an attachment's bytes are, by SHA-256 (the app's attachment store).
    attachment_path: Callable[[str], Path] | None = field(default=None, repr=False)


def _sent_messages(history: Sequence[Message]) -> list[Message]:
    """The messages a request carries: failed answers and empty texts are left out."""
    return [
        m for m in history
        if not (m.status in (Status.ERROR, Status.STREAMING) and m.role is Role.MODEL)
        and (m.text.strip() or (m.role is Role.USER and m.attachments))
    ]


def build_contents(history: Sequence[Message], follow_up: str | None = None,
                   media: Mapping[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The `contents` of a request, from the chat's stored messages.

    Failed answers and empty texts are left out: the model should not see its
    own error placeholders. Answers the user stopped are kept, since the user
    read them. Consecutive messages of one role (a question re-sent after a
    failure) are joined, so roles alternate as the API expects. A question's
    attachments go before its text (Google's advice for media prompts), as
    the parts `media` holds for their SHA-256: inline data or a file reference.
    """
    contents: list[dict[str, Any]] = []
    for message in _sent_messages(history):
        parts: list[dict[str, Any]] = []
        if message.role is Role.USER and media is not None:
            parts += [media[a.sha256] for a in message.attachments if a.sha256 in media]
        if message.text.strip():
            parts.append({"text": _utf8(message.text)})
        if not parts:
            continue
        if contents and contents[-1]["role"] == message.role.value:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": message.role.value, "parts": parts})
    if follow_up:
        contents.append({"role": Role.USER.value, "parts": [{"text": _utf8(follow_up)}]})
    return contents


def wire_contents(contents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """`build_contents`' output as the REST API's JSON (camelCase keys, file bytes in base64).

    The SDK turns each message of a request into pydantic models and back, about
    135 µs a message, on the event loop (the UI thread): 270 ms of frozen window
    on every send in a 2,000-message chat. Sent as this JSON instead (see
    `GeminiBackend._stream_once`), the history costs nothing there; this runs on
    a worker thread.
    """
    def part(p: Mapping[str, Any]) -> dict[str, Any]:
        if "inline_data" in p:
            data = p["inline_data"]
            return {"inlineData": {"mimeType": data["mime_type"], "data": base64.b64encode(data["data"]).decode("ascii")}}
        if "file_data" in p:
            ref = p["file_data"]
            return {"fileData": {"mimeType": ref["mime_type"], "fileUri": ref["file_uri"]}}
        return {"text": p["text"]}

    return [{"role": c["role"], "parts": [part(p) for p in c["parts"]]} for c in contents]


class _FileGone(Exception):
    """Gemini no longer has a file the request refers to (expired, deleted, another project's)."""

    def __init__(self, api_error: BaseException) -> None:
        super().__init__(str(api_error))
        self.api_error = api_error


_FILE_GONE = re.compile(r"\bFile\b.*(may not exist|not found|does not exist|has expired)", re.IGNORECASE)


class _ProgressReader(io.RawIOBase):
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


def _utf8(text: str) -> str:
    """Text that can be encoded as UTF-8: lone surrogates (a clipboard can hand them over) become U+FFFD.

    A request is built from whatever a caller passes, not only from stored
    (already cleaned) messages, and one bad character must not crash the send.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class _SilenceWatchdog:
    """Ends a stream that has sent nothing for `seconds`, by cancelling the task reading it.

    `asyncio.timeout` around each chunk would do it too, but under qasync every
    such timeout leaves a live Qt timer behind until it would have fired
    (thousands during a long answer, which make each GC and timer pass slower).
    This arms one timer per silence: when it fires, it re-arms for the new
    deadline if data came since, and cancels only if none did.
    """

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._last = self._loop.time()
        self._handle: asyncio.TimerHandle | None = None
        self.expired = False

    def __enter__(self) -> "_SilenceWatchdog":
        self._arm()
        return self

    def touch(self) -> None:
        self._last = self._loop.time()

    def _arm(self) -> None:
        self._handle = self._loop.call_at(self._last + self._seconds, self._check)

    def _check(self) -> None:
        if self._loop.time() - self._last >= self._seconds and self._task is not None:
            self.expired = True
            self._task.cancel()
        else:
            self._arm()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self.expired and kind is asyncio.CancelledError and self._task is not None:
            self._task.uncancel()
            raise TimeoutError from exc


_closing_in: dict[asyncio.Task[Any], list[AsyncGenerator[Any, Any]]] = {}
"""The tasks now inside an SDK call, each with the SDK's generators dropped meanwhile (see `_SdkCall`)."""


class _AdoptingFinalizer:
    """The thread's async generator finalizer: hands a generator dropped inside an SDK call to its task.

    Python calls the finalizer a generator had at its first iteration when it is
    dropped before its end. Inside an SDK call the current task is the one that
    iterated it (`_SdkCall` says which tasks are inside one), so it is kept for
    that task to close. Any other generator goes to the finalizer this one
    replaced (an asyncio loop's), or, when there was none (qasync installs
    none), is closed at once as Python itself would.
    """

    def __init__(self, previous: Callable[[AsyncGenerator[Any, Any]], object] | None) -> None:
        self.previous = previous

    def __call__(self, agen: AsyncGenerator[Any, Any]) -> None:
        try:
            task = asyncio.current_task()
        except RuntimeError:  # no loop running in this thread
            task = None
        dropped = _closing_in.get(task) if task is not None else None
        if dropped is not None:
            dropped.append(agen)
        elif self.previous is not None:
            self.previous(agen)
        else:
            closing = agen.aclose()
            try:
                closing.send(None)
            except StopIteration:
                return
            # It awaits something, which nothing can run from here: Python's own words for that.
            raise RuntimeError(f"async generator ignored GeneratorExit: {agen!r}")


def _adopt_dropped_generators() -> None:
    """Installs `_AdoptingFinalizer` for this thread, around whatever finalizer it has (once)."""
    firstiter, finalizer = sys.get_asyncgen_hooks()
    if not isinstance(finalizer, _AdoptingFinalizer):
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=_AdoptingFinalizer(finalizer))


class _SdkCall:
    """Closes, in the task that opened it, an HTTP stream the SDK drops half-read.

    When a malformed event makes the SDK raise, the exception leaves through its
    chain of async generators (SSE lines, then httpx's and httpcore's byte
    streams), and the inner ones, suspended mid-read, are dropped still holding
    the connection. Left to Python, they are closed without a loop under qasync
    (which installs no finalizer), where httpcore cannot await the release of
    its connection ("async generator ignored GeneratorExit", "Attempted to exit
    cancel scope in a different task"), or, under asyncio, in a task of their
    own. Inside `with call:` the current task keeps what is dropped (see
    `_AdoptingFinalizer`); `close_dropped` then closes it, awaiting, in this
    task, before the stream's call returns.
    """

    def __init__(self) -> None:
        _adopt_dropped_generators()
        task = asyncio.current_task()
        assert task is not None, "an SDK call runs in a task"
        self._task = task
        self._dropped: list[AsyncGenerator[Any, Any]] = []

    def __enter__(self) -> "_SdkCall":
        _closing_in[self._task] = self._dropped
        return self

    def __exit__(self, *exc: object) -> None:
        _closing_in.pop(self._task, None)

    async def close_dropped(self) -> None:
        with self:  # closing one drops the next one down the chain
            while self._dropped:
                agen = self._dropped.pop(0)
                try:
                    await agen.aclose()
                except Exception:  # the stream has already failed; its close must not hide why
                    log.debug("closing a dropped SDK stream failed", exc_info=True)


_sdk_ready = False
_FIRST_CONNECTION_MODULES = ("anyio._core._sockets", "anyio._core._streams", "anyio.streams.memory",
                             "anyio.streams.stapled")
"""What the HTTP stack imports at its first connection; imported with the SDK, off the UI thread."""


_sdk_lock = threading.Lock()


def load_sdk_now() -> None:
    """`GeminiBackend.load_sdk` for a thread of one's own (the app warms it while the user types).

    The warm-up and a first request can both get here at once, on two worker
    threads; two imports of the SDK running side by side fail half-way (pydantic
    sees a partly imported module), so the second waits for the first.
    """
    global _sdk_ready
    with _sdk_lock:
        if not _sdk_ready:
            _import_sdk_modules()
            _sdk_ready = True


def _import_sdk_modules() -> None:
    """Imports the SDK and builds the pydantic models a stream uses.

    Built lazily, those models cost ~0.4 s on the UI thread when the first answer
    starts to stream; here they are built on the worker thread that imports.
    """
    import google.genai  # noqa: F401
    import google.genai.errors  # noqa: F401
    from google.genai import types

    types.GenerateContentConfig(temperature=0.5, thinking_config=types.ThinkingConfig(include_thoughts=True))
    types.GenerateContentResponse.model_validate({
        "candidates": [{"content": {"role": "model", "parts": [{"text": "x"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1},
    })
    # What the HTTP stack imports at its first connection (10 ms on the UI thread at the first send).
    for name in _FIRST_CONNECTION_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)



def _is_network_error(exc: BaseException) -> bool:
    """Connection trouble from whichever HTTP stack the SDK uses (httpx, httpx2, aiohttp)."""
    module = type(exc).__module__.split(".")[0]
    return module in {"httpx", "httpx2", "httpcore", "aiohttp", "h11"} or isinstance(
        exc, (ConnectionError, OSError)
    )


class GeminiBackend:
    """Streams answers from the Gemini API through the `google-genai` SDK.

    Attributes:
        read_timeout: seconds without a byte before a stream is given up.
        max_retries: retries of 429/5xx/connection failures before the first chunk.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        read_timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self.read_timeout = read_timeout
        self.max_retries = max_retries
        self._backoff = backoff
        self._sleep = sleep
        self._client: genai.Client | None = None
        self._making: asyncio.Future[genai.Client] | None = None  # the client, being made on a worker thread
        self.processing_poll = 2.0  # seconds between checks of an uploaded video still being processed
        self.processing_limit = 600.0  # seconds a video may take to process before the answer gives up
        self._token_limits: dict[str, int] = {}

    def set_api_key(self, api_key: str) -> None:
        """Use another key from the next request on (the user pasted a new one)."""
        if api_key != self._api_key:
            self._api_key = api_key
            self._forget_client()

    def _forget_client(self) -> None:
        old, self._client = self._client, None
        making, self._making = self._making, None
        if old is not None:
            asyncio.ensure_future(self._close_client(old))
        if making is not None:  # still being made: closed once it is
            making.add_done_callback(
                lambda f: None if f.cancelled() or f.exception() else asyncio.ensure_future(self._close_client(f.result())))

    def _make_client(self, api_key: str) -> genai.Client:
        from google import genai
        from google.genai import types

        # base_url None lets the SDK read GOOGLE_GEMINI_BASE_URL itself.
        options = types.HttpOptions(base_url=self._base_url) if self._base_url else None
        return genai.Client(api_key=api_key, http_options=options)

    async def _get_client(self) -> genai.Client:
        """The SDK's client, made once on a worker thread: making one loads the system's CA
        certificates twice (60 ms), which on the event loop would freeze the window at the first send."""
        await self.load_sdk()
        while self._client is None:
            if self._making is None:
                self._making = asyncio.get_running_loop().run_in_executor(None, self._make_client, self._api_key)
            making = self._making
            try:
                client = await asyncio.shield(making)  # a Stop while waiting leaves it to the next caller
            except Exception:
                if self._making is making:
                    self._making = None
                raise
            if self._making is making:
                self._making, self._client = None, client
            # else the key changed meanwhile: `_forget_client` closes that one; make another
        return self._client

    async def prepare(self) -> None:
        """Loads the SDK and makes the client ahead of the first request (the user is typing it)."""
        await self._get_client()

    @staticmethod
    async def load_sdk() -> None:
        """Imports google-genai on a worker thread, once: on the UI thread it would freeze the
        window for half a second. Every call into the SDK awaits this first."""
        if not _sdk_ready:
            await asyncio.get_running_loop().run_in_executor(None, load_sdk_now)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Yields the answer as it is generated; raises `GemchatError` on failure.

        Attachments are made ready first: read for inline sending, or uploaded
        (yielding progress). If Gemini says an uploaded file is gone, the files
        are uploaded again and the request is sent once more.
        """
        await self.load_sdk()
        media: dict[str, dict[str, Any]] = {}
        async for event in self._prepare_media(request, media):
            yield event
        attempt = 0
        uploaded_again = False
        while True:
            started = False
            try:
                async for event in self._stream_once(request, media):
                    started = True
                    yield event
                return
            except _FileGone as gone:
                if uploaded_again:
                    raise GemchatError(
                        ErrorKind.BAD_REQUEST, "Gemini lost an attached file even after it was uploaded again. Retry.",
                        redact(str(gone.api_error)[:300], [self._api_key])) from gone.api_error
                uploaded_again = True
                log.info("answer %s: an uploaded file is gone; uploading again", request.request_id or "-")
                async for event in self._prepare_media(request, media, upload_again=True):
                    yield event
            except GemchatError as error:
                delay = self._retry_delay(error, attempt) if not started else None
                if delay is None:
                    raise
                log.info("answer %s: retrying in %.1f s after %s", request.request_id or "-", delay, error.detail)
                yield StreamEvent(retry_in=delay, error=error)
                await self._sleep(delay)
                attempt += 1

    def _retry_delay(self, error: GemchatError, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when retrying cannot help."""
        if attempt >= self.max_retries:
            return None
        if error.kind not in (ErrorKind.QUOTA, ErrorKind.SERVER, ErrorKind.NETWORK):
            return None
        if error.retry_after is not None:
            # A daily quota says "come back in hours": tell the user instead of waiting.
            return error.retry_after if error.retry_after <= 60 else None
        if error.kind is ErrorKind.QUOTA:
            return None if attempt >= 1 else self._backoff * 4
        return self._backoff * (2**attempt) * random.uniform(0.75, 1.25)

    def _api_error(self, exc: Any, model: str) -> GemchatError:
        return from_api_error(exc.code, exc.status, exc.message, exc.details, model, [self._api_key])

    # -- attachments -----------------------------------------------------------------

    async def _prepare_media(self, request: GenerationRequest, media: dict[str, dict[str, Any]],
                             upload_again: bool = False) -> AsyncIterator[StreamEvent]:
        """Fills `media` (SHA-256 -> request part) for every attachment the request carries.

        `upload_again` uploads anew every file that was sent by reference.
        """
        sent = _sent_messages(request.history)
        attachments = list({a.sha256: a for m in sent if m.role is Role.USER for a in m.attachments}.values())
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
        loop = asyncio.get_running_loop()
        for plan in plan_parts(attachments, text_bytes):
            attachment = plan.attachment
            path = request.attachment_path(attachment.sha256)
            if plan.how == "inline":
                if "inline_data" not in media.get(attachment.sha256, {}):
                    try:
                        data = await loop.run_in_executor(None, path.read_bytes)
                    except OSError as exc:
                        raise _missing_file(attachment, exc) from exc
                    media[attachment.sha256] = {"inline_data": {"mime_type": attachment.mime_type, "data": data}}
                continue
            if plan.how == "upload":
                async for event in self._upload(attachment, path):
                    yield event
            media[attachment.sha256] = {"file_data": {"mime_type": attachment.mime_type,
                                                      "file_uri": attachment.file_uri}}

    async def _upload(self, attachment: Attachment, path: Path) -> AsyncIterator[StreamEvent]:
        """Uploads one attachment with the Files API, yielding progress, then the attachment with its upload.

        Cancelling (Stop) cancels the upload; nothing of it is remembered.
        """
        from google.genai import errors as genai_errors
        from google.genai import types

        confirmed: asyncio.Queue[int] = asyncio.Queue()
        try:
            reader = _ProgressReader(path, confirmed.put_nowait)
        except OSError as exc:
            raise _missing_file(attachment, exc) from exc
        config = types.UploadFileConfig(mime_type=attachment.mime_type, display_name=attachment.name[:512])
        client = await self._get_client()
        upload = asyncio.ensure_future(client.aio.files.upload(file=reader, config=config))
        yield StreamEvent(upload=UploadProgress(attachment.name, 0, attachment.size))
        try:
            while not upload.done():
                next_report = asyncio.ensure_future(confirmed.get())
                await asyncio.wait([upload, next_report], return_when=asyncio.FIRST_COMPLETED)
                if next_report.done():
                    sent = next_report.result()
                    if sent:
                        yield StreamEvent(upload=UploadProgress(attachment.name, sent, attachment.size))
                else:
                    next_report.cancel()
            uploaded = upload.result()
            uploaded = await self._wait_until_active(uploaded)
        except genai_errors.APIError as exc:
            error = self._api_error(exc, "")
            if error.kind in (ErrorKind.MODEL, ErrorKind.PERMISSION, ErrorKind.BAD_REQUEST):
                error = GemchatError(ErrorKind.BAD_REQUEST, f"Gemini refused the upload of {attachment.name}: "
                                     + redact(exc.message or f"HTTP {exc.code}", [self._api_key]), error.detail)
            raise error from exc
        except GemchatError:
            raise
        except Exception as exc:
            if _is_network_error(exc):
                raise GemchatError(ErrorKind.NETWORK, f"The upload of {attachment.name} was cut off. Check your "
                                   "network and retry.", redact(f"{type(exc).__name__}: {exc}", [self._api_key])) from exc
            raise GemchatError(ErrorKind.SERVER, f"Gemini did not accept the upload of {attachment.name}. Retry.",
                               redact(f"{type(exc).__name__}: {exc}", [self._api_key])) from exc
        finally:
            if not upload.done():
                upload.cancel()
                await asyncio.wait([upload])
            reader.close()
        expires = uploaded.expiration_time or (dt.datetime.now(dt.UTC) + UPLOAD_LIFETIME)
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=dt.UTC)
        attachment.file_name = uploaded.name
        attachment.file_uri = uploaded.uri
        attachment.expires_at = expires.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        yield StreamEvent(upload=UploadProgress(attachment.name, attachment.size, attachment.size))
        yield StreamEvent(uploaded=attachment)

    async def _wait_until_active(self, uploaded: Any) -> Any:
        """Video (and large audio) is processed after upload; a request may use it only once ACTIVE."""
        waited = 0.0
        while _enum_name(uploaded.state) == "PROCESSING":
            if waited >= self.processing_limit:
                raise GemchatError(ErrorKind.SERVER, "Gemini took too long to process the uploaded file. Retry.",
                                   f"{uploaded.name} still PROCESSING")
            await self._sleep(self.processing_poll)
            waited += self.processing_poll
            uploaded = await (await self._get_client()).aio.files.get(name=uploaded.name)
        if _enum_name(uploaded.state) == "FAILED":
            raise GemchatError(ErrorKind.BAD_REQUEST, "Gemini could not process the uploaded file.",
                               f"{uploaded.name} FAILED: {uploaded.error}")
        return uploaded

    # -- answers --------------------------------------------------------------------

    async def _stream_once(self, request: GenerationRequest,
                           media: Mapping[str, dict[str, Any]] | None = None) -> AsyncIterator[StreamEvent]:
        from google.genai import errors as genai_errors
        from google.genai import types

        thinking = None
        if request.thinking_level or request.include_thoughts:
            thinking = types.ThinkingConfig(
                thinking_level=request.thinking_level.upper() or None,
                include_thoughts=request.include_thoughts or None,
            )
        client = await self._get_client()
        contents = build_contents(request.history, request.follow_up, media or {})
        if not contents:
            raise ValueError("contents are required.")  # as the SDK says it
        # The whole history goes as JSON made on a worker thread (`wire_contents` says why), in the
        # body field the SDK documents for this (`extra_body`: the API's own request structure). The
        # SDK itself is given only the new question's text, which that field replaces.
        history = await asyncio.get_running_loop().run_in_executor(None, wire_contents, contents)
        question = [{"role": contents[-1]["role"],
                     "parts": [p for p in contents[-1]["parts"] if "text" in p] or [{"text": ""}]}]
        # Only what the user set is sent: newer models reject sampling parameters.
        config = types.GenerateContentConfig(
            system_instruction=_utf8(request.system_instruction) if request.system_instruction else None,
            temperature=request.temperature,
            thinking_config=thinking,
            tools=[types.Tool(google_search=types.GoogleSearch())] if request.google_search else None,
            http_options=types.HttpOptions(extra_body={"contents": history}),
            # gemchat passes no Python functions as tools. Left on, the SDK's automatic function
            # calling keeps every chunk's content until the stream ends (for its history): 300 kB
            # of answer held 40,000 objects, and the garbage collector's passes over them grew to
            # 12 ms pauses mid-stream.
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )
        iterator = None
        call = _SdkCall()
        try:
            async with asyncio.timeout(self.read_timeout):
                with call:
                    iterator = await client.aio.models.generate_content_stream(
                        model=request.model, contents=question, config=config)
            said_something = False
            finish_reason: str | None = None
            refused: GemchatError | None = None
            with _SilenceWatchdog(self.read_timeout) as watchdog:
                while True:
                    try:
                        with call:
                            chunk = await anext(iterator)
                    except StopAsyncIteration:
                        break
                    watchdog.touch()
                    try:
                        events = _events_from_chunk(chunk)
                    except GemchatError as exc:
                        # A blocked prompt: read on to the end of its (one-event) stream, so the SDK closes the
                        # HTTP response itself rather than leaving it to the garbage collector, in another task.
                        refused = exc
                        continue
                    for event in events:
                        said_something = said_something or bool(event.text) or event.error is not None
                        finish_reason = event.finish_reason or finish_reason
                        yield event
                    watchdog.touch()  # the time the caller spent on the events is not silence
            if refused is not None:
                raise refused
            if not said_something:
                raise empty_answer(finish_reason)
        except GemchatError:
            raise
        except TimeoutError as exc:
            raise GemchatError(
                ErrorKind.TIMEOUT,
                f"Gemini sent nothing for {self.read_timeout:g} s, so the answer was given up. Retry.",
                "read timeout",
            ) from exc
        except genai_errors.APIError as exc:
            if exc.code in (400, 403, 404) and _FILE_GONE.search(exc.message or "") and media and any(
                    "file_data" in part for part in media.values()):
                raise _FileGone(exc) from exc
            raise self._api_error(exc, request.model) from exc
        except genai_errors.UnknownApiResponseError as exc:
            raise GemchatError(
                ErrorKind.SERVER,
                "Gemini sent a reply gemchat could not read. Retry.",
                redact(str(exc)[:300], [self._api_key]),
            ) from exc
        except Exception as exc:
            if _is_network_error(exc):
                raise GemchatError(
                    ErrorKind.NETWORK,
                    "The connection to Gemini was lost. Check your network and retry.",
                    redact(f"{type(exc).__name__}: {exc}", [self._api_key]),
                ) from exc
            raise
        finally:
            if iterator is not None:
                with call:
                    await iterator.aclose()
            await call.close_dropped()

    async def generate_text(self, model: str, prompt: str) -> str:
        """A small non-streaming call (chat titles); failures raise `GemchatError`."""
        await self.load_sdk()
        from google.genai import errors as genai_errors

        try:
            async with asyncio.timeout(self.read_timeout):
                response = await (await self._get_client()).aio.models.generate_content(
                    model=model, contents=prompt
                )
        except genai_errors.APIError as exc:
            raise from_api_error(exc.code, exc.status, exc.message, exc.details, model,
                                 [self._api_key]) from exc
        except TimeoutError as exc:
            raise GemchatError(ErrorKind.TIMEOUT, "Gemini did not answer in time.") from exc
        return response.text or ""

    async def list_models(self) -> list[str]:
        """Names of the models that can chat (support generateContent), without `models/`.

        Their input token limits are kept for `input_token_limit`.
        """
        await self.load_sdk()
        names = []
        async for model in await (await self._get_client()).aio.models.list():
            actions = model.supported_actions or []
            if "generateContent" in actions and model.name:
                name = model.name.removeprefix("models/")
                names.append(name)
                if model.input_token_limit:
                    self._token_limits[name] = model.input_token_limit
        return names

    async def input_token_limit(self, model: str) -> int | None:
        """How many tokens `model` takes in one request (`inputTokenLimit` of `models.list`), if known."""
        if not self._token_limits:
            await self.list_models()
        return self._token_limits.get(model.removeprefix("models/"))

    async def count_tokens(self, model: str, text: str) -> int:
        """Tokens `text` costs with `model` (the API's `countTokens`); raises `GemchatError`."""
        await self.load_sdk()
        from google.genai import errors as genai_errors

        try:
            async with asyncio.timeout(self.read_timeout):
                response = await (await self._get_client()).aio.models.count_tokens(model=model, contents=_utf8(text))
        except genai_errors.APIError as exc:
            raise self._api_error(exc, model) from exc
        except TimeoutError as exc:
            raise GemchatError(ErrorKind.TIMEOUT, "Gemini did not count the tokens in time.") from exc
        except Exception as exc:
            if _is_network_error(exc):
                raise GemchatError(ErrorKind.NETWORK, "No connection to Gemini.", type(exc).__name__) from exc
            raise
        return response.total_tokens or 0

    async def aclose(self) -> None:
        """Closes the SDK's HTTP clients; left to the garbage collector it raises under qasync."""
        client, self._client = self._client, None
        making, self._making = self._making, None
        if making is not None:
            with contextlib.suppress(Exception):
                client = client or await making
        if client is not None:
            await self._close_client(client)

    @staticmethod
    async def _close_client(client: genai.Client) -> None:
        try:
            await client.aio.aclose()
            client.close()
        except Exception:  # closing must never stop the app from quitting
            log.exception("closing the Gemini client failed")


def _events_from_chunk(chunk: Any) -> list[StreamEvent]:
    """StreamEvents from one GenerateContentResponse; raises for blocked prompts and bad finishes."""
    events: list[StreamEvent] = []
    feedback = getattr(chunk, "prompt_feedback", None)
    if feedback is not None and feedback.block_reason:
        raise from_block_reason(_enum_name(feedback.block_reason))
    usage = chunk.usage_metadata.model_dump(exclude_none=True) if chunk.usage_metadata else None
    for candidate in chunk.candidates or []:
        content = candidate.content
        for part in (content.parts if content and content.parts else []):
            if part.text:
                if part.thought:
                    events.append(StreamEvent(thought=part.text))
                else:
                    events.append(StreamEvent(text=part.text))
        if candidate.grounding_metadata is not None:
            found = candidate.grounding_metadata.model_dump(mode="json", exclude_none=True)
            if found:
                events.append(StreamEvent(grounding=found))
        if candidate.finish_reason:
            reason = _enum_name(candidate.finish_reason)
            if reason not in ("STOP", "FINISH_REASON_UNSPECIFIED") and reason not in CUT_OFF_REASONS:
                # The text before the stop has been yielded; the caller keeps it.
                events.append(StreamEvent(error=from_finish_reason(reason), finish_reason=reason))
            else:
                events.append(StreamEvent(finish_reason=reason, usage=usage))
        break  # gemchat asks for one candidate
    return events


def _enum_name(value: Any) -> str:
    return str(getattr(value, "value", value))


def _missing_file(attachment: Attachment, exc: OSError) -> GemchatError:
    return GemchatError(ErrorKind.BUG, f"The attached file {attachment.name} is missing from gemchat's data "
                        "directory, so it could not be sent.", f"{type(exc).__name__}: {exc}")

