"""Gemini-native features through the real google-genai SDK against the loopback server.

Each test checks the wire format the server received (inline data, Files API
uploads and `file_data` references, the `google_search` tool, thinking
config, countTokens) and what gemchat made of the reply.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from pathlib import Path

import pytest

from gemchat.core.attachments import INLINE_LIMIT_BYTES, REQUEST_LIMIT_BYTES
from gemchat.core.backend import GeminiBackend, GenerationRequest, StreamEvent
from gemchat.core.errors import GemchatError
from gemchat.core.grounding import cite, search_queries, sources
from gemchat.core.messages import Attachment, Message, Role, Status
from tests.conftest import TEST_KEY
from tests.fakes.gemini_server import FakeGemini, Reply, camel_case, decode_bytes, grounding_for

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


class Files:
    """A stand-in for the app's attachment store: files named by their SHA-256 in a folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add(self, name: str, data: bytes, mime_type: str) -> Attachment:
        sha = hashlib.sha256(data).hexdigest()
        (self.root / sha).write_bytes(data)
        return Attachment(sha, name, mime_type, len(data))

    def path(self, sha256: str) -> Path:
        return self.root / sha256


def question(mid: int, text: str, *attachments: Attachment) -> Message:
    return Message(mid, 1, Role.USER, text, Status.COMPLETE, "", attachments=list(attachments))


def answer(mid: int, text: str) -> Message:
    return Message(mid, 1, Role.MODEL, text, Status.COMPLETE, "")


def backend_for(server: FakeGemini) -> GeminiBackend:
    backend = GeminiBackend(api_key=TEST_KEY, base_url=server.base_url, backoff=0.01)
    backend.processing_poll = 0.01
    return backend


async def collect(backend: GeminiBackend, request: GenerationRequest) -> list[StreamEvent]:
    events = []
    try:
        async for event in backend.stream(request):
            events.append(event)
    finally:
        await backend.aclose()
    return events


def stream_bodies(server: FakeGemini) -> list[dict]:
    """Request bodies in one spelling (the SDK mixes camelCase and snake_case; Google reads both)."""
    return [camel_case(r.body) for r in server.requests if r.kind == "stream"]


def media_parts(body: dict) -> list[dict]:
    return [p for c in body["contents"] for p in c["parts"] if "text" not in p]


# -- inline data ---------------------------------------------------------------------


def test_a_small_image_goes_inline_as_base64_before_the_question(gemini: FakeGemini, tmp_path: Path) -> None:
    files = Files(tmp_path)
    image = files.add("dot.png", PNG, "image/png")
    request = GenerationRequest("gemini-3.6-flash", [question(1, "What is this?", image)],
                                attachment_path=files.path)
    events = asyncio.run(collect(backend_for(gemini), request))
    (body,) = stream_bodies(gemini)
    parts = body["contents"][0]["parts"]
    assert parts[0]["inlineData"]["mimeType"] == "image/png"
    assert decode_bytes(parts[0]["inlineData"]["data"]) == PNG
    assert parts[1] == {"text": "What is this?"}
    assert "(attached: inline image/png)" in "".join(e.text for e in events)
    assert not [r for r in gemini.requests if r.kind == "upload"]


def test_follow_ups_send_earlier_attachments_again_with_their_turn(gemini: FakeGemini, tmp_path: Path) -> None:
    files = Files(tmp_path)
    notes = files.add("notes.md", "# Plan\n- café\n".encode(), "text/plain")
    history = [question(1, "Summarise", notes), answer(2, "A plan."), question(3, "And the second line?")]
    asyncio.run(collect(backend_for(gemini), GenerationRequest("gemini-3.6-flash", history,
                                                                attachment_path=files.path)))
    (body,) = stream_bodies(gemini)
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    first = body["contents"][0]["parts"]
    assert decode_bytes(first[0]["inlineData"]["data"]).decode() == "# Plan\n- café\n"
    assert first[0]["inlineData"]["mimeType"] == "text/plain"
    assert body["contents"][2]["parts"] == [{"text": "And the second line?"}]


def test_a_question_with_only_an_attachment_is_sent(gemini: FakeGemini, tmp_path: Path) -> None:
    files = Files(tmp_path)
    image = files.add("dot.png", PNG, "image/png")
    asyncio.run(collect(backend_for(gemini), GenerationRequest(
        "gemini-3.6-flash", [question(1, "", image)], attachment_path=files.path)))
    (body,) = stream_bodies(gemini)
    assert [list(p) for p in body["contents"][0]["parts"]] == [["inlineData"]]


# -- the Files API -------------------------------------------------------------------


def test_a_file_over_the_inline_limit_is_uploaded_then_referred_to(gemini: FakeGemini, tmp_path: Path) -> None:
    files = Files(tmp_path)
    data = b"%PDF-1.7\n" + bytes(range(256)) * ((INLINE_LIMIT_BYTES + 300_000) // 256)
    pdf = files.add("report.pdf", data, "application/pdf")
    events = asyncio.run(collect(backend_for(gemini), GenerationRequest(
        "gemini-3.6-flash", [question(1, "Summarise the report", pdf)], attachment_path=files.path)))

    (stored,) = gemini.uploaded()
    assert stored.data == data and stored.mime_type == "application/pdf" and stored.display_name == "report.pdf"
    starts = [r for r in gemini.requests if r.kind == "upload" and "upload_id" not in r.query]
    assert starts[0].headers["x-goog-upload-protocol"] == "resumable"
    assert starts[0].headers["x-goog-upload-header-content-length"] == str(len(data))
    assert gemini.upload_chunks == 2  # the SDK sends 8 MB chunks
    (body,) = stream_bodies(gemini)
    assert media_parts(body) == [{"fileData": {"mimeType": "application/pdf", "fileUri": stored.uri}}]

    progress = [e.upload for e in events if e.upload]
    assert [p.sent for p in progress] == [0, 8 * 1024 * 1024, len(data)]
    assert all(p.total == len(data) and p.name == "report.pdf" for p in progress)
    (done,) = [e.uploaded for e in events if e.uploaded]
    assert done.file_name == stored.name and done.file_uri == stored.uri
    expires = dt.datetime.fromisoformat(done.expires_at.replace("Z", "+00:00"))
    assert dt.timedelta(hours=47) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=48)


def big_upload(gemini: FakeGemini, files: Files) -> Attachment:
    """A file uploaded earlier, as the chat remembers it."""
    data = b"\0" * (INLINE_LIMIT_BYTES + 1)
    attachment = files.add("clip.mp4", data, "video/mp4")
    asyncio.run(collect(backend_for(gemini), GenerationRequest(
        "gemini-3.6-flash", [question(1, "Describe", attachment)], attachment_path=files.path)))
    assert attachment.file_uri
    return attachment


def test_a_file_still_held_by_the_files_api_is_not_uploaded_again(gemini: FakeGemini, tmp_path: Path) -> None:
    files = Files(tmp_path)
    clip = big_upload(gemini, files)
    history = [question(1, "Describe", clip), answer(2, "A clip."), question(3, "Again?")]
    asyncio.run(collect(backend_for(gemini), GenerationRequest("gemini-3.6-flash", history,
                                                                attachment_path=files.path)))
    assert len(gemini.uploaded()) == 1
    assert media_parts(stream_bodies(gemini)[-1]) == [{"fileData": {"mimeType": "video/mp4", "fileUri": clip.file_uri}}]


def test_an_upload_past_its_48_hours_is_uploaded_again(gemini: FakeGemini, tmp_path: Path) -> None:
    files = Files(tmp_path)
    clip = big_upload(gemini, files)
    first_uri = clip.file_uri
    clip.expires_at = "2020-01-01T00:00:00Z"  # the chat was continued days later
    events = asyncio.run(collect(backend_for(gemini), GenerationRequest(
        "gemini-3.6-flash", [question(1, "Describe", clip), answer(2, "A clip."), question(3, "More")],
        attachment_path=files.path)))
    assert len(gemini.uploaded()) == 2
    assert clip.file_uri != first_uri
    assert [e.uploaded for e in events if e.uploaded] == [clip]


def test_a_file_the_api_says_is_gone_is_uploaded_again_and_the_request_repeated(
        gemini: FakeGemini, tmp_path: Path) -> None:
    files = Files(tmp_path)
    clip = big_upload(gemini, files)
    gemini.expire_file(clip.file_name)  # deleted early on Google's side; the chat still thinks it is there
    gemini.enqueue(Reply.text(["Still a clip."]))
    events = asyncio.run(collect(backend_for(gemini), GenerationRequest(
        "gemini-3.6-flash", [question(1, "Describe", clip)], attachment_path=files.path)))
    assert "".join(e.text for e in events) == "Still a clip."
    streams = [r for r in gemini.requests if r.kind == "stream"]
    assert len(streams) == 3  # the first upload's, the refused one, the one after uploading again
    assert len(gemini.uploaded()) == 2
    assert media_parts(camel_case(streams[-1].body))[0]["fileData"]["fileUri"] == gemini.uploaded()[-1].uri


def test_a_video_is_used_only_once_the_files_api_has_processed_it(gemini: FakeGemini, tmp_path: Path) -> None:
    gemini.video_processing_polls = 2
    files = Files(tmp_path)
    clip = big_upload(gemini, files)
    polls = [r for r in gemini.requests if r.kind == "file" and r.method == "GET"]
    assert len(polls) == 3  # PROCESSING twice, then ACTIVE
    # The fake refuses a file that is not ACTIVE yet, so the answer arriving proves the wait.
    assert clip.file_uri and len(stream_bodies(gemini)) == 1


def test_inline_files_that_would_pass_the_request_limit_are_uploaded_instead(
        gemini: FakeGemini, tmp_path: Path) -> None:
    files = Files(tmp_path)
    size = INLINE_LIMIT_BYTES - 8  # each fits inline; two in base64 would pass 20 MB
    first = files.add("a.png", b"\x89PNG\r\n\x1a\n" + b"a" * size, "image/png")
    second = files.add("b.png", b"\x89PNG\r\n\x1a\n" + b"b" * size, "image/png")
    asyncio.run(collect(backend_for(gemini), GenerationRequest(
        "gemini-3.6-flash", [question(1, "Compare", first, second)], attachment_path=files.path)))
    (body,) = stream_bodies(gemini)
    assert [list(p) for p in media_parts(body)] == [["inlineData"], ["fileData"]]
    stream = [r for r in gemini.requests if r.kind == "stream"][0]
    assert len(stream.headers) and int(stream.headers.get("content-length", 0)) < REQUEST_LIMIT_BYTES


def test_the_fake_refuses_a_request_over_20_mb_as_gemini_does(gemini: FakeGemini) -> None:
    huge = Message(1, 1, Role.USER, "x" * (REQUEST_LIMIT_BYTES + 10), Status.COMPLETE, "")
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini), GenerationRequest("gemini-3.6-flash", [huge])))
    assert "exceeds the limit" in info.value.message


def test_stopping_during_an_upload_cancels_it(gemini: FakeGemini, tmp_path: Path) -> None:
    gemini.upload_chunk_delay = 2.0
    files = Files(tmp_path)
    data = b"\0" * (INLINE_LIMIT_BYTES + 1)
    clip = files.add("clip.mp4", data, "video/mp4")
    backend = backend_for(gemini)

    async def stop_after_start() -> list[StreamEvent]:
        seen: list[StreamEvent] = []

        async def consume() -> None:
            async for event in backend.stream(GenerationRequest(
                    "gemini-3.6-flash", [question(1, "Describe", clip)], attachment_path=files.path)):
                seen.append(event)

        task = asyncio.ensure_future(consume())
        while not seen:
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.wait([task])
        await backend.aclose()
        return seen

    seen = asyncio.run(stop_after_start())
    assert seen[0].upload is not None and seen[0].upload.sent == 0
    assert gemini.uploaded() == [] and clip.file_uri is None
    assert not [r for r in gemini.requests if r.kind == "stream"]


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
    assert [s.title for s in sources(grounding)][0] == "Example — Wikipedia"
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


# -- context size ----------------------------------------------------------------------------


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


@pytest.mark.parametrize("size", [len(PNG), INLINE_LIMIT_BYTES + 1], ids=["inline", "uploaded"])
def test_a_file_deleted_from_the_data_directory_says_which_one_and_nothing_is_sent(
    gemini: FakeGemini, tmp_path: Path, size: int
) -> None:
    files = Files(tmp_path)
    data = PNG + bytes(size - len(PNG))
    image = files.add("holiday.png", data, "image/png")
    files.path(image.sha256).unlink()  # deleted by hand
    request = GenerationRequest("gemini-3.6-flash", [question(1, "What is this?", image)],
                                attachment_path=files.path)
    try:
        events = asyncio.run(collect(backend_for(gemini), request))
    except GemchatError as exc:
        error = exc
    else:
        (error,) = [e.error for e in events if e.error is not None]
    assert error.message == ("The attached file holiday.png is missing from gemchat's data directory, "
                             "so it could not be sent.")
    assert error.detail.startswith("FileNotFoundError")
    assert not [r for r in gemini.requests if r.kind in ("stream", "upload")]
