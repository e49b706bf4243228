"""Attachments, uploads, grounding and thoughts in the store and the attachment folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from gemchat.core.attachments import MAX_ATTACHMENTS
from gemchat.core.messages import Attachment, Role, Status
from gemchat.storage.attachment_files import AttachmentFiles, AttachmentRefused
from gemchat.storage.store import ChatStore

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def test_a_file_is_copied_once_under_its_hash(tmp_path: Path) -> None:
    files = AttachmentFiles(tmp_path / "attachments")
    (tmp_path / "a.png").write_bytes(PNG)
    (tmp_path / "same bytes.txt").write_bytes(PNG)
    first = files.add_file(tmp_path / "a.png")
    second = files.add_file(tmp_path / "same bytes.txt")
    sha = hashlib.sha256(PNG).hexdigest()
    assert (first.sha256, first.name, first.mime_type, first.size) == (sha, "a.png", "image/png", len(PNG))
    assert second.sha256 == sha and second.name == "same bytes.txt"
    assert sorted(p.name for p in files.root.iterdir()) == [sha]
    assert files.path(sha).read_bytes() == PNG


def test_what_cannot_be_attached_is_refused_with_a_reason(tmp_path: Path) -> None:
    files = AttachmentFiles(tmp_path / "attachments")
    (tmp_path / "tool.exe").write_bytes(b"MZ\x90\x00\x03\x00\x00\x00")
    (tmp_path / "ok.txt").write_text("fine")
    with pytest.raises(AttachmentRefused, match="cannot read this kind of file"):
        files.add_file(tmp_path / "tool.exe")
    with pytest.raises(AttachmentRefused, match=f"at most {MAX_ATTACHMENTS} files"):
        files.add_file(tmp_path / "ok.txt", already=MAX_ATTACHMENTS)
    with pytest.raises(AttachmentRefused, match="no longer exists"):
        files.add_file(tmp_path / "gone.txt")
    with pytest.raises(AttachmentRefused, match="not a file"):
        files.add_file(tmp_path)
    assert not files.root.exists()  # nothing was copied


def test_messages_keep_their_attachments_and_what_the_files_api_holds(tmp_path: Path) -> None:
    store = ChatStore.open(tmp_path / "gemchat.db")
    chat = store.create_chat("gemini-3.6-flash", "t", google_search=True)
    image = Attachment("a" * 64, "photo.png", "image/png", 10)
    notes = Attachment("b" * 64, "notes.md", "text/plain", 20)
    question = store.add_message(chat.id, Role.USER, "look", attachments=[image, notes])
    assert question.attachments == [image, notes]
    store.remember_upload(Attachment("a" * 64, "x", "image/png", 10, "files/abc", "https://f/abc",
                                     "2026-01-03T00:00:00Z"))
    (loaded,) = store.messages(chat.id)
    assert [(a.name, a.file_name, a.expires_at) for a in loaded.attachments] == [
        ("photo.png", "files/abc", "2026-01-03T00:00:00Z"), ("notes.md", None, None)]
    assert store.get_message(question.id).attachments == loaded.attachments  # type: ignore[union-attr]
    assert store.get_chat(chat.id).google_search  # type: ignore[union-attr]
    store.set_google_search(chat.id, False)
    assert not store.get_chat(chat.id).google_search  # type: ignore[union-attr]
    assert store.attachment_hashes() == {"a" * 64, "b" * 64}
    store.delete_chat(chat.id)
    assert store.attachment_hashes() == set()
    store.close()


def test_an_answer_keeps_its_grounding_and_thoughts(tmp_path: Path) -> None:
    store = ChatStore.open(tmp_path / "gemchat.db")
    chat = store.create_chat("gemini-3.6-flash")
    store.add_message(chat.id, Role.USER, "q")
    answer = store.add_message(chat.id, Role.MODEL, "", Status.STREAMING)
    store.append_to_message(answer.id, "Paris.")
    grounding = {"grounding_chunks": [{"web": {"uri": "https://p.example", "title": "Pâris"}}]}
    final = store.finish_message(answer.id, Status.COMPLETE, grounding=grounding, thoughts="**Hm**")
    assert (final.text, final.grounding, final.thoughts) == ("Paris.", grounding, "**Hm**")
    store.close()
    again = ChatStore.open(tmp_path / "gemchat.db")
    assert again.messages(chat.id)[-1].grounding == grounding
    again.close()


def test_copies_no_message_refers_to_are_pruned(tmp_path: Path) -> None:
    files = AttachmentFiles(tmp_path / "attachments")
    kept = files.add_bytes(PNG, "kept.png")
    dropped = files.add_bytes(b"some text", "dropped.txt")
    (files.root / ".incoming-x").write_bytes(b"half")
    assert files.prune({kept.sha256}) == 2
    assert files.has(kept.sha256) and not files.has(dropped.sha256)


def test_a_refused_file_is_named_in_the_reason_and_pruning_an_absent_folder_removes_nothing(tmp_path: Path) -> None:
    files = AttachmentFiles(tmp_path / "attachments")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(AttachmentRefused, match=r"^empty\.txt was not attached: the file is empty\.$"):
        files.add_file(tmp_path / "empty.txt")
    assert files.prune(keep=[]) == 0


def test_only_an_upload_with_its_name_address_and_expiry_is_remembered(tmp_path: Path) -> None:
    """An upload the Files API answered without one of them cannot be referred to later: it is not kept."""
    store = ChatStore.open(tmp_path / "gemchat.db")
    chat = store.create_chat("m", "t")
    partial = [Attachment(c * 64, f"{c}.png", "image/png", 10, *fields) for c, fields in (
        ("a", (None, "https://f/a", "2099-01-01T00:00:00Z")),
        ("b", ("files/b", None, "2099-01-01T00:00:00Z")),
        ("c", ("files/c", "https://f/c", None)),
    )]
    for attachment in partial:
        store.remember_upload(attachment)
    store.add_message(chat.id, Role.USER, "three files", attachments=[Attachment(a.sha256, a.name, a.mime_type, 10)
                                                                     for a in partial])
    shown = store.messages(chat.id)[0].attachments
    assert [(a.file_name, a.file_uri, a.expires_at) for a in shown] == [(None, None, None)] * 3
    store.close()


def test_a_large_file_is_copied_whole_and_its_size_counted_in_full(tmp_path: Path) -> None:
    files = AttachmentFiles(tmp_path / "data" / "attachments")  # neither folder exists yet
    data = b"line of a long log file\n" * 200_000  # 4.8 MB: many read chunks
    (tmp_path / "big.log").write_bytes(data)
    attached = files.add_file(tmp_path / "big.log")
    assert attached.size == len(data) and attached.mime_type.startswith("text/")
    assert files.path(attached.sha256).read_bytes() == data
    assert [p.name for p in files.root.iterdir()] == [attached.sha256]  # no temporary copy left


def test_a_pasted_image_that_cannot_be_attached_is_refused_by_name(tmp_path: Path) -> None:
    files = AttachmentFiles(tmp_path / "attachments")
    with pytest.raises(AttachmentRefused, match=r"^pasted\.png was not attached: Gemini cannot read this kind"):
        files.add_bytes(b"", "pasted.png")  # nothing to tell its kind by
    pasted = files.add_bytes(PNG, "pasted.png")
    assert (pasted.name, pasted.mime_type, pasted.size) == ("pasted.png", "image/png", len(PNG))


def test_an_imported_file_that_is_not_the_one_attached_is_refused_and_not_kept(tmp_path: Path) -> None:
    files = AttachmentFiles(tmp_path / "attachments")
    (tmp_path / "swapped.png").write_bytes(PNG + b"tampered")
    expected = hashlib.sha256(PNG).hexdigest()
    with pytest.raises(ValueError, match="is not the attached file"):
        files.add_verified(tmp_path / "swapped.png", expected)
    assert not files.has(expected) and list(files.root.iterdir()) == []
    with pytest.raises(ValueError, match="not a SHA-256"):
        files.path("../../etc/passwd")


def test_a_kept_copy_found_damaged_is_replaced_when_the_file_is_attached_again(tmp_path: Path) -> None:
    files = AttachmentFiles(tmp_path / "attachments")
    (tmp_path / "a.png").write_bytes(PNG)
    kept = files.add_file(tmp_path / "a.png")
    files.path(kept.sha256).write_bytes(PNG[:10])  # cut short (a full disk, a crash mid-write)
    files.add_file(tmp_path / "a.png")
    assert files.path(kept.sha256).read_bytes() == PNG


def test_a_copy_is_written_as_a_hidden_incoming_file_beside_the_others_that_prune_knows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Written in the attachments folder itself, so the rename that completes it is atomic,
    # and named so that `prune` removes one a crash left half-written.
    import gemchat.storage.attachment_files as module

    renamed: list[tuple[Path, Path]] = []
    real_replace = module.os.replace

    def replace(source: str, target: Path) -> None:
        renamed.append((Path(source), Path(target)))
        real_replace(source, target)

    monkeypatch.setattr(module.os, "replace", replace)
    files = AttachmentFiles(tmp_path / "attachments")
    kept = files.add_bytes(PNG, "a.png")
    ((temporary, target),) = renamed
    assert temporary.parent == files.root and target == files.path(kept.sha256)
    temporary.write_bytes(b"half")  # as a crash mid-copy would leave it
    assert files.prune({kept.sha256}) == 1 and sorted(p.name for p in files.root.iterdir()) == [kept.sha256]
