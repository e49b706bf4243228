"""google-genai, imported once and off the UI thread, and the HTTP trouble it can raise.

The SDK is imported on first use, not at import time: it costs a second of
start-up that the window should not wait for.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import threading

_sdk_ready = False
_FIRST_CONNECTION_MODULES = ("anyio._core._sockets", "anyio._core._streams", "anyio.streams.memory",
                             "anyio.streams.stapled")
"""What the HTTP stack imports at its first connection; imported with the SDK, off the UI thread."""


_sdk_lock = threading.Lock()


def load_sdk_now() -> None:
    """`load_sdk` for a thread of one's own (the app warms it while the user types).

    The warm-up and a first request can both get here at once, on two worker
    threads; two imports of the SDK running side by side fail half-way (pydantic
    sees a partly imported module), so the second waits for the first.
    """
    global _sdk_ready
    with _sdk_lock:
        if not _sdk_ready:
            _import_sdk_modules()
            _sdk_ready = True


async def load_sdk() -> None:
    """Imports google-genai on a worker thread, once: on the UI thread it would freeze the
    window for half a second. Every call into the SDK awaits this first."""
    if not _sdk_ready:
        await asyncio.get_running_loop().run_in_executor(None, load_sdk_now)


def _import_sdk_modules() -> None:
    """Imports the SDK and builds the pydantic models a stream uses.

    Built lazily, those models cost ~0.4 s on the UI thread when the first answer
    starts to stream; here they are built on the worker thread that imports.
    """
    import google.genai
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


def is_network_error(exc: BaseException) -> bool:
    """Connection trouble from whichever HTTP stack the SDK uses (httpx2 and httpcore2 since
    google-genai 3, httpx and httpcore before, aiohttp when installed)."""
    module = type(exc).__module__.split(".")[0]
    return module in _HTTP_STACKS or isinstance(exc, (ConnectionError, OSError))


_HTTP_STACKS = frozenset({"httpx", "httpx2", "httpcore", "httpcore2", "aiohttp", "h11"})
