"""One answer streamed through the real google-genai SDK from the loopback server: its events, its ends.

Each test checks what the server received and what gemchat made of the reply.
"""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from gemchat.core.errors import _FINISH_WORDS, CUT_OFF_REASONS, ErrorKind, GemchatError, from_finish_reason
from gemchat.core.messages import StreamEvent
from tests.conftest import TEST_KEY
from tests.core.gemini.helpers import backend_for, collect, request, texts
from tests.fakes.gemini_server import FakeGemini, Reply


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


def test_a_blocked_prompt_shows_geminis_own_words_with_the_key_masked(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.blocked("OTHER", message=f"Request   refused for key {TEST_KEY}."))
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini), request("q")))
    assert info.value.message == ("Gemini declined to answer this message (blocked: other). "
                                  "Gemini said: “Request refused for key [redacted].”")


@pytest.mark.parametrize("reason", sorted(_FINISH_WORDS))
def test_every_early_finish_keeps_the_text_and_its_usage_and_says_why_in_words(gemini: FakeGemini, reason: str) -> None:
    gemini.enqueue(Reply.text(["Some text"], finish_reason=reason))
    events = asyncio.run(collect(backend_for(gemini), request("q")))
    assert texts(events) == "Some text"
    last = events[-1]
    assert last.finish_reason == reason and last.usage and last.usage["total_token_count"] > 0
    assert last.error is not None and last.error.message.startswith("Gemini ")
    assert reason not in last.error.message and "_" not in last.error.message  # words, not the enum's name


def test_every_finish_reason_the_sdk_knows_has_words_or_is_a_normal_end() -> None:
    from google.genai import types

    normal = {"STOP", "FINISH_REASON_UNSPECIFIED"}
    assert {m.name for m in types.FinishReason} <= normal | CUT_OFF_REASONS | set(_FINISH_WORDS)


def test_an_early_finish_adds_geminis_finish_message_with_the_key_masked() -> None:
    said = from_finish_reason("OTHER", f"  The model\nran out of road ({TEST_KEY}). ", [TEST_KEY])
    assert said.message == ("Gemini stopped this answer early, and gave no reason. Retry. "
                            "Gemini said: “The model ran out of road ([redacted]).”")


def test_the_sdk_drops_the_gemini_apis_finish_message_so_gemchats_own_words_show(gemini: FakeGemini) -> None:
    """google-genai 3.6 maps `finishMessage` only from Vertex AI (`_Candidate_from_mldev` leaves it out).

    gemchat reads `candidate.finish_message` all the same: when this test fails,
    the SDK passes it on, and the test above shows what the user then reads.
    """
    gemini.enqueue(Reply.text(["Partial"], finish_reason="OTHER", finish_message="The model ran out of road."))
    events = asyncio.run(collect(backend_for(gemini), request("q")))
    assert events[-1].error is not None
    assert events[-1].error.message == "Gemini stopped this answer early, and gave no reason. Retry."


def test_a_continuation_finish_is_a_cut_off_answer_not_an_error(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["Long answer, part one"], finish_reason="CONTINUATION"))
    events = asyncio.run(collect(backend_for(gemini), request("q")))
    assert events[-1].finish_reason == "CONTINUATION" and events[-1].error is None


def test_a_stream_that_ends_without_a_finish_reason_keeps_its_text_as_cut_off(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["Half of ", "an answer"], finish_reason=None))
    events = asyncio.run(collect(backend_for(gemini), request("q")))
    assert texts(events) == "Half of an answer"
    assert events[-1].finish_reason == "UNFINISHED" and events[-1].error is None
    assert len([r for r in gemini.requests if r.kind == "stream"]) == 1  # text was shown: not asked again


def test_vertex_ai_switches_in_the_environment_do_not_send_the_gemini_key_elsewhere(
        gemini: FakeGemini, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_GENAI_USE_ENTERPRISE", "1")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "someone-elses-project")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "us-central1")
    gemini.enqueue(Reply.text(["Still the Gemini API"]))
    events = asyncio.run(collect(backend_for(gemini), request("q")))
    assert texts(events) == "Still the Gemini API"
    sent = gemini.requests[-1]
    # The Gemini API's path (the SDK's default API version), not Vertex AI's /v1beta1/projects/.../publishers/google/.
    assert re.fullmatch(r"/v1(beta)?/models/gemini-3\.6-flash:streamGenerateContent", sent.path)
    assert sent.headers["x-goog-api-key"] == TEST_KEY
