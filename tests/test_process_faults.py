"""Faults only a real process shows: kill -9, two gemchats on one data directory, a read-only directory.

gemchat runs here as `python -m gemchat`, exactly as from a terminal; the
in-process app of tests/test_faults.py then opens what it left behind.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gemchat.core.messages import Role
from gemchat.paths import database_path
from gemchat.storage.store import ChatStore
from tests.conftest import run, until
from tests.driving import rows
from tests.fakes.gemini_server import FakeGemini, Reply
from tests.test_faults import next_message_is_answered, start, stop
from tests.test_gemchat_process import ROOT, answer_row, app_env, wait_for

GEMCHAT = [sys.executable, "-m", "gemchat"]


def popen(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """gemchat as a terminal starts it. Its output goes nowhere: pipes nobody reads would be left
    open (a ResourceWarning), and a full one would block it."""
    return subprocess.Popen(GEMCHAT + args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_after_kill_9_the_next_start_shows_the_cut_answer_as_stopped_with_its_text(
    gemini_env: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path
) -> None:
    gemini_env.enqueue(Reply.text([f"c{i:04d} " for i in range(400)], chunk_delay=0.02))
    proc = popen(["--data-dir", str(data_dir), "Count slowly"], app_env(gemini_env, QT_QPA_PLATFORM="offscreen"))
    try:
        wait_for(lambda: (r := answer_row(data_dir)) and len(r[0]) > 60, 30, "answer streaming")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    text, status = answer_row(data_dir)
    assert status == "streaming" and text.startswith("c0000 c0001")

    app, task = start(qloop, qtbot, data_dir)  # the user starts gemchat again
    try:
        run(qloop, until(lambda: "Count slowly" in app.window.view.toPlainText(), 5, "the chat reopened"))
        shown = app.window.view.toPlainText()
        assert text.strip() in shown and "Stopped" in shown and "Continue" in shown
        assert "1 answer was cut off" in app.window.statusBar().currentMessage()
        assert answer_row(data_dir) == (text, "interrupted")
        next_message_is_answered(qloop, qtbot, app, data_dir)
    finally:
        stop(qloop, app, task)


def test_a_second_gemchat_on_one_data_directory_opens_no_second_window_and_the_command_line_tools_work_beside_it(
    gemini: FakeGemini, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    env = app_env(gemini, QT_QPA_PLATFORM="offscreen")
    gemini.enqueue(Reply.text(["The first ", "answer"], chunk_delay=0.05))
    first = popen(["--data-dir", str(data_dir), "First question"], env)
    try:
        wait_for(lambda: answer_row(data_dir) == ("The first answer", "complete"), 30, "first answer")
        # It hands itself over to the running window (tests/test_second_launch.py) and ends.
        second = subprocess.run(GEMCHAT + ["--data-dir", str(data_dir)], env=env, cwd=ROOT,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stderr
        assert "Traceback" not in second.stderr

        # Reading and adding chats from the command line while the window runs: WAL lets them share.
        exported = subprocess.run(GEMCHAT + ["export", "--data-dir", str(data_dir)], env=env, cwd=ROOT,
                                  capture_output=True, text=True, timeout=60)
        assert exported.returncode == 0, exported.stderr
        assert [m["text"] for m in json.loads(exported.stdout)[0]["messages"]] == ["First question",
                                                                                  "The first answer"]
        extra = tmp_path / "extra.json"
        extra.write_text(json.dumps([{"title": "Imported", "model": "gemini-3.6-flash", "messages": [
            {"role": "user", "text": "Imported while running"}]}]), encoding="utf-8")
        imported = subprocess.run(GEMCHAT + ["import", "--data-dir", str(data_dir), str(extra)], env=env, cwd=ROOT,
                                  capture_output=True, text=True, timeout=60)
        assert imported.returncode == 0, imported.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        try:
            assert first.wait(20) == 0
        finally:
            if first.poll() is None:
                first.kill()
                first.wait(10)
    with sqlite3.connect(database_path(data_dir)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert sorted(rows(data_dir, "select text from messages")) == [
        ("First question",), ("Imported while running",), ("The first answer",)]


def read_only_mount(directory: Path) -> list[str]:
    """A command prefix that runs the rest with `directory` mounted read-only.

    A mode bit does not stop root, and another user (`nobody`) cannot read a checkout
    kept in a 0700 home directory, so gemchat runs as the same user in its own mount
    namespace, where the directory is a read-only bind mount: nobody, root included,
    can write to it, and everything else reads as usual.
    """
    script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    return ["unshare", "--map-root-user", "--mount", "sh", "-c", script, "sh", str(directory)]


def mount_namespaces_work(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run([*read_only_mount(tmp_path), "true"], capture_output=True, timeout=30)
    return probe.returncode == 0


def test_a_read_only_data_directory_is_refused_with_a_clear_message_and_left_untouched(
    gemini: FakeGemini, tmp_path: Path
) -> None:
    if not mount_namespaces_work(tmp_path):
        pytest.skip("needs unshare and user/mount namespaces to make a directory read-only")
    data_dir = tmp_path / "data"
    store = ChatStore.open(database_path(data_dir))
    chat = store.create_chat("gemini-3.6-flash", "Kept")
    store.add_message(chat.id, Role.USER, "Nothing may change this")
    store.close()
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data_dir.iterdir()}
    env = app_env(gemini, QT_QPA_PLATFORM="offscreen", PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([*read_only_mount(data_dir), *GEMCHAT, "--data-dir", str(data_dir)],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "cannot write to its data directory" in result.stderr and str(data_dir) in result.stderr
    assert "Traceback" not in result.stderr
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data_dir.iterdir()} == before
