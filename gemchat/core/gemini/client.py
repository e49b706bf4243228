"""`GeminiBackend`: the one object the rest of gemchat talks to Gemini through.

It holds the key and the SDK's client made from it, and answers the small
calls itself (models, token counts, titles); streaming an answer is
`gemchat.core.gemini.stream`'s job, uploads `gemchat.core.gemini.uploads`'.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from gemchat.core.errors import ErrorKind, GemchatError, from_api_error, redact
from gemchat.core.gemini.sdk import is_network_error, load_sdk
from gemchat.core.gemini.stream import stream_answer
from gemchat.core.gemini.wire import utf8
from gemchat.core.messages import GenerationRequest, StreamEvent
from gemchat.tasks import Tasks

if TYPE_CHECKING:
    from google import genai

log = logging.getLogger(__name__)


NOT_FOR_CHAT = re.compile(r"embedding|tts|aqa|imagen|veo|native-audio|-live\b")
"""Models the API lists for generateContent that are made for something other than a chat."""

class GeminiBackend:
    """Streams answers from the Gemini API through the `google-genai` SDK.

    Attributes:
        read_timeout: seconds without a byte before a stream is given up.
        max_retries: retries of 429/5xx/connection failures before the first chunk.
        backoff: seconds before the first retry of a failure the server gave no delay for.
        sleep: how a retry or a poll waits (tests record the waits instead).
        processing_poll: seconds between checks of an uploaded video still being processed.
        processing_limit: seconds a video may take to process before the answer gives up.
        tasks: the backend's own background work (closing an old client, an upload); `aclose` waits for it.
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
        self.backoff = backoff
        self.sleep = sleep
        self._client: genai.Client | None = None
        self._making: asyncio.Future[genai.Client] | None = None  # the client, being made on a worker thread
        self.processing_poll = 2.0
        self.processing_limit = 600.0
        self._token_limits: dict[str, int] = {}
        self._thinks: dict[str, bool] = {}
        # Generation settings each model refused (400 naming them), left out of its later requests this run.
        self.refused_settings: dict[str, set[str]] = {}
        self.tasks = Tasks()

    # -- the key and the client ---------------------------------------------------------

    def set_api_key(self, api_key: str) -> None:
        """Use another key from the next request on (the user pasted a new one)."""
        if api_key != self._api_key:
            self._api_key = api_key
            self._forget_client()

    def _forget_client(self) -> None:
        old, self._client = self._client, None
        making, self._making = self._making, None
        if old is not None:
            self.tasks.start(self._close_client(old))
        if making is not None:  # still being made: closed once it is
            self.tasks.start(self._close_when_made(making))

    def _make_client(self, api_key: str) -> genai.Client:
        from google import genai
        from google.genai import types

        # base_url None lets the SDK read GOOGLE_GEMINI_BASE_URL itself.
        options = types.HttpOptions(base_url=self._base_url) if self._base_url else None
        # vertexai=False: gemchat holds a Gemini API key, and speaks the Gemini Developer API. Left
        # unset, GOOGLE_GENAI_USE_VERTEXAI or GOOGLE_GENAI_USE_ENTERPRISE in the environment (set
        # for some other tool) would send that key to Vertex AI, which refuses it.
        return genai.Client(api_key=api_key, http_options=options, vertexai=False)

    async def client(self) -> genai.Client:
        """The SDK's client, made once on a worker thread: making one loads the system's CA
        certificates twice (60 ms), which on the event loop would freeze the window at the first send."""
        await load_sdk()
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
        await self.client()

    def redact(self, text: str) -> str:
        """`text` with the key, and anything shaped like one, masked: fit for the user and the log."""
        return redact(text, [self._api_key])

    def api_error(self, exc: Any, model: str) -> GemchatError:
        """What the user is told of an HTTP error from the API (the SDK's `APIError`)."""
        return from_api_error(exc.code, exc.status, exc.message, exc.details, model, [self._api_key])

    # -- the calls ------------------------------------------------------------------------

    def stream(self, request: GenerationRequest) -> AsyncGenerator[StreamEvent, None]:
        """Yields the answer as it is generated; raises `GemchatError` on failure (see `stream_answer`)."""
        return stream_answer(self, request)

    @contextlib.asynccontextmanager
    async def _side_call(self, model: str, too_slow: str) -> AsyncIterator[None]:
        """A small request's failures in words: refused (the API's error), `too_slow`, or no connection.

        No connection covers a cut one, and the client closed under the call (the key forgotten).
        """
        await load_sdk()
        from google.genai import errors as genai_errors

        try:
            async with asyncio.timeout(self.read_timeout):
                yield
        except genai_errors.APIError as exc:
            raise self.api_error(exc, model) from exc
        except TimeoutError as exc:
            raise GemchatError(ErrorKind.TIMEOUT, too_slow) from exc
        except Exception as exc:
            if is_network_error(exc):
                raise GemchatError(ErrorKind.NETWORK, "No connection to Gemini.", type(exc).__name__) from exc
            raise

    async def generate_text(self, model: str, prompt: str) -> str:
        """A small non-streaming call (chat titles); failures raise `GemchatError`."""
        async with self._side_call(model, "Gemini did not answer in time."):
            response = await (await self.client()).aio.models.generate_content(model=model, contents=prompt)
        return response.text or ""

    async def list_models(self) -> list[str]:
        """Names of the models that can chat, without `models/`.

        That is, they support generateContent and are not made for something
        else (embeddings, speech, Imagen and Veo, live audio; `NOT_FOR_CHAT`).
        Gemini's image models are chat models that answer with pictures: listed.
        Each model's input token limit (for `input_token_limit`) and whether it
        thinks (for `model_thinks`) are kept.
        """
        names = []
        async with self._side_call("", "Gemini did not list its models in time."):
            async for model in await (await self.client()).aio.models.list():
                actions = model.supported_actions or []
                if "generateContent" in actions and model.name:
                    name = model.name.removeprefix("models/")
                    if model.input_token_limit:
                        self._token_limits[name] = model.input_token_limit
                    if model.thinking is not None:
                        self._thinks[name] = model.thinking
                    if not NOT_FOR_CHAT.search(name):
                        names.append(name)
        return names

    def model_thinks(self, model: str) -> bool | None:
        """Whether the model list says `model` thinks; None until listed, or when it does not say."""
        return self._thinks.get(model.removeprefix("models/"))

    async def input_token_limit(self, model: str) -> int | None:
        """How many tokens `model` takes in one request (`inputTokenLimit` of `models.list`), if known."""
        if not self._token_limits:
            await self.list_models()
        return self._token_limits.get(model.removeprefix("models/"))

    async def count_tokens(self, model: str, text: str) -> int:
        """Tokens `text` costs with `model` (the API's `countTokens`); raises `GemchatError`."""
        async with self._side_call(model, "Gemini did not count the tokens in time."):
            response = await (await self.client()).aio.models.count_tokens(model=model, contents=utf8(text))
        return response.total_tokens or 0

    # -- closing ----------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Closes the SDK's HTTP clients, old ones too; left to the garbage collector they raise under qasync."""
        client, self._client = self._client, None
        making, self._making = self._making, None
        if making is not None:
            with contextlib.suppress(Exception):
                client = client or await making
        if client is not None:
            await self._close_client(client)
        await self.tasks.wait()

    async def _close_when_made(self, making: asyncio.Future[genai.Client]) -> None:
        """Closes a client that was still being made when the key changed."""
        try:
            client = await asyncio.shield(making)  # another caller may be waiting for it too
        except Exception:  # it failed to be made: nothing to close
            return
        await self._close_client(client)

    @staticmethod
    async def _close_client(client: genai.Client) -> None:
        try:
            await client.aio.aclose()
            client.close()
        except Exception:  # closing must never stop the app from quitting
            log.exception("closing the Gemini client failed")
