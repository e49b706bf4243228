"""Exports, settings and drafts are written whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from gemchat.files import write_atomically


def test_a_write_replaces_the_file_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    target.write_text("old", encoding="utf-8")
    write_atomically(target, "new ✓")
    assert target.read_text(encoding="utf-8") == "new ✓"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.json"]


def test_a_write_that_fails_half_way_leaves_the_old_file_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError):
        write_atomically(target, "a" * 100_000 + "\ud800")  # a lone surrogate fails mid-way
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.json"]
