"""gemchat as a real process: killed mid-answer, and driven in a real X window.

These start `python -m gemchat` exactly as a user's terminal would, so the
command line, start-up, signal handling and recovery are tested end to end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gemchat.paths import database_path
from tests.conftest import TEST_KEY
from tests.fakes.gemini_server import FakeGemini, Reply

ROOT = Path(__file__).resolve().parents[1]


def app_env(server: FakeGemini, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI", "GOOGLE", "GEMCHAT"))}
    env.update(
        GEMINI_API_KEY=TEST_KEY,
        GOOGLE_GEMINI_BASE_URL=server.base_url,
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def answer_row(data_dir: Path) -> tuple[str, str] | None:
    """The model message's text (with parts not yet folded) and status, read as another process would."""
    path = database_path(data_dir)
    if not path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute(
                "select m.id, m.text, m.status from messages m where role='model' order by id desc limit 1"
            ).fetchone()
            if row is None:
                return None
            parts = conn.execute(
                "select text from message_parts where message_id=? order by seq", (row[0],)
            ).fetchall()
    except sqlite3.OperationalError:
        return None
    return row[1] + "".join(p for (p,) in parts), row[2]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def x_server_accepts(env: dict[str, str]) -> bool:
    probe = subprocess.run(["xdotool", "getdisplaygeometry"], env=env, capture_output=True, timeout=30)
    return probe.returncode == 0


def start_in_x(env: dict[str, str], data_dir: Path, xdo) -> tuple[subprocess.Popen[bytes], str]:
    """gemchat started on the X server, and its window; a refused first connection is tried again.

    Xvfb under load sometimes refuses a connection it would accept a moment later
    ("could not connect to display", and Qt aborts): wait until the server answers,
    and start gemchat again if its connection was refused all the same.
    """
    wait_for(lambda: x_server_accepts(env), 30, "the X server to accept connections")
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "gemchat", "--data-dir", str(data_dir)],
                                env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # Mapped windows only: Qt's client leader (an unmapped 1x1 window) is named "gemchat" too, and is named
        # before the window is; under load a search in between found only it, and focusing it never held.
        window = wait_for(lambda: proc.poll() is not None
                          or xdo("search", "--onlyvisible", "--name", "gemchat").split("\n")[0], 30, "window")
        if proc.poll() is None:
            return proc, window
        with proc:
            output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
        if "could not connect to display" not in output or attempt == 2:
            raise AssertionError(f"gemchat exited before its window showed; its output:\n{output}")
    raise AssertionError("unreachable")


def handles(pid: int, signum: int) -> bool:
    """Whether process `pid` has installed its own handler for `signum` (until then the signal kills it).

    Read from the kernel's mask of caught signals: /proc on Linux, `ps` elsewhere.
    """
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        mask = next((line.split()[1] for line in status.read_text().splitlines() if line.startswith("SigCgt:")), "0")
    else:
        mask = subprocess.run(["ps", "-o", "caught=", "-p", str(pid)], capture_output=True, text=True).stdout.strip()
    return bool(int(mask or "0", 16) >> (signum - 1) & 1)


def test_kill_9_mid_answer_loses_at_most_a_second_and_restart_marks_it_interrupted(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    chunks = [f"c{i:04d} " for i in range(600)]  # 0.02 s apart: 50 chunks a second
    with FakeGemini(api_key=TEST_KEY) as server:
        server.enqueue(Reply.text(chunks, chunk_delay=0.02))
        env = app_env(server, QT_QPA_PLATFORM="offscreen")
        proc = subprocess.Popen(
            [sys.executable, "-m", "gemchat", "--data-dir", str(data_dir), "Count slowly"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: (r := answer_row(data_dir)) and len(r[0]) > 100 * 6, 30, "answer streaming")
            # Killed some way into the answer, not just after a save: 35 more chunks (0.7 s of it) sent.
            streamed = server.events_sent
            wait_for(lambda: server.events_sent >= streamed + 35, 30, "the answer streaming on")
            sent = server.events_sent
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        text, status = answer_row(data_dir)
        assert status == "streaming"
        full = "".join(chunks)
        assert full.startswith(text)
        saved_chunks = len(text) // 6
        assert sent - saved_chunks <= 50, f"lost {sent - saved_chunks} chunks (over 1 s of answer)"

        # Start again, as the user would; the cut answer is marked, then quit with SIGTERM.
        proc = subprocess.Popen(
            [sys.executable, "-m", "gemchat", "--data-dir", str(data_dir)],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: (r := answer_row(data_dir)) and r[1] == "interrupted", 30, "recovery")
            wait_for(lambda: handles(proc.pid, signal.SIGTERM), 30, "gemchat handling SIGTERM")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    assert answer_row(data_dir) == (text, "interrupted")


def test_export_and_import_round_trip_on_the_command_line(tmp_path: Path) -> None:
    source = [{
        "id": None, "title": "Été ☀️", "created_at": "2026-11-01T10:00:00.000Z", "model": "gemini-3.6-flash",
        "messages": [
            {"role": "user", "text": "Bonjour — مرحبا 👋", "status": "complete", "error": None,
             "created_at": "2026-11-01T10:00:01.000Z"},
            {"role": "model", "text": "Salut", "status": "error", "error": "The connection was lost.",
             "created_at": "2026-11-01T10:00:02.000Z"},
        ],
    }]
    file = tmp_path / "chats.json"
    file.write_text(json.dumps(source, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "gemchat"]
    imported = subprocess.run(cmd + ["import", "--data-dir", str(tmp_path / "d"), str(file)],
                              env=env, capture_output=True, text=True, timeout=60)
    assert imported.returncode == 0, imported.stderr
    exported = subprocess.run(cmd + ["export", "--data-dir", str(tmp_path / "d")],
                              env=env, capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    chats = json.loads(exported.stdout)
    assert len(chats) == 1
    assert {k: chats[0][k] for k in ("title", "created_at", "model")} == {
        k: source[0][k] for k in ("title", "created_at", "model")}
    # Exports add what a message may carry (attachments, grounding, thoughts), empty here.
    assert chats[0]["messages"] == [{**m, "attachments": [], "grounding": None, "thoughts": ""}
                                    for m in source[0]["messages"]]
    markdown = subprocess.run(cmd + ["export", "--format", "markdown", "--data-dir", str(tmp_path / "d")],
                              env=env, capture_output=True, text=True, timeout=60)
    assert "Bonjour — مرحبا 👋" in markdown.stdout


def test_malformed_import_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    file = tmp_path / "bad.json"
    file.write_text('[{"title": "x", "model": "m", "messages": [{"role": "robot", "text": "hi"}]}]')
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "gemchat", "import", "--data-dir", str(tmp_path / "d"), str(file)],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "role" in result.stderr and "Traceback" not in result.stderr


def test_version_and_help() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    version = subprocess.run([sys.executable, "-m", "gemchat", "--version"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("gemchat ")
    helptext = subprocess.run([sys.executable, "-m", "gemchat", "--help"], env=env,
                              capture_output=True, text=True, timeout=60)
    assert "export" in helptext.stdout and "--data-dir" in helptext.stdout


@pytest.mark.xwindow
def test_real_x_window_types_sends_streams_and_quits_with_ctrl_q(tmp_path: Path, xvfb) -> None:
    """A smoke test in a real X server: the window opens, keys typed with xdotool work."""
    if xvfb is None or shutil.which("xdotool") is None:
        pytest.skip("needs Xvfb (pytest-xvfb) and xdotool")
    data_dir = tmp_path / "data"
    with FakeGemini(api_key=TEST_KEY) as server:
        server.enqueue(Reply.text(["Hello ", "from ", "a real ", "window"], chunk_delay=0.05))
        env = app_env(server, QT_QPA_PLATFORM="xcb", DISPLAY=f":{xvfb.display}", PYTHONFAULTHANDLER="1")

        def xdo(*args: str) -> str:
            return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True,
                                  timeout=30).stdout.strip()

        proc, window = start_in_x(env, data_dir, xdo)
        with proc:
            try:
                # No window manager on Xvfb: give the window the X focus directly, as a WM would.
                # Asked again until it holds: under load the first ask can come before the window takes focus.
                wait_for(lambda: xdo("windowfocus", window) is not None and xdo("getwindowfocus") == window,
                         20, "the window to have the focus")
                xdo("type", "--delay", "20", "Hi there")
                xdo("key", "Return")
                wait_for(lambda: (r := answer_row(data_dir)) and r[1] == "complete", 30, "answer")
                assert answer_row(data_dir) == ("Hello from a real window", "complete")
                xdo("key", "ctrl+q")
                try:
                    code = proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack goes to the output
                    proc.wait(10)
                    pytest.fail("gemchat did not quit within 20 s of Ctrl+Q; its output:\n"
                                + (proc.stdout.read().decode(errors="replace") if proc.stdout else ""))
                assert code == 0
            except BaseException as failure:  # what gemchat printed says why: its output goes with the failure
                if proc.poll() is None:
                    proc.kill()
                output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise AssertionError(f"{failure}\n--- gemchat's output ---\n{output}") from failure
            finally:
                if proc.poll() is None:
                    proc.kill()
            output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    assert "Traceback" not in output, output
