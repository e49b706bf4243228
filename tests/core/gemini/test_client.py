"""The key, the client made from it, and the small calls: models, token counts; errors that name no key."""

from __future__ import annotations

import asyncio

import pytest

from gemchat.core.errors import ErrorKind, GemchatError, redact
from gemchat.core.gemini import GeminiBackend
from gemchat.core.gemini.sdk import is_network_error, load_sdk
from gemchat.core.messages import GenerationRequest, Role, StreamEvent
from tests.conftest import TEST_KEY
from tests.core.gemini.helpers import backend_for, collect, msg, request, texts
from tests.fakes.gemini_server import FakeGemini, Reply


def test_base_url_comes_from_the_environment_like_a_proxy(gemini: FakeGemini, monkeypatch) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini.base_url)
    gemini.enqueue(Reply.text(["via proxy"]))
    events = asyncio.run(collect(GeminiBackend(api_key=TEST_KEY), request("q")))
    assert texts(events) == "via proxy"


def test_invalid_key_says_so_without_showing_the_key(gemini: FakeGemini) -> None:
    backend = GeminiBackend(api_key="AIzaWRONGWRONGWRONGWRONGWRONG123", base_url=gemini.base_url)
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend, request("q")))
    assert info.value.kind is ErrorKind.AUTH
    assert "AIza" not in info.value.message + info.value.detail


def test_unknown_model_names_the_model(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.model_not_found("gemini-nope"))
    req = GenerationRequest(model="gemini-nope", history=[msg(0, Role.USER, "q")])
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini), req))
    assert info.value.kind is ErrorKind.MODEL and "gemini-nope" in info.value.message


def test_redact_masks_keys() -> None:
    assert "secret-value" not in redact("bad key secret-value here", ["secret-value"])
    assert "AIza" not in redact("key=AIzaSyA1234567890abcdefghijklmnop")


def test_models_that_can_chat_are_listed(gemini: FakeGemini) -> None:
    async def go() -> list[str]:
        backend = backend_for(gemini)
        try:
            return await backend.list_models()
        finally:
            await backend.aclose()

    names = asyncio.run(go())
    assert "gemini-3.6-flash" in names
    assert all("embedding" not in n for n in names)


def test_a_key_changed_while_the_client_is_being_made_is_the_one_used(gemini: FakeGemini) -> None:
    async def scenario() -> list[StreamEvent]:
        backend = GeminiBackend(api_key="an-old-key", base_url=gemini.base_url)
        making = asyncio.ensure_future(backend.prepare())  # made on a worker thread, with the old key
        await asyncio.sleep(0)
        backend.set_api_key(TEST_KEY)
        await making
        return await collect(backend, request("Hi"))

    gemini.enqueue(Reply.text(["right key"]))
    events = asyncio.run(scenario())
    assert texts(events) == "right key"
    assert [r.headers["x-goog-api-key"] for r in gemini.requests] == [TEST_KEY]


def test_count_tokens_and_the_models_input_limit(gemini: FakeGemini) -> None:
    backend = backend_for(gemini)

    async def ask() -> tuple[int, int | None, int | None]:
        try:
            return (await backend.count_tokens("gemini-3.6-flash", "x" * 400),
                    await backend.input_token_limit("gemini-3.6-flash"),
                    await backend.input_token_limit("gemini-nope"))
        finally:
            await backend.aclose()

    tokens, limit, unknown = asyncio.run(ask())
    assert tokens == 101
    assert limit == 1048576 and unknown is None
    (count,) = [r for r in gemini.requests if r.kind == "count"]
    assert count.path.endswith("/models/gemini-3.6-flash:countTokens")
    assert count.body == {"contents": [{"parts": [{"text": "x" * 400}], "role": "user"}]}


def test_a_client_replaced_while_being_made_is_closed_before_aclose_returns(gemini: FakeGemini) -> None:
    async def scenario() -> tuple[int, int]:
        await load_sdk()  # so the client is being made when the key changes
        backend = GeminiBackend(api_key="an-old-key", base_url=gemini.base_url)
        making = asyncio.ensure_future(backend.prepare())
        await asyncio.sleep(0)
        backend.set_api_key(TEST_KEY)
        replaced = len(backend.tasks)
        await making
        await backend.aclose()
        return replaced, len(backend.tasks)

    assert asyncio.run(scenario()) == (1, 0)


@pytest.mark.parametrize("module", ["httpx2._exceptions", "httpcore2._exceptions", "httpx._exceptions",
                                    "httpcore._exceptions", "aiohttp.client_exceptions", "h11._util"])
def test_a_failure_from_any_http_stack_the_sdk_may_use_is_a_network_error(module: str) -> None:
    # Such errors are not OSErrors: only their module says where they come from.
    failure = type("RemoteProtocolError", (Exception,), {"__module__": module})("peer closed")
    assert is_network_error(failure)
    assert is_network_error(ConnectionResetError()) and not is_network_error(ValueError("a bug"))
