"""Launching gemchat again while it runs: two real processes on one data directory.

The first is `python -m gemchat` as a terminal or the desktop starts it; the
second is the same command again, with a prompt, files or nothing. It hands its
request to the first over the data directory's socket and ends, or says
plainly why it could not. Gemini is the loopback fake server; what the first
gemchat did is read from the server's requests and from its database.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gemchat.instance import socket_name
from gemchat.paths import attachments_dir
from tests.driving import rows
from tests.fakes.gemini_server import FakeGemini, RecordedRequest, attached_parts, last_user_text
from tests.test_gemchat_process import ROOT, app_env, handles, wait_for

GEMCHAT = [sys.executable, "-m", "gemchat"]
HANDED_OVER_WITHIN = 2.0  # the issue asks for one second; the rest is Python's start on a loaded machine


@contextmanager
def first_gemchat(gemini: FakeGemini, data_dir: Path, log: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """The first gemchat on `data_dir`, sending `args[0]` as it starts; quit with SIGTERM (or killed) at the end."""
    with open(log, "wb") as output:
        proc = subprocess.Popen(GEMCHAT + ["--data-dir", str(data_dir), *args], cwd=ROOT, stdout=output,
                                stderr=subprocess.STDOUT, env=app_env(gemini, QT_QPA_PLATFORM="offscreen"))
        try:
            yield proc
        finally:
            if proc.poll() is None:
                try:
                    proc.send_signal(signal.SIGCONT)  # in case a test stopped it
                    wait_for(lambda: handles(proc.pid, signal.SIGTERM), 30, "gemchat handling SIGTERM")
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(20)
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait(10)


def launch_again(gemini: FakeGemini, data_dir: Path, *args: str, cwd: Path = ROOT) -> tuple[subprocess.CompletedProcess[str], float]:
    """The second launch, run to its end; with how long it took."""
    started = time.monotonic()
    result = subprocess.run(GEMCHAT + ["--data-dir", str(data_dir), *args], cwd=cwd, capture_output=True, text=True,
                            env=app_env(gemini, QT_QPA_PLATFORM="offscreen"), timeout=60)
    return result, time.monotonic() - started


def sent(gemini: FakeGemini, prompt: str, timeout: float = 30) -> RecordedRequest:
    """The streamed request that asked `prompt`, once the fake server has it (waits on its requests, not a clock)."""
    deadline = time.monotonic() + timeout
    while True:
        requests = gemini.requests
        found = [r for r in requests if r.kind == "stream" and last_user_text(r) == prompt]
        if found:
            return found[0]
        gemini.wait_for_requests(len(requests) + 1, timeout=max(0.0, deadline - time.monotonic()))


def streamed_prompts(gemini: FakeGemini) -> list[str]:
    return [last_user_text(r) for r in gemini.requests if r.kind == "stream"]


def test_a_second_launch_hands_its_prompt_to_the_running_gemchat_and_ends_at_once(
        gemini: FakeGemini, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with first_gemchat(gemini, data_dir, tmp_path / "first.log", "First question"):
        sent(gemini, "First question")  # the first gemchat is up

        second, took = launch_again(gemini, data_dir, "A question from the second launch")

        assert second.returncode == 0, second.stderr
        assert second.stdout == "" and "Traceback" not in second.stderr
        assert took < HANDED_OVER_WITHIN, f"the second launch took {took:.2f} s"
        sent(gemini, "A question from the second launch")
        wait_for(lambda: len(rows(data_dir, "select id from chats")) == 2, 30, "its new chat saved")
        assert rows(data_dir, "select text from messages where role = 'user' order by id") == [
            ("First question",), ("A question from the second launch",)]

        plain, took = launch_again(gemini, data_dir)  # the launcher again, nothing asked: the window comes forward
        assert plain.returncode == 0 and took < HANDED_OVER_WITHIN, (plain.stderr, took)

        with_model, _ = launch_again(gemini, data_dir, "--model", "gemini-3.6-pro")
        assert with_model.returncode == 0
        assert "--model gemini-3.6-pro was not used" in with_model.stderr  # the running window keeps its own


def test_files_named_on_a_second_launch_are_attached_in_the_running_gemchat(gemini: FakeGemini, tmp_path: Path) -> None:
    data_dir, elsewhere = tmp_path / "data", tmp_path / "somewhere else"
    elsewhere.mkdir()
    (elsewhere / "notes.txt").write_text("Meeting at noon, room 4.", encoding="utf-8")
    (elsewhere / "list.md").write_text("- milk\n- bread\n", encoding="utf-8")
    with first_gemchat(gemini, data_dir, tmp_path / "first.log", "First question"):
        sent(gemini, "First question")

        # Names relative to where the second launch was started, not to the first's directory.
        with_prompt, _ = launch_again(gemini, data_dir, "What do my notes say?", "notes.txt", cwd=elsewhere)
        assert with_prompt.returncode == 0, with_prompt.stderr
        assert attached_parts(sent(gemini, "What do my notes say?")) == [("inline", "text/plain")]

        alone, _ = launch_again(gemini, data_dir, "list.md", cwd=elsewhere)
        assert alone.returncode == 0, alone.stderr
        copy = attachments_dir(data_dir) / hashlib.sha256(b"- milk\n- bread\n").hexdigest()
        wait_for(copy.exists, 30, "list.md attached (copied into the data directory)")
        assert streamed_prompts(gemini) == ["First question", "What do my notes say?"]  # waiting for the user


def test_after_kill_9_the_next_launch_takes_over_the_socket_left_behind(gemini: FakeGemini, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with first_gemchat(gemini, data_dir, tmp_path / "first.log", "Before the crash") as first:
        sent(gemini, "Before the crash")
        first.kill()
        first.wait(10)
    assert Path(socket_name(data_dir)).exists()  # left behind: nobody removed it

    with first_gemchat(gemini, data_dir, tmp_path / "next.log", "After the crash") as after:
        sent(gemini, "After the crash")  # it started as the one gemchat, not handing over to nobody
        assert after.poll() is None
        third, took = launch_again(gemini, data_dir, "Handed to the new one")
        assert third.returncode == 0 and took < HANDED_OVER_WITHIN, (third.stderr, took)
        sent(gemini, "Handed to the new one")


def test_a_frozen_gemchat_makes_the_second_launch_say_so_within_seconds_and_fail(
        gemini: FakeGemini, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with first_gemchat(gemini, data_dir, tmp_path / "first.log", "First question") as first:
        sent(gemini, "First question")
        first.send_signal(signal.SIGSTOP)
        try:
            second, took = launch_again(gemini, data_dir, "Asked while it was frozen")
        finally:
            first.send_signal(signal.SIGCONT)

        assert second.returncode == 1
        assert "not responding" in second.stderr and str(data_dir) in second.stderr, second.stderr
        assert "Traceback" not in second.stderr
        assert took < 2.0 + HANDED_OVER_WITHIN, f"it took {took:.2f} s to give up"

        # Awake again, it answers the next launch, and never sends what the user was told was not taken.
        third, _ = launch_again(gemini, data_dir, "Asked once it was awake")
        assert third.returncode == 0, third.stderr
        sent(gemini, "Asked once it was awake")
        assert streamed_prompts(gemini) == ["First question", "Asked once it was awake"]


def test_a_gemchat_with_no_socket_where_this_launch_looks_is_said_to_be_elsewhere_not_frozen(
        gemini: FakeGemini, tmp_path: Path) -> None:
    """As when the first gemchat was started in another login session, with another XDG_RUNTIME_DIR: the data
    directory is held, but nothing listens where this launch looks."""
    from gemchat.data_directory import lock_data_dir

    data_dir, runtime = tmp_path / "data", tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    held = lock_data_dir(data_dir)  # the other gemchat
    assert held is not None
    try:
        started = time.monotonic()
        second = subprocess.run(GEMCHAT + ["--data-dir", str(data_dir), "Asked from another session"], cwd=ROOT,
                                capture_output=True, text=True, timeout=60,
                                env=app_env(gemini, QT_QPA_PLATFORM="offscreen", XDG_RUNTIME_DIR=str(runtime)))
        took = time.monotonic() - started
    finally:
        held.close()
    assert second.returncode == 1
    assert "did not open the socket this launch looks for" in second.stderr, second.stderr
    assert str(runtime) in second.stderr and "XDG_RUNTIME_DIR" in second.stderr and str(data_dir) in second.stderr
    assert "not responding" not in second.stderr and "Traceback" not in second.stderr
    assert took < 2.0 + HANDED_OVER_WITHIN, f"it took {took:.2f} s to give up"
    assert streamed_prompts(gemini) == []


def test_gemchats_on_separate_data_directories_stay_separate(gemini: FakeGemini, tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    with first_gemchat(gemini, home, tmp_path / "home.log", "Asked at home"):
        sent(gemini, "Asked at home")
        with first_gemchat(gemini, work, tmp_path / "work.log", "Asked at work") as at_work:
            sent(gemini, "Asked at work")
            assert at_work.poll() is None  # a window of its own, not handed to the one at home
            handed, _ = launch_again(gemini, work, "Another for work")
            assert handed.returncode == 0, handed.stderr
            sent(gemini, "Another for work")
            wait_for(lambda: len(rows(work, "select id from messages where role = 'user'")) == 2, 30, "saved")
    assert rows(home, "select text from messages where role = 'user'") == [("Asked at home",)]
    assert rows(work, "select text from messages where role = 'user' order by id") == [
        ("Asked at work",), ("Another for work",)]
