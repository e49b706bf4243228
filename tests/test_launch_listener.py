"""One gemchat per data directory, the running side: what it answers to what a launch sends.

The listener runs on this test's Qt loop; the launches are plain sockets on a
worker thread, so what goes over the wire is exactly what the test wrote.
"""

from __future__ import annotations

import json
import logging
import socket
import stat
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gemchat import launch_listener
from gemchat.instance import LaunchRequest, encode_request, socket_name
from gemchat.launch_listener import LaunchListener, listen_for_launches

WAIT_MS = 30_000  # only a hang reaches this


@pytest.fixture
def listener(tmp_path: Path, qapp: Any) -> Iterator[LaunchListener]:
    listening = listen_for_launches(tmp_path / "data")
    assert listening is not None and listening.is_listening()
    yield listening
    listening.close()
    listening.deleteLater()


@pytest.fixture
def launches() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield pool


def launch(pool: ThreadPoolExecutor, name: str, data: bytes) -> Future[bytes]:
    """A launch that sends `data` and returns all it is answered until the listener closes the connection."""
    def run() -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(WAIT_MS / 1000)
            client.connect(name)
            client.sendall(data)
            answer = b""
            while chunk := client.recv(65536):
                answer += chunk
            return answer

    return pool.submit(run)


def answer_of(qtbot: Any, future: Future[bytes]) -> dict[str, Any]:
    qtbot.waitUntil(future.done, timeout=WAIT_MS)
    line = future.result()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    return json.loads(line)


def test_a_request_is_answered_yes_and_passed_on(listener: LaunchListener, launches: ThreadPoolExecutor,
                                                 qtbot: Any) -> None:
    request = LaunchRequest("What is this?", (Path("/home/someone/a.png"),))
    with qtbot.waitSignal(listener.request_received, timeout=WAIT_MS) as taken:
        answered = launch(launches, listener.name, encode_request(request, cwd="/home/someone"))
    assert taken.args == [request]
    assert answer_of(qtbot, answered) == {"version": 1, "ok": True}


def test_relative_file_names_are_taken_from_where_the_launch_was_started(
        listener: LaunchListener, launches: ThreadPoolExecutor, qtbot: Any) -> None:
    line = json.dumps({"version": 1, "prompt": None, "files": ["notes.txt"], "cwd": "/home/someone/work"})
    with qtbot.waitSignal(listener.request_received, timeout=WAIT_MS) as taken:
        launch(launches, listener.name, line.encode() + b"\n")
    assert taken.args == [LaunchRequest(None, (Path("/home/someone/work/notes.txt"),))]


@pytest.mark.parametrize("line, says", [
    (b"hello\n", "malformed request: not JSON"),
    (b'{"version": 2, "prompt": null, "files": [], "cwd": "/"}\n', "malformed request: version 2 is not 1"),
    (b'{"version": 1, "prompt": null, "files": ["a"], "cwd": "."}\n', "cwd is not an absolute path"),
])
def test_a_malformed_request_is_answered_with_the_reason_and_passed_on_to_nobody(
        listener: LaunchListener, launches: ThreadPoolExecutor, qtbot: Any, line: bytes, says: str) -> None:
    taken: list[object] = []
    listener.request_received.connect(taken.append)
    answer = answer_of(qtbot, launch(launches, listener.name, line))
    assert answer["ok"] is False and says in answer["error"]
    assert taken == []


def test_a_request_too_long_is_refused_without_being_read_whole(
        listener: LaunchListener, launches: ThreadPoolExecutor, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch_listener, "MAX_LINE", 1000)
    answer = answer_of(qtbot, launch(launches, listener.name, b"x" * 5000))
    assert answer == {"version": 1, "ok": False, "error": "the request is longer than 1000 bytes"}


def test_a_launch_that_gave_up_before_it_was_answered_has_its_request_dropped(
        listener: LaunchListener, qtbot: Any, caplog: pytest.LogCaptureFixture) -> None:
    """As after a stopped gemchat wakes: the launch has told the user it was not answered, and exited."""
    taken: list[object] = []
    listener.request_received.connect(taken.append)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:  # while this loop does not run
        client.connect(listener.name)
        client.sendall(encode_request(LaunchRequest("Too late"), cwd="/"))
    with caplog.at_level(logging.WARNING, logger="gemchat.launch_listener"):
        qtbot.waitUntil(lambda: "gave up waiting" in caplog.text, timeout=WAIT_MS)
    assert taken == []


def test_a_connection_that_sends_nothing_is_closed(
        tmp_path: Path, qapp: Any, launches: ThreadPoolExecutor, qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(launch_listener, "SILENT_CONNECTION_MS", 100)
    listening = listen_for_launches(tmp_path / "data")
    assert listening is not None
    try:
        closed = launch(launches, listening.name, b"")
        qtbot.waitUntil(closed.done, timeout=WAIT_MS)
        assert closed.result() == b""
    finally:
        listening.close()


def test_a_socket_left_by_a_killed_gemchat_is_replaced(tmp_path: Path, qapp: Any, launches: ThreadPoolExecutor,
                                                       qtbot: Any) -> None:
    name = socket_name(tmp_path / "data")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(name)  # and never removed, as after kill -9
    assert stat.S_ISSOCK(Path(name).stat().st_mode)
    listening = listen_for_launches(tmp_path / "data")
    assert listening is not None
    try:
        with qtbot.waitSignal(listening.request_received, timeout=WAIT_MS):
            launch(launches, name, encode_request(LaunchRequest("Anyone there?"), cwd="/"))
    finally:
        listening.close()


def test_only_the_user_may_connect_and_closing_removes_the_socket(listener: LaunchListener) -> None:
    mode = Path(listener.name).stat().st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) & 0o077 == 0
    listener.close()
    assert not Path(listener.name).exists()
