"""One answer streamed through the real google-genai SDK from the loopback server: its events, its ends.

Each test checks what the server received and what gemchat made of the reply.
"""

from __future__ import annotations

import asyncio
import gc
import re
import sys
import time
from collections.abc import AsyncIterator

import pytest

from gemchat.core.errors import _FINISH_WORDS, CUT_OFF_REASONS, ErrorKind, GemchatError, from_finish_reason
from gemchat.core.grounding import cite, search_queries, sources
from gemchat.core.messages import GenerationRequest, StreamEvent
from tests.conftest import TEST_KEY
from tests.core.gemini.helpers import backend_for, collect, question, request, stream_bodies, texts
from tests.fakes.gemini_server import FakeGemini, Reply, grounding_for


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


def test_a_slow_stream_that_never_pauses_longer_than_the_read_timeout_is_never_cut(gemini: FakeGemini) -> None:
    # Each gap (0.25 s) is within the read timeout (0.6 s); the whole answer (1.25 s) is not.
    gemini.enqueue(Reply.text(["a", "b", "c", "d", "e"], chunk_delay=0.25))
    events = asyncio.run(collect(backend_for(gemini, read_timeout=0.6), request("q")))
    assert texts(events) == "abcde"


def test_malformed_event_is_an_error_not_a_crash(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["good"], malformed_after=1))
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini), request("q")))
    assert info.value.kind is ErrorKind.SERVER


def test_a_malformed_event_under_a_loop_without_a_finalizer_closes_the_stream_quietly_in_its_task(
        gemini: FakeGemini) -> None:
    # qasync installs no async generator finalizer: the SDK's half-read HTTP stream must still be
    # closed, by the task that read it, with nothing printed as "Exception ignored in ...".
    gemini.enqueue(Reply.text(["good"], malformed_after=1))
    ignored: list[object] = []

    async def as_under_qasync() -> None:
        sys.set_asyncgen_hooks(firstiter=None, finalizer=None)
        previous, sys.unraisablehook = sys.unraisablehook, ignored.append
        try:
            with pytest.raises(GemchatError) as info:
                await collect(backend_for(gemini), request("q"))
            assert info.value.kind is ErrorKind.SERVER
            gc.collect()
        finally:
            sys.unraisablehook = previous

    asyncio.run(as_under_qasync())
    assert ignored == []
    gemini.enqueue(Reply.text(["next answer"]))
    assert texts(asyncio.run(collect(backend_for(gemini), request("q")))) == "next answer"


@pytest.mark.parametrize("loop_finalizer", [True, False], ids=["asyncio", "as under qasync"])
def test_other_async_generators_dropped_after_a_stream_are_still_closed_as_python_would(
        gemini: FakeGemini, loop_finalizer: bool) -> None:
    # The finalizer that adopts the SDK's dropped streams passes every other generator on: to the
    # loop's own finalizer, or, when there is none, closes it at once.
    closed: list[str] = []
    ignored: list[object] = []

    async def numbers() -> AsyncIterator[int]:
        try:
            yield 1
            yield 2
        finally:
            if loop_finalizer:
                await asyncio.sleep(0)  # only a loop's finalizer can run this
            closed.append("closed")

    async def drop_one() -> None:
        if not loop_finalizer:
            sys.set_asyncgen_hooks(firstiter=None, finalizer=None)
        gemini.enqueue(Reply.text(["answer"]))
        await collect(backend_for(gemini), request("q"))  # installs the adopting finalizer
        previous, sys.unraisablehook = sys.unraisablehook, ignored.append
        try:
            numbers_so_far = numbers()
            assert await numbers_so_far.__anext__() == 1
            del numbers_so_far
            gc.collect()
            await asyncio.sleep(0.05)
        finally:
            sys.unraisablehook = previous

    asyncio.run(drop_one())
    assert (closed, ignored) == (["closed"], [])


def test_thought_parts_are_kept_apart_from_the_answer(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["answer"], thoughts=["pondering"]))
    events = asyncio.run(collect(backend_for(gemini), request("q")))
    assert "".join(e.thought for e in events) == "pondering"
    assert texts(events) == "answer"


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


# -- Google Search grounding ---------------------------------------------------------------


def test_grounding_turns_on_the_google_search_tool_and_brings_citations(gemini: FakeGemini) -> None:
    text = "Zürich liegt am See. 東京 is big! Plain end."
    gemini.enqueue(Reply.text([text[:12], text[12:]], grounding=grounding_for(text, queries=["zürich see"])))
    request = GenerationRequest("gemini-3.6-flash", [question(1, "Where?")], google_search=True)
    events = asyncio.run(collect(backend_for(gemini), request))
    (body,) = stream_bodies(gemini)
    assert body["tools"] == [{"googleSearch": {}}]
    (grounding,) = [e.grounding for e in events if e.grounding]
    assert search_queries(grounding) == ["zürich see"]
    assert next(s.title for s in sources(grounding)) == "Example — Wikipedia"
    assert grounding["search_entry_point"]["rendered_content"].startswith("<style>")
    cited = cite("".join(e.text for e in events), grounding)
    # Byte offsets, converted: each marker lands right after its sentence, not inside a word.
    assert cited.startswith('Zürich liegt am See.[\\[1\\]](<https://en.wikipedia.org/wiki/Example>')
    assert '東京 is big\\![\\[2\\]](<https://www.example.org/über/straße?q=1&x=%3C2%3E> ' in cited
    assert cited.endswith('Plain end.[\\[3\\]](<https://docs.example.com/guide> "The example guide")')


def test_without_the_toggle_no_tool_is_sent(gemini: FakeGemini) -> None:
    asyncio.run(collect(backend_for(gemini), GenerationRequest("gemini-3.6-flash", [question(1, "Hi")])))
    assert "tools" not in stream_bodies(gemini)[0]


# -- thinking --------------------------------------------------------------------------------


def test_thought_summaries_arrive_apart_from_the_answer_with_their_token_count(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["The answer."], thoughts=["**Weighing**\n\nHmm, ", "yes."]))
    request = GenerationRequest("gemini-3.6-flash", [question(1, "Think")], thinking_level="high",
                                include_thoughts=True)
    events = asyncio.run(collect(backend_for(gemini), request))
    (body,) = stream_bodies(gemini)
    assert body["generationConfig"]["thinkingConfig"] == {"includeThoughts": True, "thinkingLevel": "HIGH"}
    assert "".join(e.thought for e in events) == "**Weighing**\n\nHmm, yes."
    assert "".join(e.text for e in events) == "The answer."
    assert events[-1].usage["thoughts_token_count"] > 0


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
