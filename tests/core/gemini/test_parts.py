"""Thought signatures: an answer's parts kept as Gemini sent them, and sent back in their place to the model that
wrote them (ai.google.dev/gemini-api/docs/thought-signatures), through the real SDK and the loopback server."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
from pathlib import Path

from gemchat.core.gemini.parts import AnswerParts, visible_text
from gemchat.core.gemini.wire import build_contents
from gemchat.core.messages import Attachment, GenerationRequest, Message, Role
from tests.core.gemini.helpers import PNG, backend_for, collect, msg, texts
from tests.fakes.gemini_server import FakeGemini, Reply, decode_bytes

SIGNATURE = "c2lnbmF0dXJlLW9mLXRoZS1maXJzdC1hbnN3ZXI="  # base64, as the API sends bytes


def answered(text: str, parts: list[dict], model: str = "gemini-3.6-flash") -> Message:
    return dataclasses.replace(msg(1, Role.MODEL, text), gemini_parts=parts, answered_by=model)


def test_streamed_text_is_joined_and_a_signature_stays_on_the_part_it_came_on() -> None:
    kept = AnswerParts()
    for part in ({"text": "**Plan**", "thought": True}, {"text": " it.", "thought": True}, {"text": "Hel"},
                 {"text": "lo"}, {"text": "", "thoughtSignature": SIGNATURE}, {"text": " again"},
                 {"executableCode": {"language": "PYTHON", "code": "print(1)"}}, {"text": "!"}):
        kept.add(part)
    assert kept.parts == [{"text": "**Plan** it.", "thought": True}, {"text": "Hello"},
                          {"text": "", "thoughtSignature": SIGNATURE}, {"text": " again"},
                          {"executableCode": {"language": "PYTHON", "code": "print(1)"}}, {"text": "!"}]
    assert visible_text(kept.parts) == "Hello again\n\n```python\nprint(1)\n```\n\n!"


def test_a_streamed_answer_brings_its_parts_with_the_signature_gemini_put_on_its_last_empty_part(
        gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(["Hel", "lo"], thoughts=["**Thinking**"], signature=SIGNATURE))
    events = asyncio.run(collect(backend_for(gemini), GenerationRequest(
        model="gemini-3.6-flash", history=[msg(0, Role.USER, "Hi")], include_thoughts=True)))
    assert texts(events) == "Hello"
    [parts] = [e.gemini_parts for e in events if e.gemini_parts is not None]
    assert parts[0] == {"text": "**Thinking**", "thought": True} and parts[1] == {"text": "Hello"}
    assert parts[2]["text"] == "" and decode_bytes(parts[2]["thoughtSignature"]) == decode_bytes(SIGNATURE)
    assert events[-1].finish_reason == "STOP" and events[-1].gemini_parts is parts


def test_the_next_question_sends_the_answer_back_as_its_parts_signature_included(gemini: FakeGemini) -> None:
    parts = [{"text": "**Thinking**", "thought": True}, {"text": "Hello"}, {"text": "", "thoughtSignature": SIGNATURE}]
    history = [msg(0, Role.USER, "Hi"), answered("Hello", parts), msg(2, Role.USER, "And then?")]
    asyncio.run(collect(backend_for(gemini), GenerationRequest(model="gemini-3.6-flash", history=history)))
    sent = [r for r in gemini.requests if r.kind == "stream"][-1].body["contents"]
    assert sent == [{"role": "user", "parts": [{"text": "Hi"}]}, {"role": "model", "parts": parts},
                    {"role": "user", "parts": [{"text": "And then?"}]}]


def test_an_answer_another_model_wrote_goes_to_this_one_as_its_text_without_signatures() -> None:
    parts = [{"text": "Hello"}, {"text": "", "thoughtSignature": SIGNATURE}]
    history = [msg(0, Role.USER, "Hi"), answered("Hello", parts, model="gemini-3-pro-preview"),
               msg(2, Role.USER, "And then?")]
    assert build_contents(history, model="gemini-3.6-flash")[1] == {"role": "model", "parts": [{"text": "Hello"}]}
    assert build_contents(history, model="gemini-3-pro-preview")[1]["parts"] == [{"raw": p} for p in parts]


def test_parts_that_no_longer_say_what_the_user_read_are_not_sent_back() -> None:
    """A continued answer whose first half's parts were kept and whose second half's were not, say."""
    history = [msg(0, Role.USER, "Hi"), answered("Hello, and more", [{"text": "Hello"}]), msg(2, Role.USER, "?")]
    assert build_contents(history, model="gemini-3.6-flash")[1]["parts"] == [{"text": "Hello, and more"}]


def test_answers_saved_before_parts_were_kept_go_back_as_their_text() -> None:
    history = [msg(0, Role.USER, "Hi"), msg(1, Role.MODEL, "Hello"), msg(2, Role.USER, "?")]
    assert build_contents(history, model="gemini-3.6-flash")[1]["parts"] == [{"text": "Hello"}]


def test_a_picture_in_an_answer_arrives_as_its_bytes_and_is_kept_as_a_reference_with_its_signature(
        gemini: FakeGemini) -> None:
    picture = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()},
               "thoughtSignature": SIGNATURE}
    gemini.enqueue(Reply.text(["Here it is."], raw_parts=[picture]))
    events = asyncio.run(collect(backend_for(gemini), GenerationRequest(
        model="gemini-3-pro-image-preview", history=[msg(0, Role.USER, "Draw a dot")])))
    [image] = [e.image for e in events if e.image is not None]
    assert (image.mime_type, image.data, image.sha256) == ("image/png", PNG, hashlib.sha256(PNG).hexdigest())
    [parts] = [e.gemini_parts for e in events if e.gemini_parts]
    assert parts[1]["inlineData"] == {"mimeType": "image/png", "sha256": image.sha256}  # no bytes in the database
    assert decode_bytes(parts[1]["thoughtSignature"]) == decode_bytes(SIGNATURE)


def test_an_answer_that_is_only_a_picture_is_not_an_empty_answer(gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text([""], raw_parts=[{"inlineData": {"mimeType": "image/png",
                                                               "data": base64.b64encode(PNG).decode()}}]))
    events = asyncio.run(collect(backend_for(gemini), GenerationRequest(
        model="gemini-3-pro-image-preview", history=[msg(0, Role.USER, "Draw a dot")])))
    assert [e.image is not None for e in events].count(True) == 1 and events[-1].finish_reason == "STOP"


def test_a_picture_goes_back_to_the_model_that_made_it_as_its_bytes_with_its_signature(
        gemini: FakeGemini, tmp_path: Path) -> None:
    sha = hashlib.sha256(PNG).hexdigest()
    (tmp_path / sha).write_bytes(PNG)
    parts = [{"text": "Here it is."}, {"inlineData": {"mimeType": "image/png", "sha256": sha},
                                       "thoughtSignature": SIGNATURE}]
    answer = dataclasses.replace(answered("Here it is.", parts, model="gemini-3-pro-image-preview"),
                                 attachments=[Attachment(sha, "image-1.png", "image/png", len(PNG))])
    history = [msg(0, Role.USER, "Draw a dot"), answer, msg(2, Role.USER, "Make it darker")]
    asyncio.run(collect(backend_for(gemini), GenerationRequest(
        model="gemini-3-pro-image-preview", history=history, attachment_path=lambda sha: tmp_path / sha)))
    sent = [r for r in gemini.requests if r.kind == "stream"][-1].body["contents"][1]["parts"]
    assert sent[0] == {"text": "Here it is."}
    assert decode_bytes(sent[1]["inlineData"]["data"]) == PNG and sent[1]["inlineData"]["mimeType"] == "image/png"
    assert sent[1]["thoughtSignature"] == SIGNATURE


def test_a_picture_whose_file_is_gone_sends_the_answer_as_its_text() -> None:
    parts = [{"text": "Here it is."}, {"inlineData": {"mimeType": "image/png", "sha256": "0" * 64}}]
    history = [msg(0, Role.USER, "Draw"), answered("Here it is.", parts), msg(2, Role.USER, "Again")]
    assert build_contents(history, media={}, model="gemini-3.6-flash")[1]["parts"] == [{"text": "Here it is."}]
