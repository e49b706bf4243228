"""Failed attempts tried again, or not: quota and overload before the first word, the server's RetryInfo."""

from __future__ import annotations

import asyncio
import time

import pytest

from gemchat.core.errors import ErrorKind, GemchatError, retry_delay
from gemchat.core.messages import StreamEvent
from tests.core.gemini.helpers import RecordedSleep, backend_for, collect, request, texts
from tests.fakes.gemini_server import FakeGemini, Reply


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


def test_retry_delay_is_read_from_retry_info() -> None:
    body = {"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12.5s"}]}}
    assert retry_delay(body) == 12.5
    assert retry_delay({"error": {"details": []}}) is None


def test_a_used_up_daily_quota_is_not_retried_and_the_user_is_told_it_resets_tomorrow(gemini: FakeGemini) -> None:
    sleep = RecordedSleep()
    gemini.enqueue(Reply.quota(retry_delay="20s", quota_id="GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                               quota_value="250"), Reply.text(["never asked for"]))
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini, sleep=sleep), request("q", model="gemini-3.6-flash")))
    assert info.value.kind is ErrorKind.QUOTA
    assert info.value.message == ("This API key's daily quota for “gemini-3.6-flash” is used up (free tier). It resets "
                                  "at midnight Pacific time; until then choose another model, or raise the project's "
                                  "limits.")
    assert sleep.waits == [] and len([r for r in gemini.requests if r.kind == "stream"]) == 1


def test_a_model_the_keys_tier_may_not_use_is_not_retried_and_the_user_is_told_to_choose_another(
        gemini: FakeGemini) -> None:
    sleep = RecordedSleep()
    gemini.enqueue(Reply.quota(retry_delay="20s", quota_id="GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                               quota_value="0"))
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini, sleep=sleep), request("q", model="gemini-3-pro-preview")))
    assert info.value.message.startswith("This API key's free tier has no quota for “gemini-3-pro-preview”. "
                                         "Choose another model")
    assert sleep.waits == [] and len([r for r in gemini.requests if r.kind == "stream"]) == 1


def test_a_per_minute_quota_is_still_retried_after_the_servers_delay(gemini: FakeGemini) -> None:
    sleep = RecordedSleep()
    gemini.enqueue(Reply.quota(retry_delay="7s", quota_id="GenerateRequestsPerMinutePerProjectPerModel"),
                   Reply.text(["after the wait"]))
    events = asyncio.run(collect(backend_for(gemini, sleep=sleep), request("q")))
    assert sleep.waits == [7.0] and texts(events) == "after the wait"
