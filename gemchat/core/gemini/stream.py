"""One answer, streamed: attempts and their retries, one attempt's events, the silence watchdog.

What a chat window needs and the SDK does not do for it: the request history
is rebuilt from our own stored messages; 429/5xx answers before the first chunk
are retried with backoff, honouring the server's `RetryInfo`; a stream that
stops sending for `read_timeout` seconds ends as an error instead of hanging;
and every failure comes out as a `GemchatError` a user can read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from gemchat.core.errors import (
    CUT_OFF_REASONS,
    UNFINISHED,
    ErrorKind,
    GemchatError,
    empty_answer,
    from_block_reason,
    from_finish_reason,
)
from gemchat.core.gemini.closing import SdkCall
from gemchat.core.gemini.parts import AnswerParts, answer_text, image_reference, wire_part
from gemchat.core.gemini.refused_settings import notice, refused_setting, without
from gemchat.core.gemini.retry import delay_before_retry
from gemchat.core.gemini.sdk import is_network_error, load_sdk
from gemchat.core.gemini.uploads import FileGone, is_file_gone, prepare_media
from gemchat.core.gemini.wire import build_contents, enum_name, utf8, wire_contents
from gemchat.core.messages import GenerationRequest, ModelImage, StreamEvent

if TYPE_CHECKING:
    from google.genai import types

    from gemchat.core.gemini.client import GeminiBackend

log = logging.getLogger(__name__)


async def stream_answer(backend: GeminiBackend, request: GenerationRequest) -> AsyncGenerator[StreamEvent, None]:
    """Yields the answer as it is generated; raises `GemchatError` on failure.

    Attachments are made ready first: read for inline sending, or uploaded
    (yielding progress). If Gemini says an uploaded file is gone, the files
    are uploaded again and the request is sent once more.
    """
    await load_sdk()
    refused = backend.refused_settings.setdefault(request.model, set())
    request = without(request, refused)  # what this model refused earlier in this run is not sent again
    media: dict[str, dict[str, Any]] = {}
    async with contextlib.aclosing(prepare_media(backend, request, media)) as preparing:
        async for event in preparing:
            yield event
    attempt = 0
    uploaded_again = False
    while True:
        started = False
        try:
            async with contextlib.aclosing(_attempt(backend, request, media)) as answer:
                async for event in answer:
                    started = True
                    yield event
            return
        except FileGone as gone:
            if uploaded_again:
                raise GemchatError(
                    ErrorKind.BAD_REQUEST, "Gemini lost an attached file even after it was uploaded again. Retry.",
                    backend.redact(str(gone.api_error)[:300])) from gone.api_error
            uploaded_again = True
            log.info("answer %s: an uploaded file is gone; uploading again", request.request_id or "-")
            async with contextlib.aclosing(prepare_media(backend, request, media, upload_again=True)) as preparing:
                async for event in preparing:
                    yield event
        except GemchatError as error:
            setting = None if started else refused_setting(error, request)
            if setting is not None and setting not in refused:
                log.info("answer %s: %s refused the %s; asking without it", request.request_id or "-",
                         request.model, setting)
                refused.add(setting)
                yield StreamEvent(notice=notice(request.model, setting, request))
                request = without(request, refused)
                continue
            delay = None if started else delay_before_retry(error, attempt, backend.max_retries, backend.backoff)
            if delay is None:
                raise
            log.info("answer %s: retrying in %.1f s after %s", request.request_id or "-", delay, error.detail)
            yield StreamEvent(retry_in=delay, error=error)
            await backend.sleep(delay)
            attempt += 1


async def _attempt(backend: GeminiBackend, request: GenerationRequest,
                   media: dict[str, dict[str, Any]]) -> AsyncGenerator[StreamEvent, None]:
    """One request and the events of its stream; raises `GemchatError`, or `FileGone` for a lost upload."""
    client = await backend.client()
    question, config = await _question_and_config(request, media)
    iterator = None
    call = SdkCall()
    try:
        async with asyncio.timeout(backend.read_timeout):
            with call:
                iterator = await client.aio.models.generate_content_stream(
                    model=request.model, contents=question, config=config)
        said_something = False
        finish_reason: str | None = None
        refused: GemchatError | None = None
        kept = AnswerParts()
        with _SilenceWatchdog(backend.read_timeout) as watchdog:
            while True:
                try:
                    with call:
                        chunk = await anext(iterator)
                except StopAsyncIteration:
                    break
                watchdog.touch()
                try:
                    events = _events_from_chunk(chunk, backend.redact, kept)
                except GemchatError as exc:
                    # A blocked prompt: read on to the end of its (one-event) stream, so the SDK closes the
                    # HTTP response itself rather than leaving it to the garbage collector, in another task.
                    refused = exc
                    continue
                for event in events:
                    said_something = (said_something or bool(event.text) or event.error is not None
                                      or event.image is not None)
                    finish_reason = event.finish_reason or finish_reason
                    yield event
                watchdog.touch()  # the time the caller spent on the events is not silence
        if refused is not None:
            raise refused
        if not said_something:
            raise empty_answer(finish_reason, (str(p["functionCall"].get("name") or "?") for p in kept.parts
                                               if isinstance(p.get("functionCall"), dict)))
        if finish_reason is None:  # cut short: what arrived was yielded, and is kept as cut off
            log.warning("answer %s: the stream ended without a finish reason", request.request_id or "-")
            yield StreamEvent(finish_reason=UNFINISHED)
    except GemchatError:
        raise
    except Exception as exc:
        failure = _failure(backend, request, media, exc)
        if failure is None:
            raise
        raise failure from exc
    finally:
        if iterator is not None:
            with call:
                await iterator.aclose()  # type: ignore[attr-defined]  # the SDK's stream is an async generator
        await call.close_dropped()


async def _question_and_config(request: GenerationRequest, media: dict[str, dict[str, Any]],
                               ) -> tuple[list[dict[str, Any]], types.GenerateContentConfig]:
    """The contents the SDK is given (the new question) and the request's config, the whole history in it."""
    from google.genai import types

    contents = build_contents(request.history, request.follow_up, media, request.model)
    if not contents:
        raise ValueError("contents are required.")  # as the SDK says it
    # The whole history goes as JSON made on a worker thread (`wire_contents` says why), in the
    # body field the SDK documents for this (`extra_body`: the API's own request structure). The
    # SDK itself is given only the new question's text, which that field replaces.
    history = await asyncio.get_running_loop().run_in_executor(None, wire_contents, contents)
    question = [{"role": contents[-1]["role"],
                 "parts": [p for p in contents[-1]["parts"] if "text" in p] or [{"text": ""}]}]
    thinking = None
    if request.thinking_level or request.include_thoughts:
        thinking = types.ThinkingConfig(
            thinking_level=request.thinking_level.upper() or None,  # type: ignore[arg-type]  # the API's name
            include_thoughts=request.include_thoughts or None,
        )
    # Only what the user set is sent: newer models reject sampling parameters.
    config = types.GenerateContentConfig(
        system_instruction=utf8(request.system_instruction) if request.system_instruction else None,
        temperature=request.temperature,
        thinking_config=thinking,
        tools=_tools(request) or None,
        **_picture_settings(request),
        http_options=types.HttpOptions(extra_body={"contents": history}),
        # gemchat passes no Python functions as tools. Left on, the SDK's automatic function
        # calling keeps every chunk's content until the stream ends (for its history): 300 kB
        # of answer held 40,000 objects, and the garbage collector's passes over them grew to
        # 12 ms pauses mid-stream.
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    return question, config


def _image(part: Any) -> ModelImage:
    import hashlib  # here, not at import: 0.6 MB at rest for answers that are pictures

    data = bytes(part.inline_data.data)
    return ModelImage(str(part.inline_data.mime_type or "application/octet-stream"), data,
                      hashlib.sha256(data).hexdigest())


def _picture_settings(request: GenerationRequest) -> dict[str, Any]:
    """What an image model is asked for: answers with pictures (or pictures only), their shape and size."""
    from google.genai import types

    options = request.image_options
    if options is None:
        return {}
    found: dict[str, Any] = {"response_modalities": ["IMAGE"] if options.pictures_only else ["TEXT", "IMAGE"]}
    if options.aspect_ratio or options.image_size:
        found["image_config"] = types.ImageConfig(aspect_ratio=options.aspect_ratio or None,
                                                  image_size=options.image_size or None)
    return found


def _tools(request: GenerationRequest) -> list[Any]:
    """The tools the chat has on, as the SDK's `Tool`s."""
    from google.genai import types

    tools: list[Any] = []
    if request.google_search:
        tools.append(types.Tool(google_search=types.GoogleSearch()))
    if request.code_execution:
        tools.append(types.Tool(code_execution=types.ToolCodeExecution()))
    if request.url_context:
        tools.append(types.Tool(url_context=types.UrlContext()))
    return tools


def _failure(backend: GeminiBackend, request: GenerationRequest, media: dict[str, dict[str, Any]],
             exc: Exception) -> Exception | None:
    """What a failed attempt's exception means for the user; None for a bug, which goes up as it is."""
    from google.genai import errors as genai_errors

    if isinstance(exc, TimeoutError):  # before the network errors: a TimeoutError is an OSError
        return GemchatError(
            ErrorKind.TIMEOUT,
            f"Gemini sent nothing for {backend.read_timeout:g} s, so the answer was given up. Retry.",
            "read timeout",
        )
    if isinstance(exc, genai_errors.APIError):
        if is_file_gone(exc.code, exc.message, media):
            return FileGone(exc)
        return backend.api_error(exc, request.model)
    if isinstance(exc, genai_errors.UnknownApiResponseError):
        return GemchatError(
            ErrorKind.SERVER,
            "Gemini sent a reply gemchat could not read. Retry.",
            backend.redact(str(exc)[:300]),
        )
    if is_network_error(exc):
        return GemchatError(
            ErrorKind.NETWORK,
            "The connection to Gemini was lost. Check your network and retry.",
            backend.redact(f"{type(exc).__name__}: {exc}"),
        )
    return None


def _events_from_chunk(chunk: Any, redact: Callable[[str], str], kept: AnswerParts) -> list[StreamEvent]:
    """StreamEvents from one GenerateContentResponse; raises for blocked prompts and bad finishes.

    `redact` masks the key in what Gemini says about a finish or a block, which the user reads.
    Every part is also added to `kept`, as Gemini sent it.
    """
    events: list[StreamEvent] = []
    feedback = getattr(chunk, "prompt_feedback", None)
    if feedback is not None and feedback.block_reason:
        message = feedback.block_reason_message
        raise from_block_reason(enum_name(feedback.block_reason), redact(message) if message else None)
    usage = chunk.usage_metadata.model_dump(exclude_none=True) if chunk.usage_metadata else None
    for candidate in chunk.candidates or []:
        content = candidate.content
        for part in (content.parts if content and content.parts else []):
            if part.inline_data is not None and part.inline_data.data:
                image = _image(part)
                kept.add(image_reference(image, part.thought_signature))  # the bytes go to the attachment store
                events.append(StreamEvent(image=image))
                continue
            if part.text is not None and part.thought and not part.thought_signature:
                kept.add({"text": part.text, "thought": True})  # the common cases, without pydantic's dump
                events.append(StreamEvent(thought=part.text))
                continue
            if part.text is not None and not part.thought and not part.thought_signature:
                kept.add({"text": part.text})
                if part.text:
                    events.append(StreamEvent(text=part.text))
                continue
            wire = wire_part(part)
            kept.add(wire)
            if part.text and part.thought:
                events.append(StreamEvent(thought=part.text))
            elif text := answer_text(wire):
                events.append(StreamEvent(text=text))
        if candidate.grounding_metadata is not None:
            found = candidate.grounding_metadata.model_dump(mode="json", exclude_none=True)
            if found:
                events.append(StreamEvent(grounding=found))
        if candidate.url_context_metadata is not None:
            read = candidate.url_context_metadata.model_dump(mode="json", exclude_none=True)
            if read.get("url_metadata"):
                events.append(StreamEvent(grounding={"url_context_metadata": read}))
        if candidate.finish_reason:
            reason = enum_name(candidate.finish_reason)
            if reason not in ("STOP", "FINISH_REASON_UNSPECIFIED") and reason not in CUT_OFF_REASONS:
                # The text before the stop has been yielded; the caller keeps it, and what it cost.
                message = candidate.finish_message
                events.append(StreamEvent(error=from_finish_reason(reason, redact(message) if message else None),
                                          finish_reason=reason, usage=usage, gemini_parts=kept.parts))
            else:
                events.append(StreamEvent(finish_reason=reason, usage=usage, gemini_parts=kept.parts))
        break  # gemchat asks for one candidate
    return events


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

    def __enter__(self) -> _SilenceWatchdog:
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
