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
import logging
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Sequence

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
from gemchat.core.messages import Message, Role, Status

if TYPE_CHECKING:
    from google import genai

log = logging.getLogger(__name__)

DEFAULT_MODEL = "gemini-3.6-flash"


@dataclass(slots=True)
class StreamEvent:
    """One step of a streamed answer.

    Most events carry `text`. The last one carries `finish_reason` and `usage`.
    `retry_in` is set on an event that says a failed attempt will be retried
    after that many seconds (with `error` saying why), before any text came.
    """

    text: str = ""
    thought: str = ""
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    retry_in: float | None = None
    error: GemchatError | None = None


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


def build_contents(history: Sequence[Message], follow_up: str | None = None) -> list[dict[str, Any]]:
    """The `contents` of a request, from the chat's stored messages.

    Failed answers and empty texts are left out: the model should not see its
    own error placeholders. Answers the user stopped are kept, since the user
    read them. Consecutive messages of one role (a question re-sent after a
    failure) are joined, so roles alternate as the API expects.
    """
    contents: list[dict[str, Any]] = []
    for message in history:
        if message.status in (Status.ERROR, Status.STREAMING) and message.role is Role.MODEL:
            continue
        if not message.text.strip():
            continue
        text = _utf8(message.text)
        if contents and contents[-1]["role"] == message.role.value:
            contents[-1]["parts"].append({"text": text})
        else:
            contents.append({"role": message.role.value, "parts": [{"text": text}]})
    if follow_up:
        contents.append({"role": Role.USER.value, "parts": [{"text": _utf8(follow_up)}]})
    return contents


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

    def set_api_key(self, api_key: str) -> None:
        """Use another key from the next request on (the user pasted a new one)."""
        if api_key != self._api_key:
            self._api_key = api_key
            old, self._client = self._client, None
            if old is not None:
                asyncio.ensure_future(self._close_client(old))

    def _get_client(self) -> genai.Client:
        if self._client is None:
            from google import genai
            from google.genai import types

            # base_url None lets the SDK read GOOGLE_GEMINI_BASE_URL itself.
            options = types.HttpOptions(base_url=self._base_url) if self._base_url else None
            self._client = genai.Client(api_key=self._api_key, http_options=options)
        return self._client

    async def stream(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        """Yields the answer as it is generated; raises `GemchatError` on failure."""
        attempt = 0
        while True:
            started = False
            try:
                async for event in self._stream_once(request):
                    started = True
                    yield event
                return
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

    async def _stream_once(self, request: GenerationRequest) -> AsyncIterator[StreamEvent]:
        from google.genai import errors as genai_errors
        from google.genai import types

        thinking = None
        if request.thinking_level or request.include_thoughts:
            thinking = types.ThinkingConfig(
                thinking_level=request.thinking_level.upper() or None,
                include_thoughts=request.include_thoughts or None,
            )
        # Only what the user set is sent: newer models reject sampling parameters.
        config = types.GenerateContentConfig(
            system_instruction=_utf8(request.system_instruction) if request.system_instruction else None,
            temperature=request.temperature,
            thinking_config=thinking,
        )
        iterator = None
        try:
            async with asyncio.timeout(self.read_timeout):
                iterator = await self._get_client().aio.models.generate_content_stream(
                    model=request.model, contents=build_contents(request.history, request.follow_up), config=config
                )
            said_something = False
            finish_reason: str | None = None
            while True:
                try:
                    async with asyncio.timeout(self.read_timeout):
                        chunk = await anext(iterator)
                except StopAsyncIteration:
                    break
                for event in _events_from_chunk(chunk):
                    said_something = said_something or bool(event.text) or event.error is not None
                    finish_reason = event.finish_reason or finish_reason
                    yield event
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
            raise from_api_error(
                exc.code, exc.status, exc.message, exc.details, request.model, [self._api_key]
            ) from exc
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
                await iterator.aclose()

    async def generate_text(self, model: str, prompt: str) -> str:
        """A small non-streaming call (chat titles); failures raise `GemchatError`."""
        from google.genai import errors as genai_errors

        try:
            async with asyncio.timeout(self.read_timeout):
                response = await self._get_client().aio.models.generate_content(
                    model=model, contents=prompt
                )
        except genai_errors.APIError as exc:
            raise from_api_error(exc.code, exc.status, exc.message, exc.details, model,
                                 [self._api_key]) from exc
        except TimeoutError as exc:
            raise GemchatError(ErrorKind.TIMEOUT, "Gemini did not answer in time.") from exc
        return response.text or ""

    async def list_models(self) -> list[str]:
        """Names of the models that can chat (support generateContent), without `models/`."""
        names = []
        async for model in await self._get_client().aio.models.list():
            actions = model.supported_actions or []
            if "generateContent" in actions and model.name:
                names.append(model.name.removeprefix("models/"))
        return names

    async def aclose(self) -> None:
        """Closes the SDK's HTTP clients; left to the garbage collector it raises under qasync."""
        client, self._client = self._client, None
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

