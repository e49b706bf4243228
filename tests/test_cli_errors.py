"""`gemchat export`, `gemchat import` and the window's arguments when something is wrong: a non-zero
exit, one clear line on stderr, no traceback, and nothing half done.

Run as real processes (`python -m gemchat ...`), as a script or a terminal runs them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gemchat.core.messages import Role
from gemchat.paths import database_path
from gemchat.storage.store import ChatStore

ROOT = Path(__file__).resolve().parents[1]


def gemchat(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI", "GOOGLE", "GEMCHAT"))}
    env.update(PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "gemchat", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, encoding="utf-8", timeout=60)


def refused(result: subprocess.CompletedProcess[str], says: str) -> None:
    """Exit 1, nothing on stdout, and one line on stderr that starts with `gemchat:` and says `says`."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gemchat: ") and says in lines[0], result.stderr


def chats_in(data_dir: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(database_path(data_dir)) as conn:
        return conn.execute("select c.title, count(m.id) from chats c left join messages m on m.chat_id = c.id "
                            "group by c.id order by c.id").fetchall()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory holding one chat of two messages."""
    directory = tmp_path / "data"
    store = ChatStore.open(database_path(directory))
    try:
        chat = store.create_chat("gemini-3.6-flash", "The only chat")
        store.add_message(chat.id, Role.USER, "question")
        store.add_message(chat.id, Role.MODEL, "answer")
    finally:
        store.close()
    return directory


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_exporting_a_chat_id_that_does_not_exist_says_so(data_dir: Path, fmt: str) -> None:
    refused(gemchat("export", "--data-dir", str(data_dir), "--format", fmt, "--chat", "999"),
            "no chat with id 999")


def test_exporting_a_chat_id_that_does_not_exist_to_a_file_writes_no_file(data_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    refused(gemchat("export", "--data-dir", str(data_dir), "--chat", "999", "--output", str(target)),
            "no chat with id 999")
    assert not target.exists()


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_exporting_to_a_place_that_cannot_be_written_says_where(data_dir: Path, tmp_path: Path, fmt: str) -> None:
    """The output's folder is a file: no user, root included, can write there."""
    (tmp_path / "a file").write_text("not a folder", encoding="utf-8")
    target = tmp_path / "a file" / "out.md"
    refused(gemchat("export", "--data-dir", str(data_dir), "--format", fmt, "--output", str(target)),
            f"cannot write {target}")


def test_importing_a_file_that_is_not_there_says_so_and_makes_no_database(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    missing = tmp_path / "missing.json"
    refused(gemchat("import", "--data-dir", str(fresh), str(missing)), f"cannot read {missing}")
    assert not database_path(fresh).exists()


@pytest.mark.parametrize(("content", "says"), [
    (b"{not json", "not JSON"),
    (b'"a string"', "expected a list of chats"),
    (b"\xff\xfe not UTF-8", "cannot read"),
])
def test_importing_a_malformed_file_says_why_and_adds_nothing(data_dir: Path, tmp_path: Path, content: bytes,
                                                              says: str) -> None:
    file = tmp_path / "bad.json"
    file.write_bytes(content)
    refused(gemchat("import", "--data-dir", str(data_dir), str(file)), says)
    assert chats_in(data_dir) == [("The only chat", 2)]


def test_an_import_whose_second_chat_is_broken_adds_not_even_the_first(data_dir: Path, tmp_path: Path) -> None:
    good = {"title": "A good chat", "model": "gemini-3.6-flash", "created_at": "2026-01-01T10:00:00.000Z",
            "messages": [{"role": "user", "text": "hi", "status": "complete", "created_at": "2026-01-01T10:00:01.000Z"}]}
    broken = {**good, "title": "A broken chat", "messages": [{**good["messages"][0], "role": "robot"}]}
    file = tmp_path / "two.json"
    file.write_text(json.dumps([good, broken]), encoding="utf-8")
    refused(gemchat("import", "--data-dir", str(data_dir), str(file)), "was not imported")
    assert chats_in(data_dir) == [("The only chat", 2)]
    # The same good chat alone is imported: the refusal above was about the broken one.
    file.write_text(json.dumps([good]), encoding="utf-8")
    alone = gemchat("import", "--data-dir", str(data_dir), str(file))
    assert alone.returncode == 0 and alone.stderr == "Imported 1 chat.\n", alone.stderr
    assert chats_in(data_dir) == [("The only chat", 2), ("A good chat", 1)]


def test_two_arguments_that_are_not_files_are_refused_before_any_window_opens(tmp_path: Path) -> None:
    """Every argument naming an existing file is a FILE; only one other can be the PROMPT."""
    (tmp_path / "notes.txt").write_text("notes", encoding="utf-8")
    result = gemchat("--data-dir", str(tmp_path / "data"), "hello", "world", str(tmp_path / "notes.txt"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "'hello', 'world' are not files, and only one PROMPT can be given" in result.stderr.splitlines()[-1]
    assert not (tmp_path / "data").exists()
