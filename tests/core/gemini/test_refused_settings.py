"""A model that refuses a generation setting (400 INVALID_ARGUMENT naming it) still answers: asked once more without
it, the user told which, and the model not sent it again; through the real SDK and the loopback server."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from gemchat.core.errors import ErrorKind, GemchatError
from gemchat.core.gemini import GeminiBackend
from gemchat.core.messages import GenerationRequest, StreamEvent
from tests.core.gemini.helpers import backend_for, collect, request, stream_bodies, texts
from tests.fakes.gemini_server import FakeGemini, Reply


def thinking(level: str = "minimal", model: str = "gemini-3.6-pro", **kw: object) -> GenerationRequest:
    return dataclasses.replace(request("q", model=model), thinking_level=level, **kw)  # type: ignore[arg-type]


def sent_configs(gemini: FakeGemini) -> list[dict]:
    return [body.get("generationConfig", {}) for body in stream_bodies(gemini)]


async def two_answers(backend: GeminiBackend, first: GenerationRequest,
                      second: GenerationRequest) -> tuple[list[StreamEvent], list[StreamEvent]]:
    try:
        return ([e async for e in backend.stream(first)], [e async for e in backend.stream(second)])
    finally:
        await backend.aclose()


def test_a_refused_thinking_level_is_left_out_the_user_is_told_and_the_answer_comes(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.invalid_argument("Thinking level MINIMAL is not supported for this model."),
                   Reply.text(["Answered anyway"]))
    events = asyncio.run(collect(backend_for(gemini), thinking()))
    assert texts(events) == "Answered anyway"
    [notice] = [e.notice for e in events if e.notice]
    assert notice.startswith("gemini-3.6-pro does not accept the thinking level “minimal”, so gemchat asked without it")
    first, second = sent_configs(gemini)
    assert first["thinkingConfig"] == {"thinkingLevel": "MINIMAL"} and "thinkingConfig" not in second


def test_the_model_is_not_sent_the_refused_setting_again_but_another_model_still_is(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.invalid_argument("Unable to submit request because thinking_level is not supported."),
                   Reply.text(["one"]), Reply.text(["two"]))
    first, second = asyncio.run(two_answers(backend_for(gemini), thinking("low"), thinking("low")))
    assert (texts(first), texts(second)) == ("one", "two") and not any(e.notice for e in second)
    assert ["thinkingConfig" in c for c in sent_configs(gemini)] == [True, False, False]

    gemini.enqueue(Reply.text(["three"]))
    asyncio.run(collect(backend_for(gemini), thinking("low", model="gemini-3.6-flash")))
    assert sent_configs(gemini)[-1]["thinkingConfig"] == {"thinkingLevel": "LOW"}


@pytest.mark.parametrize(("message", "settings", "left_out"), [
    ("Thinking is not enabled for this model.", {"include_thoughts": True}, "thinkingConfig"),
    ("Temperature must be 1.0 for this model.", {"temperature": 0.2}, "temperature"),
    ("Search as tool is not enabled for this model.", {"google_search": True}, "tools"),
])
def test_other_refused_settings_are_left_out_the_same_way(gemini: FakeGemini, message: str, settings: dict,
                                                          left_out: str) -> None:
    gemini.enqueue(Reply.invalid_argument(message), Reply.text(["fine"]))
    req = dataclasses.replace(request("q"), **settings)
    events = asyncio.run(collect(backend_for(gemini), req))
    assert texts(events) == "fine" and [e for e in events if e.notice]
    bodies = stream_bodies(gemini)
    assert left_out in (bodies[0].get("generationConfig", {}) | bodies[0])
    assert left_out not in (bodies[1].get("generationConfig", {}) | bodies[1])


def test_a_bad_request_naming_no_setting_that_was_sent_fails_as_before_without_a_second_try(
        gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.invalid_argument("Thinking level MINIMAL is not supported for this model."))
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini), request("q")))  # no thinking level was sent
    assert info.value.kind is ErrorKind.BAD_REQUEST
    assert len(stream_bodies(gemini)) == 1


def test_a_setting_refused_twice_is_not_tried_a_third_time(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.invalid_argument("thinking_level is not supported"),
                   Reply.invalid_argument("thinking_level is not supported"))
    # The second refusal names a setting that is no longer sent: it is the failure shown.
    with pytest.raises(GemchatError):
        asyncio.run(collect(backend_for(gemini), thinking()))
    assert len(stream_bodies(gemini)) == 2
