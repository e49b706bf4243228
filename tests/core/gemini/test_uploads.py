"""Attachments through the real google-genai SDK against the loopback server.

Each test checks the wire format the server received (inline data, Files API
uploads and `file_data` references) and what gemchat made of the reply.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path

import pytest

from gemchat.core.attachments import INLINE_LIMIT_BYTES, REQUEST_LIMIT_BYTES
from gemchat.core.errors import ErrorKind, GemchatError
from gemchat.core.gemini.uploads import ProgressReader
from gemchat.core.messages import Attachment, GenerationRequest, Message, Role, Status, StreamEvent
from tests.core.gemini.helpers import PNG, Files, answer, backend_for, collect, media_parts, question, stream_bodies
from tests.fakes.gemini_server import FakeGemini, Reply, camel_case, decode_bytes

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
    stream = next(r for r in gemini.requests if r.kind == "stream")
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


# -- uploads that fail ---------------------------------------------------------------


def upload_error(gemini: FakeGemini, tmp_path: Path) -> GemchatError:
    """What the user is told when the upload of a video too big to go inline fails."""
    files = Files(tmp_path)
    clip = files.add("clip.mp4", b"\0" * (INLINE_LIMIT_BYTES + 1), "video/mp4")
    request = GenerationRequest("gemini-3.6-flash", [question(1, "Describe", clip)], attachment_path=files.path)
    with pytest.raises(GemchatError) as info:
        asyncio.run(collect(backend_for(gemini), request))
    assert clip.file_uri is None and gemini.uploaded() == []
    assert not [r for r in gemini.requests if r.kind == "stream"]
    return info.value


@pytest.mark.parametrize("code, status", [(400, "INVALID_ARGUMENT"), (403, "PERMISSION_DENIED")])
def test_an_upload_the_files_api_refuses_says_which_file_and_why(
        gemini: FakeGemini, tmp_path: Path, code: int, status: str) -> None:
    gemini.upload_fault = Reply.error(code, status, "Unsupported MIME type: video/mp4")
    error = upload_error(gemini, tmp_path)
    assert error.kind is ErrorKind.BAD_REQUEST
    assert error.message == "Gemini refused the upload of clip.mp4: Unsupported MIME type: video/mp4"
    assert str(code) in error.detail


def test_an_upload_failing_on_the_server_side_says_so_as_any_server_error(gemini: FakeGemini, tmp_path: Path) -> None:
    gemini.upload_fault = Reply.internal()
    error = upload_error(gemini, tmp_path)
    assert error.kind is ErrorKind.SERVER and "clip.mp4" not in error.message
    assert "500" in error.detail


def test_an_upload_whose_connection_is_cut_asks_to_check_the_network(gemini: FakeGemini, tmp_path: Path) -> None:
    gemini.upload_fault = "drop"
    error = upload_error(gemini, tmp_path)
    assert error.kind is ErrorKind.NETWORK
    assert error.message == "The upload of clip.mp4 was cut off. Check your network and retry."


def test_an_upload_answered_without_an_upload_address_says_gemini_did_not_accept_it(
        gemini: FakeGemini, tmp_path: Path) -> None:
    gemini.upload_fault = "no upload url"
    error = upload_error(gemini, tmp_path)
    assert error.kind is ErrorKind.SERVER
    assert error.message == "Gemini did not accept the upload of clip.mp4. Retry."
    assert error.detail.startswith("KeyError")


def test_the_upload_reader_reads_as_a_plain_binary_file_and_reports_each_offset(tmp_path: Path) -> None:
    # The SDK reads with read() today; the reader also keeps the raw-file contract
    # (readable, seekable, readinto) that io's buffered wrappers use.
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 40)
    offsets: list[int] = []
    with ProgressReader(path, offsets.append) as reader:
        assert reader.readable() and reader.seekable()
        buffered = io.BufferedReader(reader, buffer_size=4096)
        assert buffered.read() == path.read_bytes()
        assert offsets[0] == 0 and offsets == sorted(offsets) and offsets[-1] == 10240  # the end: all confirmed
        assert reader.seek(100) == 100 and reader.tell() == 100
        chunk = bytearray(10)
        assert reader.readinto(chunk) == 10 and bytes(chunk) == bytes(range(100, 110))
