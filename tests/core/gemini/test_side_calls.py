"""The backend's small calls beside the answer: a chat's title and the context meter's token count.

Against the loopback fake Gemini (tests/fakes/gemini_server.py) with the real
SDK: what the user sees is a title or a count, or, when Gemini refuses or is
silent, a GemchatError that says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from gemchat.core.errors import ErrorKind, GemchatError
from gemchat.core.gemini import GeminiBackend
from tests.conftest import TEST_KEY
from tests.fakes.gemini_server import FakeGemini, Reply


def call(gemini: FakeGemini, use: Callable[[GeminiBackend], Awaitable[Any]], key: str = TEST_KEY,
         read_timeout: float = 5.0) -> Any:
    backend = GeminiBackend(api_key=key, base_url=gemini.base_url, read_timeout=read_timeout)

    async def run() -> Any:
        try:
            return await use(backend)
        finally:
            await backend.aclose()

    return asyncio.run(run())


def test_a_title_is_the_text_of_a_plain_generate_call(gemini: FakeGemini) -> None:
    gemini.enqueue_unary(Reply.text(["Trip ", "to Paris"]))
    assert call(gemini, lambda b: b.generate_text("gemini-3.6-flash", "Title this")) == "Trip to Paris"
    (asked,) = [r for r in gemini.requests if r.kind == "generate"]
    assert asked.path.endswith("/models/gemini-3.6-flash:generateContent")
    assert asked.body["contents"][0]["parts"][0]["text"] == "Title this"


@pytest.mark.parametrize("what", ["title", "token count"])
def test_a_key_gemini_refuses_says_so_for_side_calls_too(gemini: FakeGemini, what: str) -> None:
    with pytest.raises(GemchatError) as refused:
        call(gemini, (lambda b: b.generate_text("gemini-3.6-flash", "t")) if what == "title"
             else (lambda b: b.count_tokens("gemini-3.6-flash", "t")), key="AIza-wrong-key-0000000000000")
    assert refused.value.kind is ErrorKind.AUTH
    assert "API key was not accepted" in refused.value.message
    assert "AIza-wrong" not in refused.value.detail  # the key never reaches the log


def test_a_silent_gemini_ends_a_title_call_as_a_timeout(gemini: FakeGemini) -> None:
    gemini.enqueue_unary(Reply.text(["late"], first_byte_delay=3))
    with pytest.raises(GemchatError) as silent:
        call(gemini, lambda b: b.generate_text("gemini-3.6-flash", "t"), read_timeout=0.3)
    assert (silent.value.kind, silent.value.message) == (ErrorKind.TIMEOUT, "Gemini did not answer in time.")
    gemini.release()


def test_a_title_call_whose_connection_is_cut_says_there_is_no_connection(gemini: FakeGemini) -> None:
    gemini.enqueue_unary(Reply.text(["A title"], drop_after=0))
    with pytest.raises(GemchatError) as cut:
        call(gemini, lambda b: b.generate_text("gemini-3.6-flash", "t"))
    assert (cut.value.kind, cut.value.message) == (ErrorKind.NETWORK, "No connection to Gemini.")


def test_a_token_count_without_a_connection_says_so(gemini: FakeGemini) -> None:
    base_url = gemini.base_url
    gemini.stop()  # nothing listens there any more
    backend = GeminiBackend(api_key=TEST_KEY, base_url=base_url, read_timeout=2.0)

    async def run() -> int:
        try:
            return await backend.count_tokens("gemini-3.6-flash", "x")
        finally:
            await backend.aclose()

    with pytest.raises(GemchatError) as offline:
        asyncio.run(run())
    assert (offline.value.kind, offline.value.message) == (ErrorKind.NETWORK, "No connection to Gemini.")
    assert offline.value.detail == "ConnectError"  # the kind of failure, for the log


def test_a_silent_gemini_ends_a_token_count_as_a_timeout(gemini: FakeGemini) -> None:
    gemini.count_delay = 3.0
    with pytest.raises(GemchatError) as silent:
        call(gemini, lambda b: b.count_tokens("gemini-3.6-flash", "x"), read_timeout=0.3)
    assert (silent.value.kind, silent.value.message) == (ErrorKind.TIMEOUT, "Gemini did not count the tokens in time.")
    gemini.release()


def test_a_count_of_nothing_is_zero_though_the_service_leaves_the_field_out(gemini: FakeGemini) -> None:
    gemini.count_override = 0
    assert call(gemini, lambda b: b.count_tokens("gemini-3.6-flash", "")) == 0


@pytest.mark.parametrize("what", ["title", "token count"])
def test_a_side_call_to_a_model_gemini_does_not_have_names_that_model(gemini: FakeGemini, what: str) -> None:
    gemini.enqueue_unary(Reply.model_not_found("gemini-0-gone"))
    with pytest.raises(GemchatError) as missing:
        call(gemini, (lambda b: b.generate_text("gemini-0-gone", "t")) if what == "title"
             else (lambda b: b.count_tokens("gemini-0-gone", "t")))
    assert missing.value.kind is ErrorKind.MODEL and "gemini-0-gone" in missing.value.message


def test_a_title_call_answered_with_no_text_gives_an_empty_title(gemini: FakeGemini) -> None:
    gemini.enqueue_unary(Reply.blocked("SAFETY"))
    assert call(gemini, lambda b: b.generate_text("gemini-3.6-flash", "Title this")) == ""


def test_a_models_limit_is_found_with_or_without_the_models_prefix(gemini: FakeGemini) -> None:
    async def both(backend: GeminiBackend) -> tuple[int | None, int | None]:
        return (await backend.input_token_limit("gemini-3.6-flash"),
                await backend.input_token_limit("models/gemini-3.6-flash"))

    plain, prefixed = call(gemini, both)
    assert plain is not None and plain > 0 and prefixed == plain


def test_text_shown_or_logged_never_holds_the_key_whatever_it_looks_like() -> None:
    backend = GeminiBackend(api_key="proxy-token-not-like-a-google-key", base_url="http://127.0.0.1:9")
    assert "proxy-token" not in backend.redact("refused proxy-token-not-like-a-google-key at the proxy")
