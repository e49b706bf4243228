"""Unsent drafts survive a chat switch, a quit or a crash, and a bad drafts file costs only drafts."""

from __future__ import annotations

import json
from pathlib import Path

from gemchat.storage.drafts import DraftStore


def test_a_draft_typed_in_a_chat_or_before_any_chat_is_there_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "new" / "data" / "drafts.json"  # the folders are made on the first write
    drafts = DraftStore(path)
    drafts.put(7, "half a question")
    drafts.put(None, "typed before the first chat")
    again = DraftStore(path)
    assert again.get(7) == "half a question"
    assert again.get(None) == "typed before the first chat"
    assert again.get(8) == ""
    assert json.loads(path.read_text(encoding="utf-8")) == {"7": "half a question", "new": "typed before the first chat"}
    assert not path.with_suffix(".tmp").exists()  # written whole, then renamed


def test_clearing_the_box_forgets_the_draft(tmp_path: Path) -> None:
    path = tmp_path / "drafts.json"
    drafts = DraftStore(path)
    drafts.put(1, "keep me")
    drafts.put(2, "forget me")
    drafts.put(2, "  \n")
    assert DraftStore(path).get(2) == "" and DraftStore(path).get(1) == "keep me"
    assert json.loads(path.read_text(encoding="utf-8")) == {"1": "keep me"}


def test_text_other_than_ascii_is_kept_as_typed(tmp_path: Path) -> None:
    path = tmp_path / "drafts.json"
    DraftStore(path).put(3, "naïve café, 日本語 🙂")
    assert DraftStore(path).get(3) == "naïve café, 日本語 🙂"
    assert "日本語" in path.read_text(encoding="utf-8")  # readable in the file, not \\u-escaped


def test_an_unchanged_or_already_blank_draft_does_not_rewrite_the_file(tmp_path: Path) -> None:
    """Every pause in typing asks for a save; the file is written only when a draft changed."""
    path = tmp_path / "drafts.json"
    drafts = DraftStore(path)
    drafts.put(1, "same")
    path.write_text('{"1": "written by hand"}', encoding="utf-8")  # would be overwritten by any write
    drafts.put(1, "same")
    drafts.put(2, "")
    assert path.read_text(encoding="utf-8") == '{"1": "written by hand"}'
    drafts.put(None, "")
    assert path.read_text(encoding="utf-8") == '{"1": "written by hand"}'


def test_an_unreadable_drafts_file_starts_without_drafts_and_keeps_working(tmp_path: Path) -> None:
    path = tmp_path / "drafts.json"
    for bad in ("{not json", '["a list"]', '{"1": 5, "2": "", "3": "kept"}'):
        path.write_text(bad, encoding="utf-8")
        drafts = DraftStore(path)
        assert drafts.get(1) == "" and drafts.get(2) == ""
    assert drafts.get(3) == "kept"
    drafts.put(1, "new draft")
    assert DraftStore(path).get(1) == "new draft"
    path.write_bytes(b"\xff\xfe not utf-8")
    assert DraftStore(path).get(1) == ""
