"""The request's contents, built from the stored messages and sent as the API's JSON."""

from __future__ import annotations

import asyncio

from gemchat.core.gemini import build_contents
from gemchat.core.messages import GenerationRequest, Role, Status
from tests.core.gemini.helpers import backend_for, collect, msg, request, texts
from tests.fakes.gemini_server import FakeGemini, Reply


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


def test_a_long_chats_history_goes_out_whole_and_in_order(gemini: FakeGemini) -> None:
    # Sent as JSON gemchat builds off the event loop (wire_contents), not as the SDK's models.
    texts_sent = [f"message {i} " + "é" * (i % 7) for i in range(2001)]
    gemini.enqueue(Reply.text(["ok"]))
    events = asyncio.run(collect(backend_for(gemini), request(*texts_sent)))
    assert texts(events) == "ok"
    contents = gemini.requests[-1].body["contents"]
    assert [c["parts"][0]["text"] for c in contents] == texts_sent
    assert [c["role"] for c in contents] == ["user", "model"] * 1000 + ["user"]
