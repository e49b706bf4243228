"""Export and import keep attachments (the files travel beside the JSON), grounding and thoughts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from gemchat.cli import main
from gemchat.core.messages import Role, Status
from gemchat.paths import attachments_dir, database_path
from gemchat.storage.attachment_files import AttachmentFiles
from gemchat.storage.errors import ImportFormatError
from gemchat.storage.exchange import attachments_folder, export_bundle, export_json, export_markdown, import_json
from gemchat.storage.store import ChatStore

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
GROUNDING: dict[str, Any] = {"web_search_queries": ["q"],
             "grounding_chunks": [{"web": {"uri": "https://s.example/", "title": "S [1]"}}],
             "grounding_supports": [{"segment": {"end_index": 3}, "grounding_chunk_indices": [0]}]}


def filled(data_dir: Path) -> tuple[ChatStore, AttachmentFiles]:
    store = ChatStore.open(database_path(data_dir))
    files = AttachmentFiles(attachments_dir(data_dir))
    image = files.add_bytes(PNG, "dot.png")
    notes = files.add_bytes("naïve notes".encode(), "notes.md")
    chat = store.create_chat("gemini-3.6-flash", "With files", google_search=True)
    store.add_message(chat.id, Role.USER, "Look", attachments=[image, notes])
    answer = store.add_message(chat.id, Role.MODEL, "", Status.STREAMING)
    store.append_to_message(answer.id, "Yes.")
    store.finish_message(answer.id, Status.COMPLETE, grounding=GROUNDING, thoughts="**Looking**")
    return store, files


def test_an_export_takes_its_files_along_and_imports_whole_elsewhere(tmp_path: Path) -> None:
    store, files = filled(tmp_path / "here")
    target = tmp_path / "out" / "chats.json"
    assert export_bundle(store, files, target) == 2
    exported = json.loads(target.read_text(encoding="utf-8"))
    chat = exported[0]
    assert chat["google_search"] is True
    question, answer = chat["messages"]
    assert [(a["name"], a["mime_type"], a["size"]) for a in question["attachments"]] == [
        ("dot.png", "image/png", len(PNG)), ("notes.md", "text/plain", len("naïve notes".encode()))]
    assert sorted(p.name for p in attachments_folder(target).iterdir()) == sorted(
        a["sha256"] for a in question["attachments"])
    assert answer["grounding"] == GROUNDING and answer["thoughts"] == "**Looking**"
    assert answer["attachments"] == []

    other, other_files = ChatStore.open(tmp_path / "there" / "gemchat.db"), AttachmentFiles(tmp_path / "there" / "a")
    (new_id,) = import_json(other, target.read_text(encoding="utf-8"), other_files, target)
    assert json.loads(export_json(other))[0]["messages"] == chat["messages"]
    assert other.get_chat(new_id).google_search  # type: ignore[union-attr]
    assert other_files.path(question["attachments"][0]["sha256"]).read_bytes() == PNG
    store.close()
    other.close()


def test_files_lying_right_beside_the_json_are_found_too(tmp_path: Path) -> None:
    store, files = filled(tmp_path / "here")
    target = tmp_path / "out" / "chats.json"
    export_bundle(store, files, target)
    for entry in attachments_folder(target).iterdir():
        entry.rename(target.parent / entry.name)
    attachments_folder(target).rmdir()
    other = ChatStore.open(None)
    assert len(import_json(other, target.read_text(), AttachmentFiles(tmp_path / "there"), target)) == 1
    store.close()


def test_a_missing_or_altered_file_refuses_the_whole_import(tmp_path: Path) -> None:
    store, files = filled(tmp_path / "here")
    target = tmp_path / "out" / "chats.json"
    export_bundle(store, files, target)
    sha = json.loads(target.read_text())[0]["messages"][0]["attachments"][0]["sha256"]
    other = ChatStore.open(None)
    elsewhere = AttachmentFiles(tmp_path / "there")

    (attachments_folder(target) / sha).write_bytes(b"not the picture")
    with pytest.raises(ImportFormatError, match=r"chat 1, message 1: dot.png: .* is not the attached file"):
        import_json(other, target.read_text(), elsewhere, target)
    (attachments_folder(target) / sha).unlink()
    with pytest.raises(ImportFormatError, match=rf"chat 1, message 1: dot.png: the file {sha} is not in "
                                                r"chats.attachments beside the JSON"):
        import_json(other, target.read_text(), elsewhere, target)
    assert other.list_chats() == []
    store.close()


def test_bad_attachment_entries_are_named(tmp_path: Path) -> None:
    base = {"model": "m", "messages": [{"role": "user", "text": "x", "attachments": [
        {"name": "a", "mime_type": "image/png", "sha256": "x" * 64, "size": 1}]}]}
    with pytest.raises(ImportFormatError, match="chat 1, message 1, attachment 1: \"sha256\" must be 64"):
        import_json(ChatStore.open(None), json.dumps(base))
    base["messages"][0]["attachments"][0].update(sha256="a" * 64, mime_type="application/x-msdownload")
    with pytest.raises(ImportFormatError, match="Gemini cannot read"):
        import_json(ChatStore.open(None), json.dumps(base))


def test_markdown_lists_files_and_sources(tmp_path: Path) -> None:
    store, _files = filled(tmp_path / "here")
    text = export_markdown(store)
    assert f"*Attached: dot.png (image/png, {len(PNG)} bytes)*" in text
    assert "1. [S \\[1\\]](<https://s.example/>)" in text
    store.close()


def test_the_command_line_exports_a_bundle_and_imports_it(tmp_path: Path, capsys) -> None:
    store, _files = filled(tmp_path / "here")
    store.close()
    target = tmp_path / "out" / "all.json"
    assert main(["export", "--data-dir", str(tmp_path / "here"), "--output", str(target)]) == 0
    assert len(list(attachments_folder(target).iterdir())) == 2
    assert main(["import", "--data-dir", str(tmp_path / "there"), str(target)]) == 0
    assert "Imported 1 chat." in capsys.readouterr().err
    assert len(list(attachments_dir(tmp_path / "there").iterdir())) == 2


def test_exporting_one_chat_again_takes_only_its_files_and_skips_those_deleted_by_hand(tmp_path: Path) -> None:
    store, files = filled(tmp_path / "here")
    other = store.create_chat("gemini-3.6-flash", "Another chat")
    store.add_message(other.id, Role.USER, "Its own file", attachments=[files.add_bytes(b"just text", "own.txt")])
    (with_files,) = [c for c in store.list_chats() if c.title == "With files"]
    target = tmp_path / "out" / "one.json"
    assert export_bundle(store, files, target, chat_id=with_files.id) == 2
    assert [c["title"] for c in json.loads(target.read_text(encoding="utf-8"))] == ["With files"]
    assert export_bundle(store, files, target, chat_id=with_files.id) == 0  # again: the files are there already
    own = files.add_bytes(b"just text", "own.txt").sha256
    files.path(own).unlink()  # deleted by hand from the data directory
    assert export_bundle(store, files, tmp_path / "all" / "all.json") == 2  # the JSON still names it
    assert own not in {p.name for p in attachments_folder(tmp_path / "all" / "all.json").iterdir()}
    store.close()


def test_a_markdown_export_reads_as_the_chat_did_with_what_was_cut_off_or_failed(tmp_path: Path) -> None:
    store = ChatStore.open(None)
    chat = store.create_chat("gemini-3.6-flash", "", "Be brief.\nUse lists.", created_at="2025-01-02T03:04:05.000Z")
    store.add_message(chat.id, Role.USER, "Question one")
    store.add_message(chat.id, Role.MODEL, "Half an", Status.INTERRUPTED)
    store.add_message(chat.id, Role.USER, "Again")
    store.add_message(chat.id, Role.MODEL, "", Status.ERROR, error="Gemini is overloaded right now.")
    store.add_message(chat.id, Role.MODEL, "", Status.ERROR)
    other = store.create_chat("m", "Second", created_at="2025-01-03T00:00:00.000Z")
    first = "\n".join([
        "# New chat", "", "*gemini-3.6-flash · 2025-01-02T03:04:05.000Z*", "",
        "> **System instruction:** Be brief.", "> Use lists.", "",
        "### You", "", "Question one", "", "### Gemini", "", "Half an", "", "*(stopped before the end)*", "",
        "### You", "", "Again", "", "### Gemini", "", "", "", "*(failed: Gemini is overloaded right now.)*", "",
        "### Gemini", "", "", "", "*(failed: unknown error)*", ""])
    second = "# Second\n\n*m · 2025-01-03T00:00:00.000Z*\n"
    assert export_markdown(store) == first + "\n---\n\n" + second
    assert export_markdown(store, other.id) == second
    store.close()


def one_question(*attachments: Any, role: str = "user") -> str:
    return json.dumps({"model": "m", "messages": [{"role": role, "text": "Look", "attachments": list(attachments)}]})


DOT = {"name": "dot.png", "mime_type": "image/png", "sha256": hashlib.sha256(PNG).hexdigest(), "size": len(PNG)}
WHERE = "chat 1, message 1, attachment 2"


@pytest.mark.parametrize(("text", "message"), [
    (json.dumps({"model": "m", "messages": [{"role": "user", "text": "Look", "attachments": "dot.png"}]}),
     'chat 1, message 1: "attachments" must be a list'),
    (one_question(DOT, "dot.png"), f"{WHERE}: expected an object"),
    (one_question(DOT, {k: v for k, v in DOT.items() if k != "name"}), f'{WHERE}: "name" must be text, found missing'),
    (one_question(DOT, {**DOT, "mime_type": 5}), f'{WHERE}: "mime_type" must be text, found a number'),
    (one_question(DOT, {**DOT, "mime_type": "application/x-msdownload"}),
     f'{WHERE}: Gemini cannot read "application/x-msdownload" files'),
    (one_question(DOT, {**DOT, "size": -1}), f'{WHERE}: "size" must be a number of bytes'),
    (one_question(DOT, {**DOT, "size": True}), f'{WHERE}: "size" must be a number of bytes'),
    (one_question(DOT, {**DOT, "size": "70"}), f'{WHERE}: "size" must be a number of bytes'),
    (one_question(DOT, {**DOT, "size": 1.5}), f'{WHERE}: "size" must be a number of bytes'),
    (one_question({**DOT, "name": "notes.txt", "mime_type": "text/plain"}, role="model"),
     'chat 1, message 1: an answer ("role": "model") carries only pictures'),
    (one_question(DOT), "this import carries attached files, and there is nowhere to keep them"),
])
def test_an_import_with_a_bad_attachment_says_which_one_and_adds_nothing(text: str, message: str) -> None:
    store = ChatStore.open(None)
    with pytest.raises(ImportFormatError) as refused:
        import_json(store, text)  # nowhere to keep files: only their entries are looked at
    assert str(refused.value) == message
    assert store.list_chats() == []
    store.close()


def test_an_import_of_text_alone_finds_files_gemchat_already_keeps_and_names_those_it_does_not(
        tmp_path: Path) -> None:
    store, files = ChatStore.open(None), AttachmentFiles(tmp_path / "attachments")
    with pytest.raises(ImportFormatError) as refused:
        import_json(store, one_question(DOT), files)
    assert str(refused.value) == (f"chat 1, message 1: dot.png: the file {DOT['sha256']} is not in "
                                  "the attachments folder beside the JSON")
    assert store.list_chats() == []
    files.add_bytes(PNG, "dot.png")
    (new_id,) = import_json(store, one_question(DOT), files)
    assert [a.name for a in store.messages(new_id)[0].attachments] == ["dot.png"]
    store.close()


def test_a_file_already_kept_may_be_missing_beside_the_json_and_the_others_are_still_brought_in(
        tmp_path: Path) -> None:
    store, files = filled(tmp_path / "here")
    target = tmp_path / "out" / "chats.json"
    export_bundle(store, files, target)
    image, notes = json.loads(target.read_text())[0]["messages"][0]["attachments"]
    (attachments_folder(target) / image["sha256"]).unlink()
    elsewhere = AttachmentFiles(tmp_path / "there")
    elsewhere.add_bytes(PNG, "dot.png")
    other = ChatStore.open(None)
    import_json(other, target.read_text(), elsewhere, target)
    assert elsewhere.path(notes["sha256"]).read_bytes() == "naïve notes".encode()
    store.close()
    other.close()


def test_an_empty_attached_file_with_no_name_is_imported_as_file_of_0_bytes(tmp_path: Path) -> None:
    target = tmp_path / "chats.json"
    empty = hashlib.sha256(b"").hexdigest()
    attachments_folder(target).mkdir()
    (attachments_folder(target) / empty).write_bytes(b"")
    target.write_text(one_question({"name": "", "mime_type": "text/plain", "sha256": empty, "size": 0}))
    store = ChatStore.open(None)
    import_json(store, target.read_text(), AttachmentFiles(tmp_path / "attachments"), target)
    assert "*Attached: file (text/plain, 0 bytes)*" in export_markdown(store)
    store.close()


def test_an_import_that_cannot_copy_a_file_says_which_message_it_belongs_to_and_why(tmp_path: Path) -> None:
    store, files = filled(tmp_path / "here")
    target = tmp_path / "out" / "chats.json"
    export_bundle(store, files, target)
    blocked = tmp_path / "there"
    blocked.write_text("a file where the attachment folder should be")
    other = ChatStore.open(None)
    with pytest.raises(ImportFormatError) as refused:
        import_json(other, target.read_text(), AttachmentFiles(blocked), target)
    reason = refused.value.__cause__
    assert isinstance(reason, OSError)
    assert str(refused.value).startswith("chat 1, message 1: dot.png: ")
    assert str(refused.value).endswith(f"({reason})")
    assert other.list_chats() == []
    store.close()
    other.close()


def test_a_markdown_export_lists_files_then_sources_linking_only_web_addresses(tmp_path: Path) -> None:
    store = ChatStore.open(None)
    files = AttachmentFiles(tmp_path)
    chat = store.create_chat("gemini-3.6-flash", "With files", created_at="2025-01-02T03:04:05.000Z")
    store.add_message(chat.id, Role.USER, "Look", attachments=[files.add_bytes(PNG, "dot.png")])
    answer = store.add_message(chat.id, Role.MODEL, "", Status.STREAMING)
    store.append_to_message(answer.id, "Yes.")
    chunks = [*GROUNDING["grounding_chunks"], {"web": {"uri": "javascript:alert(1)", "title": "Old *notes*"}}]
    store.finish_message(answer.id, Status.COMPLETE, grounding={**GROUNDING, "grounding_chunks": chunks})
    assert export_markdown(store) == "\n".join([
        "# With files", "", "*gemini-3.6-flash · 2025-01-02T03:04:05.000Z*", "",
        "### You", "", "Look", "", f"*Attached: dot.png (image/png, {len(PNG)} bytes)*", "",
        "### Gemini", "", "Yes.", "", "Sources:", "", "1. [S \\[1\\]](<https://s.example/>)", "2. Old \\*notes\\*", ""])
    store.close()
