"""What may be attached, and whether it goes inline or through the Files API."""

from __future__ import annotations

import datetime as dt

import pytest

from gemchat.core.attachments import (
    INLINE_LIMIT_BYTES,
    MAX_ATTACHMENTS,
    base64_size,
    format_size,
    kind_of,
    mime_type_for,
    plan_parts,
    refusal,
    upload_is_usable,
)
from gemchat.core.messages import Attachment


def test_types_come_from_the_bytes_for_images_and_pdfs_and_from_the_name_for_media() -> None:
    assert mime_type_for("photo.txt", b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert mime_type_for("x", b"\xff\xd8\xff\xe0") == "image/jpeg"
    assert mime_type_for("x.webp", b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert mime_type_for("IMG_1.HEIC", b"\0\0\0\x18ftypheic") == "image/heic"
    assert mime_type_for("doc.bin", b"%PDF-1.7") == "application/pdf"
    assert mime_type_for("song.mp3", b"ID3\x04") == "audio/mp3"
    assert mime_type_for("clip.MOV", b"\0\0\0\x14ftypqt  ") == "video/mov"


def test_text_and_code_of_any_extension_go_as_plain_text() -> None:
    assert mime_type_for("main.rs", b"fn main() {}\n") == "text/plain"
    assert mime_type_for("Makefile", "all:\n\techo ü".encode()) == "text/plain"
    assert mime_type_for("cut.txt", "abc é".encode()[:-1]) == "text/plain"  # a character cut by the read
    assert mime_type_for("emoji.txt", "ab😀".encode()[:-1]) == "text/plain"  # 3 of its 4 bytes read


def test_bytes_that_are_not_utf8_before_the_end_of_the_read_are_not_text() -> None:
    assert mime_type_for("data.bin", b"hello\xff") is None
    assert mime_type_for("latin1.txt", "café au lait".encode("latin-1")) is None


def test_binaries_gemini_cannot_read_are_refused_with_a_reason() -> None:
    assert mime_type_for("app.exe", b"MZ\x90\x00\x03\x00") is None
    assert mime_type_for("fake.png", b"not a png") is None
    assert refusal("app.exe", 100, None, 0) == (
        "app.exe was not attached: Gemini cannot read this kind of file. Attach images (PNG, JPEG, "
        "WebP, HEIC), PDFs, text or code, audio or video.")


def test_limits_per_file_and_per_message() -> None:
    assert refusal("a.png", 10, "image/png", MAX_ATTACHMENTS) == (
        f"a.png was not attached: a message can carry at most {MAX_ATTACHMENTS} files.")
    assert "50 MB" in (refusal("big.pdf", 60_000_000, "application/pdf", 0) or "")
    assert "2.0 GB" in (refusal("huge.mp4", 3 * 1024**3, "video/mp4", 0) or "")
    assert refusal("empty.txt", 0, "text/plain", 0) == "empty.txt was not attached: the file is empty."
    assert refusal("ok.png", 10, "image/png", 0) is None
    assert refusal("at the limit.pdf", 50_000_000, "application/pdf", 0) is None
    assert refusal("at the limit.mp4", 2_000_000_000, "video/mp4", 0) is None
    assert refusal("one byte over.pdf", 50_000_001, "application/pdf", 0) == (
        "one byte over.pdf was not attached: it is 50 MB and Gemini reads PDFs up to 50 MB.")
    assert format_size(999) == "999 bytes" and format_size(12_345) == "12 KB" and format_size(3_400_000) == "3.4 MB"


def attachment(size: int, uri: str | None = None, expires: str | None = None) -> Attachment:
    return Attachment(f"{size:064x}", "f", "image/png", size, "files/x" if uri else None, uri, expires)


def test_uploads_are_used_until_an_hour_before_they_expire() -> None:
    now = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    assert upload_is_usable(attachment(1, "u", "2026-01-01T13:30:00Z"), now)
    assert not upload_is_usable(attachment(1, "u", "2026-01-01T12:30:00Z"), now)
    assert not upload_is_usable(attachment(1, "u", None), now)
    assert not upload_is_usable(attachment(1, "u", "garbage"), now)


def test_plan_inlines_small_files_while_the_request_stays_under_20_mb() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    small, big = attachment(1000), attachment(INLINE_LIMIT_BYTES + 1)
    held = attachment(5, "u", "2026-01-02T00:00:00Z")
    eight = [attachment(INLINE_LIMIT_BYTES - n) for n in range(3)]
    plans = plan_parts([small, big, held, *eight], text_bytes=0, now=now)
    assert [p.how for p in plans] == ["inline", "upload", "file", "inline", "upload", "upload"]


@pytest.mark.parametrize(("size", "shown"), [
    (0, "0 bytes"), (999, "999 bytes"), (1000, "1.0 KB"), (9_949, "9.9 KB"), (10_000, "10 KB"),
    (999_499, "999 KB"), (1_000_000, "1.0 MB"), (25_000_000, "25 MB"), (999_000_000, "999 MB"),
    (1_000_000_000, "1.0 GB"), (2_500_000_000_000, "2500 GB"),
])
def test_sizes_read_as_people_say_them(size: int, shown: str) -> None:
    assert format_size(size) == shown


@pytest.mark.parametrize(("mime_type", "word"), [
    ("image/png", "image"), ("image/heic", "image"), ("audio/mpeg", "audio"), ("video/mp4", "video"),
    ("application/pdf", "document"), ("text/x-python", "document"), ("image/svg+xml", "document"),
])
def test_a_chip_without_a_thumbnail_names_the_kind_of_file(mime_type: str, word: str) -> None:
    assert kind_of(mime_type) == word


def _ftyp(brand: bytes) -> bytes:
    """The start of an ISO media file (HEIC, HEIF, MP4): a box size, `ftyp`, then the brand."""
    return b"\x00\x00\x00\x18ftyp" + brand + bytes(8)


@pytest.mark.parametrize(("name", "head", "sent_as"), [
    ("IMG_0001.bin", b"\xff\xd8\xff\xe0rest", "image/jpeg"),
    ("sticker.bin", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    ("sound.bin", b"RIFF\x00\x00\x00\x00WAVEfmt ", None),  # RIFF, but not WebP; the name says nothing
    *[("phone.bin", _ftyp(brand), "image/heic") for brand in (b"heic", b"heix", b"hevc", b"heim", b"heis")],
    *[("phone.bin", _ftyp(brand), "image/heif") for brand in (b"mif1", b"msf1")],
    ("clip.mp4", _ftyp(b"isom"), "video/mp4"),  # ftyp, but a video: the name decides
    ("scan.bin", b"%PDF-1.7", "application/pdf"),
    ("song.MP3", b"ID3\x03", "audio/mp3"),  # audio by its name, in any case
    ("photo.png", b"not a png at all", None),  # an image by name only: the bytes must agree
    ("doc.pdf", b"plain text", None),
    ("notes.unknownext", "héllo".encode(), "text/plain"),
    ("data.bin", b"\x00\x01", None),
])
def test_what_a_file_is_sent_as_comes_from_its_bytes_for_images_and_pdfs_and_its_name_for_media(
    name: str, head: bytes, sent_as: str | None
) -> None:
    assert mime_type_for(name, head) == sent_as


@pytest.mark.parametrize(("size", "encoded"), [(0, 0), (1, 4), (2, 4), (3, 4), (4, 8), (20_000_000, 26_666_668)])
def test_a_file_sent_inline_is_counted_at_its_base64_size(size: int, encoded: int) -> None:
    assert base64_size(size) == encoded == len(__import__("base64").b64encode(bytes(size)))
