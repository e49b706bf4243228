"""GeminiBackend through the real google-genai SDK against the loopback server."""

from __future__ import annotations

import asyncio
import time

import pytest

from gemchat.core.backend import GeminiBackend, GenerationRequest, StreamEvent, build_contents
from gemchat.core.errors import ErrorKind, GemchatError, redact, retry_delay
from gemchat.core.messages import Message, Role, Status
from tests.conftest import TEST_KEY
from tests.fakes.gemini_server import FakeGemini, Reply


def msg(mid: int, role: Role, text: str, status: Status = Status.COMPLETE) -> Message:
    return Message(id=mid, chat_id=1, role=role, text=text, status=status, created_at="")


def request(*texts: str, system: str | None = None) -> GenerationRequest:
    history = [msg(i, Role.USER if i % 2 == 0 else Role.MODEL, t) for i, t in enumerate(texts)]
    return GenerationRequest(model="gemini-3.6-flash", history=history, system_instruction=system)


async def collect(backend: GeminiBackend, req: GenerationRequest) -> list[StreamEvent]:
    events = []
    try:
        async for event in backend.stream(req):
            events.append(event)
    finally:
        await backend.aclose()
    return events


def backend_for(server: FakeGemini, **kw: object) -> GeminiBackend:
    kw.setdefault("backoff", 0.01)
    return GeminiBackend(api_key=TEST_KEY, base_url=server.base_url, **kw)  # type: ignore[arg-type]


def texts(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events)


def test_answer_streams_in_pieces_with_history_and_system_instruction(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["Hel", "lo, ", "world"]))
    events = asyncio.run(collect(backend_for(gemini), request("Hi", "Hey!", "Say hello", system="Be brief")))
    assert [e.text for e in events if e.text] == ["Hel", "lo, ", "world"]
    assert events[-1].finish_reason == "STOP" and events[-1].usage
    body = gemini.requests[-1].body
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][2]["parts"][0]["text"] == "Say hello"
    assert body["systemInstruction"]["parts"][0]["text"] == "Be brief"
    assert gemini.requests[-1].headers["x-goog-api-key"] == TEST_KEY


def test_base_url_comes_from_the_environment_like_a_proxy(gemini: FakeGemini, monkeypatch) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini.base_url)
    gemini.enqueue(Reply.text(["via proxy"]))
    events = asyncio.run(collect(GeminiBackend(api_key=TEST_KEY), request("q")))
    assert texts(events) == "via proxy"


def test_quota_error_is_retried_after_the_servers_retry_delay(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.quota(retry_delay="0.3s"), Reply.text(["ok"]))
    started = time.monotonic()
    events = asyncio.run(collect(backend_for(gemini), request("q")))
    assert time.monotonic() - started >= 0.3
    assert events[0].retry_in == pytest.approx(0.3)
    assert events[0].error is not None and events[0].error.kind is ErrorKind.QUOTA
    assert texts(events) == "ok"


def test_repeated_quota_errors_end_in_a_quota_message(gemini: FakeGemini) -> None:
    gemini.enqueue(*[Reply.quota(retry_delay="0.05s") for _ in range(5)])
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini, max_retries=2), request("q")))
    assert info.value.kind is ErrorKind.QUOTA
    assert "quota" in info.value.message.lower()
    assert len([r for r in gemini.requests if r.kind == "stream"]) == 3


class RecordedSleep:
    """The backend's `sleep` (a constructor parameter): records each wait and returns at once,
    so a test can see what would be waited for without waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def test_a_quota_wait_of_an_hour_is_not_waited_for_and_the_user_is_told(gemini: FakeGemini) -> None:
    """A daily quota's RetryInfo says "come back in an hour": waiting that long would look like a hang."""
    sleep = RecordedSleep()
    gemini.enqueue(Reply.quota(retry_delay="3600s"), Reply.text(["never asked for"]))
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini, sleep=sleep), request("q")))
    assert info.value.kind is ErrorKind.QUOTA
    assert "Gemini asked to wait 3600 s" in info.value.message
    assert sleep.waits == []
    assert len([r for r in gemini.requests if r.kind == "stream"]) == 1


@pytest.mark.parametrize(("asked", "waited"), [("60s", [60.0]), ("60.5s", [])])
def test_the_longest_quota_wait_honoured_is_one_minute(gemini: FakeGemini, asked: str, waited: list[float]) -> None:
    """Up to 60 s the server's delay is waited for, then the request is sent again; beyond, it is reported."""
    sleep = RecordedSleep()
    gemini.enqueue(Reply.quota(retry_delay=asked), Reply.text(["after the wait"]))
    try:
        events = asyncio.run(collect(backend_for(gemini, sleep=sleep), request("q")))
    except GemchatError as error:
        assert error.kind is ErrorKind.QUOTA
        events = []
    assert sleep.waits == waited
    assert texts(events) == ("after the wait" if waited else "")
    assert [e.retry_in for e in events if e.retry_in is not None] == waited


def test_overloaded_server_is_retried_with_backoff(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.unavailable(), Reply.internal(), Reply.text(["fine"]))
    events = asyncio.run(collect(backend_for(gemini), request("q")))
    assert texts(events) == "fine"
    assert [e.error.kind for e in events if e.retry_in is not None] == [ErrorKind.SERVER] * 2


def test_no_retry_once_text_has_been_shown(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["part one ", "two"], drop_after=1), Reply.text(["never"]))
    seen: list[StreamEvent] = []

    async def go() -> None:
        backend = backend_for(gemini)
        try:
            async for event in backend.stream(request("q")):
                seen.append(event)
        finally:
            await backend.aclose()

    with pytest.raises(GemchatError) as info:
        asyncio.run(go())
    assert info.value.kind is ErrorKind.NETWORK
    assert texts(seen) == "part one "
    assert len([r for r in gemini.requests if r.kind == "stream"]) == 1


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


def test_stalled_stream_ends_as_an_error_after_the_read_timeout(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["first", "second"], stall_after=1, stall_seconds=20))
    seen: list[StreamEvent] = []

    async def go() -> None:
        backend = backend_for(gemini, read_timeout=0.5)
        try:
            async for event in backend.stream(request("q")):
                seen.append(event)
        finally:
            await backend.aclose()

    started = time.monotonic()
    with pytest.raises(GemchatError) as info:
        asyncio.run(go())
    assert info.value.kind is ErrorKind.TIMEOUT
    assert 0.4 < time.monotonic() - started < 5
    assert texts(seen) == "first"


def test_safety_stop_keeps_the_text_and_reports_the_reason(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["Some text"], finish_reason="SAFETY"))
    events = asyncio.run(collect(backend_for(gemini), request("q")))
    assert texts(events) == "Some text"
    assert events[-1].error is not None and events[-1].error.kind is ErrorKind.SAFETY


def test_blocked_prompt_is_reported(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.blocked("SAFETY"))
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini), request("q")))
    assert info.value.kind is ErrorKind.SAFETY


def test_malformed_event_is_an_error_not_a_crash(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["good"], malformed_after=1))
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini), request("q")))
    assert info.value.kind is ErrorKind.SERVER


def test_thought_parts_are_kept_apart_from_the_answer(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["answer"], thoughts=["pondering"]))
    events = asyncio.run(collect(backend_for(gemini), request("q")))
    assert "".join(e.thought for e in events) == "pondering"
    assert texts(events) == "answer"


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


def test_contents_skip_failed_answers_and_merge_repeated_questions() -> None:
    history = [
        msg(1, Role.USER, "first"),
        msg(2, Role.MODEL, "", Status.ERROR),
        msg(3, Role.USER, "again"),
        msg(4, Role.MODEL, "half", Status.INTERRUPTED),
        msg(5, Role.USER, "next"),
    ]
    assert build_contents(history) == [
        {"role": "user", "parts": [{"text": "first"}, {"text": "again"}]},
        {"role": "model", "parts": [{"text": "half"}]},
        {"role": "user", "parts": [{"text": "next"}]},
    ]


def test_redact_masks_keys() -> None:
    assert "secret-value" not in redact("bad key secret-value here", ["secret-value"])
    assert "AIza" not in redact("key=AIzaSyA1234567890abcdefghijklmnop")


def test_retry_delay_is_read_from_retry_info() -> None:
    body = {"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12.5s"}]}}
    assert retry_delay(body) == 12.5
    assert retry_delay({"error": {"details": []}}) is None


def test_lone_surrogates_anywhere_in_a_request_go_out_as_replacement_characters(gemini: FakeGemini) -> None:
    """Stored messages are already clean, but a request may be built from anything: it must not crash."""
    gemini.enqueue(Reply.text(["ok"]))
    req = GenerationRequest(model="gemini-3.6-flash", history=[msg(0, Role.USER, "bad \ud800 text")],
                            system_instruction="be \udcff brief", follow_up="go \ud83d on")
    assert texts(asyncio.run(collect(backend_for(gemini), req))) == "ok"
    body = gemini.requests[-1].body
    assert body["contents"][0]["parts"][0]["text"] == "bad \ufffd text"
    assert body["contents"][-1]["parts"][0]["text"] == "go \ufffd on"
    assert body["systemInstruction"]["parts"][0]["text"] == "be \ufffd brief"


@pytest.mark.parametrize("reply", [Reply.text([""]), Reply.text([""], thoughts=["only thinking"]),
                                   Reply.text([""], finish_reason="MAX_TOKENS")], ids=["blank", "thoughts only",
                                                                                     "length limit"])
def test_an_answer_without_a_word_is_an_error_not_a_blank_success(gemini: FakeGemini, reply: Reply) -> None:
    gemini.enqueue(reply)
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini, max_retries=0), request("q")))
    assert info.value.kind is ErrorKind.EMPTY
    assert ("length limit" if reply.finish_reason == "MAX_TOKENS" else "empty answer") in info.value.message
    assert len([r for r in gemini.requests if r.kind == "stream"]) == 1  # not retried behind the user's back


def test_a_long_chats_history_goes_out_whole_and_in_order(gemini: FakeGemini) -> None:
    # Sent as JSON gemchat builds off the event loop (wire_contents), not as the SDK's models.
    texts_sent = [f"message {i} " + "é" * (i % 7) for i in range(2001)]
    gemini.enqueue(Reply.text(["ok"]))
    events = asyncio.run(collect(backend_for(gemini), request(*texts_sent)))
    assert texts(events) == "ok"
    contents = gemini.requests[-1].body["contents"]
    assert [c["parts"][0]["text"] for c in contents] == texts_sent
    assert [c["role"] for c in contents] == ["user", "model"] * 1000 + ["user"]


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


def test_a_long_answer_is_not_kept_chunk_by_chunk_while_it_streams(gemini: FakeGemini) -> None:
    # The SDK's automatic function calling (off: gemchat passes no functions) kept every chunk's
    # Content until the end; the garbage collector's passes over them paused the window.
    import gc

    from google.genai import types

    gemini.enqueue(Reply.text([f"piece {i} " for i in range(1500)]))
    live: list[int] = []

    async def scenario() -> None:
        backend = backend_for(gemini)
        try:
            async for event in backend.stream(request("Hi")):
                if event.text == "piece 1000 ":
                    live.append(sum(isinstance(o, types.Content) for o in gc.get_objects()))
        finally:
            await backend.aclose()

    asyncio.run(scenario())
    assert live and live[0] < 50, f"{live[0]} Content objects alive after 1,000 chunks"
