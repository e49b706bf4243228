"""A chat's tools beside Google Search: code execution (the code Gemini ran and its output shown as blocks) and URL
context (the pages it read), through the real SDK and the loopback server."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from gemchat.core.errors import GemchatError
from gemchat.core.grounding import pages_read
from tests.core.gemini.helpers import backend_for, collect, request, stream_bodies, texts
from tests.fakes.gemini_server import FakeGemini, Reply

CODE = {"executableCode": {"language": "PYTHON", "code": "print(6 * 7)\n"}}
RESULT = {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "42\n"}}


def test_each_tool_a_chat_has_on_is_sent_and_none_when_all_are_off(gemini: FakeGemini) -> None:
    asyncio.run(collect(backend_for(gemini), dataclasses.replace(
        request("q"), google_search=True, code_execution=True, url_context=True)))
    asyncio.run(collect(backend_for(gemini), request("q")))
    with_tools, without = stream_bodies(gemini)
    assert with_tools["tools"] == [{"googleSearch": {}}, {"codeExecution": {}}, {"urlContext": {}}]
    assert "tools" not in without


def test_code_gemini_ran_and_its_output_become_blocks_of_the_answer_between_its_words(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["Let me compute that."], raw_parts=[CODE, RESULT, {"text": "It is 42."}]))
    events = asyncio.run(collect(backend_for(gemini), dataclasses.replace(request("6 times 7?"),
                                                                           code_execution=True)))
    assert texts(events) == ("Let me compute that.\n\n```python\nprint(6 * 7)\n```\n\n"
                             "\n\n```output\n42\n```\n\nIt is 42.")
    [parts] = [e.gemini_parts for e in events if e.gemini_parts]
    assert parts == [{"text": "Let me compute that."}, CODE, RESULT, {"text": "It is 42."}]


def test_code_that_failed_says_so_before_its_output(gemini: FakeGemini) -> None:
    failed = {"codeExecutionResult": {"outcome": "OUTCOME_FAILED", "output": "ZeroDivisionError: division by zero"}}
    gemini.enqueue(Reply.text(["Trying."], raw_parts=[CODE, failed]))
    events = asyncio.run(collect(backend_for(gemini), dataclasses.replace(request("q"), code_execution=True)))
    assert "The code failed:\n\n```output\nZeroDivisionError: division by zero\n```" in texts(events)


def test_the_pages_url_context_read_arrive_with_whether_each_could_be_read(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["Summary."], url_context={"urlMetadata": [
        {"retrievedUrl": "https://example.com/a", "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"},
        {"retrievedUrl": "https://example.com/paid", "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_PAYWALL"}]}))
    events = asyncio.run(collect(backend_for(gemini), dataclasses.replace(request("Sum up https://example.com/a"),
                                                                           url_context=True)))
    [grounding] = [e.grounding for e in events if e.grounding]
    pages = pages_read(grounding)
    assert [(p.url, p.read, p.status) for p in pages] == [("https://example.com/a", True, "read"),
                                                         ("https://example.com/paid", False, "behind a paywall")]


def test_an_answer_that_is_only_a_function_call_says_so_in_words(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text([""], raw_parts=[{"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}]))
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini), request("Weather in Oslo?")))
    assert info.value.message == ("Gemini asked to call a function (“get_weather”) instead of answering, and gemchat "
                                  "offers none. Retry, or rephrase your message.")


def test_an_image_model_is_asked_for_text_and_pictures_in_the_shape_and_size_the_chat_chose(gemini: FakeGemini) -> None:
    from gemchat.core.image_models import ImageOptions

    base = request("Draw", model="gemini-3-pro-image-preview")
    for options in (ImageOptions("16:9", "2K"), ImageOptions(pictures_only=True), None):
        asyncio.run(collect(backend_for(gemini), dataclasses.replace(base, image_options=options)))
    shaped, only, plain = (body.get("generationConfig", {}) for body in stream_bodies(gemini))
    assert shaped["responseModalities"] == ["TEXT", "IMAGE"]
    assert shaped["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "2K"}
    assert only["responseModalities"] == ["IMAGE"] and "imageConfig" not in only
    assert "responseModalities" not in plain and "imageConfig" not in plain


def test_a_picture_size_the_model_refuses_is_left_out_and_the_shape_kept(gemini: FakeGemini) -> None:
    from gemchat.core.image_models import ImageOptions

    gemini.enqueue(Reply.invalid_argument("image_size 4K is not supported by this model."), Reply.text(["ok"]))
    events = asyncio.run(collect(backend_for(gemini), dataclasses.replace(
        request("Draw", model="gemini-2.5-flash-image"), image_options=ImageOptions("1:1", "4K"))))
    assert texts(events) == "ok" and [e.notice for e in events if e.notice]
    first, second = (body["generationConfig"] for body in stream_bodies(gemini))
    assert first["imageConfig"] == {"aspectRatio": "1:1", "imageSize": "4K"}
    assert second["imageConfig"] == {"aspectRatio": "1:1"}
