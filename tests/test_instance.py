"""One gemchat per data directory, the launching side: where the running one is found, what is sent, what is
understood of its answer.

The format is checked on its own; `hand_over` talks to a plain socket server
standing in for a running gemchat that answers, stays silent or goes away.
The two real processes are in tests/test_second_launch.py.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gemchat.instance import (
    MAX_LINE,
    LaunchRequest,
    MalformedRequest,
    NotAnswering,
    RequestRefused,
    encode_answer,
    encode_request,
    hand_over,
    parse_answer,
    parse_request,
    socket_name,
)


def request_line(**fields: Any) -> bytes:
    body = {"version": 1, "prompt": "hello", "files": [], "cwd": "/home/someone"}
    body.update(fields)
    return json.dumps(body).encode()


def test_a_request_is_one_ascii_line_and_comes_back_whole_whatever_the_prompt_holds() -> None:
    prompt = "Zürich 中文 👋 \n second line \x00 \ud800 (a lone surrogate from a non-UTF-8 argument)"
    request = LaunchRequest(prompt, (Path("/tmp/a b.png"), Path("/tmp/\udcff.txt")))
    line = encode_request(request, cwd="/home/someone")
    assert line.endswith(b"\n") and line.count(b"\n") == 1 and line.isascii()
    assert parse_request(line.rstrip(b"\n")) == request


def test_relative_file_names_are_taken_from_the_directory_the_launch_was_started_in() -> None:
    line = request_line(files=["notes.txt", "../up/pic.png", "/abs/file.pdf"], cwd="/home/someone/work")
    assert parse_request(line).files == (Path("/home/someone/work/notes.txt"), Path("/home/someone/up/pic.png"),
                                         Path("/abs/file.pdf"))


def test_a_launch_without_a_prompt_asks_only_for_the_window() -> None:
    assert parse_request(request_line(prompt=None)) == LaunchRequest(None, ())


def test_a_quick_launch_says_so_and_an_ordinary_one_sends_nothing_an_older_gemchat_would_refuse() -> None:
    quick = LaunchRequest("a question", quick=True)
    assert parse_request(encode_request(quick, cwd="/home/someone")) == quick
    ordinary = json.loads(encode_request(LaunchRequest("a question"), cwd="/home/someone"))
    assert set(ordinary) == {"version", "prompt", "files", "cwd"}  # what gemchat before quick ask accepts
    assert parse_request(request_line(quick=False)).quick is False


@pytest.mark.parametrize("line, says", [
    (b"", "not JSON"),
    (b"hello\n", "not JSON"),
    (b'{"version": 1', "not JSON"),
    (b"\xff\xfe{}", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (b'"a string"', "not a JSON object"),
    (request_line(version=2), "version 2 is not 1"),
    (request_line(version="1"), "version '1' is not 1"),
    (request_line(version=True), "version True is not 1"),
    (request_line(version=1.0), "version 1.0 is not 1"),
    (request_line(extra="field"), "expected the fields"),
    (json.dumps({"version": 1, "prompt": None, "files": []}).encode(), "expected the fields"),
    (request_line(prompt=5), "prompt is neither text nor null"),
    (request_line(prompt=["a"]), "prompt is neither text nor null"),
    (request_line(cwd="relative/dir"), "cwd is not an absolute path"),
    (request_line(cwd=None), "cwd is not an absolute path"),
    (request_line(cwd="/with\x00nul"), "cwd is not an absolute path"),
    (request_line(files="a.txt"), "files is not a list of file names"),
    (request_line(files=[1]), "files is not a list of file names"),
    (request_line(files=[""]), "files is not a list of file names"),
    (request_line(files=["a\x00b"]), "files is not a list of file names"),
    (request_line(quick="yes"), "quick is neither true nor false"),
    (request_line(quick=1), "quick is neither true nor false"),
    (request_line(quick=None), "quick is neither true nor false"),
    (b" " * (MAX_LINE + 1), "longer than"),
], ids=lambda value: value[:30] if isinstance(value, bytes) else None)
def test_anything_but_a_request_is_refused_with_what_is_wrong(line: bytes, says: str) -> None:
    with pytest.raises(MalformedRequest) as refused:
        parse_request(line)
    assert says in str(refused.value)


def test_an_answer_that_took_the_request_returns_and_any_other_says_why() -> None:
    parse_answer(encode_answer())
    with pytest.raises(RequestRefused, match="malformed request: no"):
        parse_answer(encode_answer("malformed request: no"))
    with pytest.raises(RequestRefused, match="it gave no reason"):
        parse_answer(b'{"version": 1, "ok": false}\n')
    with pytest.raises(RequestRefused, match="cannot read"):
        parse_answer(b"yes\n")
    with pytest.raises(RequestRefused):
        parse_answer(b'{"version": 1, "ok": "true"}\n')  # only true is yes


# -- the socket's name ----------------------------------------------------------------


def test_two_data_directories_get_two_sockets_and_one_directory_spelt_two_ways_gets_one(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (tmp_path / "link").symlink_to(first)
    assert socket_name(first) != socket_name(second)
    assert socket_name(first) == socket_name(tmp_path / "link") == socket_name(second / ".." / "first")
    assert socket_name(tmp_path / "not yet made") == socket_name(tmp_path / "not yet made")


def test_the_socket_keeps_its_name_across_versions_so_a_new_launch_finds_an_older_running_gemchat(
        runtime_dir: Path, tmp_path: Path) -> None:
    """The name is the SHA-256 of the user and the real path, as when hashlib made it (Qt's makes it now)."""
    import hashlib

    real = os.fsencode(os.path.realpath(tmp_path))
    digest = hashlib.sha256(str(os.getuid()).encode() + b"\0" + real).hexdigest()
    assert socket_name(tmp_path) == str(runtime_dir / f"gemchat-{digest[:24]}")


def test_the_socket_is_in_the_users_runtime_directory(runtime_dir: Path, tmp_path: Path) -> None:
    name = Path(socket_name(tmp_path))
    assert name.parent == runtime_dir and name.name.startswith("gemchat-")
    assert len(os.fsencode(name)) < 104  # what a Unix socket's address holds, on Linux and macOS alike


@pytest.fixture
def no_runtime_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No $XDG_RUNTIME_DIR (a console login, a container); the temp folder is one of this test's."""
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return temp / f"gemchat-runtime-{os.getuid()}"


def test_without_a_runtime_directory_the_socket_goes_in_a_folder_only_the_user_can_open(
        no_runtime_dir: Path, tmp_path: Path) -> None:
    assert Path(socket_name(tmp_path)).parent == no_runtime_dir
    assert stat.S_IMODE(no_runtime_dir.stat().st_mode) == 0o700
    no_runtime_dir.chmod(0o755)
    assert Path(socket_name(tmp_path)).parent == no_runtime_dir
    assert stat.S_IMODE(no_runtime_dir.stat().st_mode) == 0o700


@pytest.mark.skipif(os.getuid() != 0, reason="giving a folder to another user needs root")
def test_a_runtime_folder_made_by_another_user_is_not_used(no_runtime_dir: Path, tmp_path: Path) -> None:
    no_runtime_dir.mkdir(mode=0o700)
    os.chown(no_runtime_dir, 65534, 65534)  # nobody: who could listen there in gemchat's place
    with pytest.raises(OSError, match="belongs to another user"):
        socket_name(tmp_path)


# -- handing a request over --------------------------------------------------------------


STAND_IN = """
import socket, sys, time
path, reply = sys.argv[1], sys.argv[2].encode()
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen()
print("listening", flush=True)
conn, _ = server.accept()
line = b""
while not line.endswith(b"\\n"):
    line += conn.recv(65536)
sys.stdout.buffer.write(line)
sys.stdout.flush()
if reply:
    conn.sendall(reply)
else:
    time.sleep(30)  # silent, as a stopped gemchat is
"""


@pytest.fixture
def stand_in(tmp_path: Path, qapp: Any) -> Iterator[Callable[[bytes], subprocess.Popen[bytes]]]:
    """A plain socket server in another process, at the data directory's socket, in place of a running gemchat.

    It reads one request line, prints it, and answers with the bytes given (nothing: it stays silent).
    Another process, because Qt's blocking waits in `hand_over` hold Python's lock: a thread could not answer.
    """
    started: list[subprocess.Popen[bytes]] = []

    def start(reply: bytes) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-c", STAND_IN, socket_name(tmp_path / "data"), reply.decode()],
                                stdout=subprocess.PIPE)
        started.append(proc)
        assert proc.stdout is not None and proc.stdout.readline() == b"listening\n"
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait(10)
        assert proc.stdout is not None
        proc.stdout.close()
    Path(socket_name(tmp_path / "data")).unlink(missing_ok=True)


def received(proc: subprocess.Popen[bytes]) -> bytes:
    assert proc.stdout is not None
    return proc.stdout.readline()


def never_free() -> None:
    return None


def test_a_request_taken_by_the_running_gemchat_needs_nothing_more(stand_in: Any, tmp_path: Path) -> None:
    server = stand_in(encode_answer())
    request = LaunchRequest("a question", (Path("/tmp/x.png"),))
    assert hand_over(tmp_path / "data", request, never_free) is None
    line = received(server)
    assert parse_request(line) == request and json.loads(line)["cwd"] == os.getcwd()


def test_a_running_gemchat_that_says_no_is_quoted(stand_in: Any, tmp_path: Path) -> None:
    stand_in(encode_answer("version 2 is not 1"))
    with pytest.raises(RequestRefused, match="version 2 is not 1"):
        hand_over(tmp_path / "data", LaunchRequest("a question"), never_free)


def test_a_running_gemchat_that_does_not_answer_is_given_up_on_in_time(stand_in: Any, tmp_path: Path) -> None:
    stand_in(b"")
    started = time.monotonic()
    with pytest.raises(NotAnswering):
        hand_over(tmp_path / "data", LaunchRequest("a question"), never_free, within=0.5)
    assert time.monotonic() - started < 5  # not hung: 0.5 s asked for, with room for a loaded machine


def test_a_gemchat_that_holds_the_lock_and_never_listens_is_given_up_on_in_time(tmp_path: Path, qapp: Any) -> None:
    tries: list[float] = []

    def still_held() -> None:
        tries.append(time.monotonic())

    with pytest.raises(NotAnswering):
        hand_over(tmp_path / "data", LaunchRequest("a question"), still_held, within=0.5)
    assert len(tries) > 1  # tried again while it might have been starting


def test_when_the_running_gemchat_ends_meanwhile_this_launch_gets_the_lock(tmp_path: Path, qapp: Any) -> None:
    locks = iter([None, None, "the lock"])
    assert hand_over(tmp_path / "data", LaunchRequest("a question"), lambda: next(locks), within=30) == "the lock"
