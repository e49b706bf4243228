"""One gemchat per data directory: where a later launch finds the running one, and what it sends there.

The gemchat that holds a data directory's lock (`data_directory.lock_data_dir`)
listens on a local socket named from that directory (`launch_listener.py`). A
later launch on the same directory finds the lock taken and, instead of
opening a second window on the same database, hands its request over on that
socket: one line of JSON, answered by one line of JSON.

    {"version": 1, "prompt": "a question" or null, "files": ["/abs/a.png"], "cwd": "/abs/dir"}
    {"version": 1, "prompt": null, "files": [], "cwd": "/abs/dir", "quick": true}
    {"version": 1, "ok": true}
    {"version": 1, "ok": false, "error": "why not"}

Only the same user can reach the socket: on Linux it lives in the user's
runtime directory (mode 0700), and Qt makes the socket itself user-only
(`UserAccessOption`). The lock, not the socket, says whether a gemchat runs:
a socket left behind by a killed one is removed by the next (`QLocalServer.removeServer`).

This module is the launching side and the format; it loads no Qt until a
request is really handed over.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

VERSION = 1
ANSWER_WITHIN = 2.0  # seconds a running gemchat has to answer before the launch says it is not responding
MAX_LINE = 16 * 1024 * 1024  # more than any command line can hold, even with every character escaped
_RETRY = 0.05  # between tries while the running gemchat is still starting and not yet listening
_FIELDS = {"version", "prompt", "files", "cwd"}
_OPTIONAL_FIELDS = {"quick"}  # sent only when true, so a gemchat older than quick ask takes every other request

L = TypeVar("L")


class MalformedRequest(ValueError):
    """A line that is not a request this version understands; the message says what is wrong."""


class NotAnswering(Exception):
    """The gemchat holding the data directory did not answer in time (stopped, or stuck)."""


class RequestRefused(Exception):
    """The running gemchat answered, and did not take the request; the message is its reason."""


@dataclass(frozen=True)
class LaunchRequest:
    """What a launch asks of the window: a message to send in a new chat, files to attach.

    Attributes:
        prompt: sent in a new chat; None (or empty) to send nothing.
        files: absolute paths, attached to the message box.
        quick: show the quick-ask window instead of the main one (`prompt` is asked there).
    """

    prompt: str | None = None
    files: tuple[Path, ...] = ()
    quick: bool = False


def socket_name(directory: Path) -> str:
    """The running gemchat's socket for this data directory, the same however the directory is spelt.

    A hash of the user and the directory's real path, so two data directories
    get two sockets. On Linux a full path in the user's runtime directory (Qt
    would otherwise put it in /tmp, where another user could take the name
    first); elsewhere a name Qt places per user (macOS's per-user temporary
    folder, a Windows named pipe). Raises OSError when no runtime directory
    only this user can use exists or can be made.
    """
    # Qt's SHA-256, not hashlib's: the same digest, without loading OpenSSL's hashes (5-10 ms
    # before the window shows, 0.6 MB for the rest of the run).
    from PySide6.QtCore import QCryptographicHash

    user = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "")
    real = os.fsencode(os.path.realpath(directory))
    digest = QCryptographicHash.hash(user.encode() + b"\0" + real, QCryptographicHash.Algorithm.Sha256)
    name = "gemchat-" + bytes(digest.toHex().data()).decode("ascii")[:24]
    if sys.platform.startswith("linux"):
        return str(_runtime_dir() / name)
    return name


def _runtime_dir() -> Path:
    """$XDG_RUNTIME_DIR (the session's, made by the login manager), else a 0700 folder of our own in the temp dir."""
    configured = os.environ.get("XDG_RUNTIME_DIR", "")
    if os.path.isabs(configured) and os.path.isdir(configured):
        return Path(configured)
    import tempfile

    own = Path(tempfile.gettempdir()) / f"gemchat-runtime-{os.getuid()}"
    try:
        own.mkdir(mode=0o700)
    except FileExistsError:
        pass
    info = own.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise OSError(f"{own} belongs to another user or is not a folder, and XDG_RUNTIME_DIR is not set")
    if stat.S_IMODE(info.st_mode) != 0o700:
        own.chmod(0o700)
    return own


# -- the format ----------------------------------------------------------------------


def encode_request(request: LaunchRequest, cwd: str | None = None) -> bytes:
    """One line; `\\u` escapes keep it ASCII, and any lone surrogate of a non-UTF-8 argument intact."""
    body: dict[str, Any] = {"version": VERSION, "prompt": request.prompt,
                            "files": [os.fspath(f) for f in request.files],
                            "cwd": cwd if cwd is not None else os.getcwd()}
    if request.quick:
        body["quick"] = True
    return json.dumps(body).encode("ascii") + b"\n"


def parse_request(line: bytes) -> LaunchRequest:
    """The request a launch sent; raises `MalformedRequest` for anything but the format above.

    File names are taken as given when absolute, else from the launch's `cwd`.
    """
    body = _json_object(line)
    if not _FIELDS <= set(body) <= _FIELDS | _OPTIONAL_FIELDS:
        raise MalformedRequest(f"expected the fields {sorted(_FIELDS)} (and maybe {sorted(_OPTIONAL_FIELDS)}), "
                               f"got {sorted(body)}")
    if type(body["version"]) is not int or body["version"] != VERSION:
        raise MalformedRequest(f"version {body['version']!r} is not {VERSION}")
    prompt, files, cwd = body["prompt"], body["files"], body["cwd"]
    if prompt is not None and not isinstance(prompt, str):
        raise MalformedRequest("prompt is neither text nor null")
    if not isinstance(cwd, str) or not os.path.isabs(cwd) or "\0" in cwd:
        raise MalformedRequest("cwd is not an absolute path")
    if not isinstance(files, list) or not all(isinstance(f, str) and f and "\0" not in f for f in files):
        raise MalformedRequest("files is not a list of file names")
    quick = body.get("quick", False)
    if type(quick) is not bool:
        raise MalformedRequest("quick is neither true nor false")
    return LaunchRequest(prompt, tuple(Path(os.path.normpath(os.path.join(cwd, f))) for f in files), quick)


def encode_answer(error: str | None = None) -> bytes:
    body: dict[str, Any] = {"version": VERSION, "ok": error is None}
    if error is not None:
        body["error"] = error
    return json.dumps(body).encode("ascii") + b"\n"


def parse_answer(line: bytes) -> None:
    """Returns when the answer says the request was taken; raises `RequestRefused` otherwise."""
    try:
        body = _json_object(line)
    except MalformedRequest as exc:
        raise RequestRefused(f"it answered something gemchat cannot read ({exc})") from exc
    if body.get("ok") is not True:
        raise RequestRefused(str(body.get("error") or "it gave no reason"))


def _json_object(line: bytes) -> dict[str, Any]:
    if len(line) > MAX_LINE:
        raise MalformedRequest(f"longer than {MAX_LINE} bytes")
    try:
        body = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedRequest(f"not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise MalformedRequest("not a JSON object")
    return body


# -- the launching side --------------------------------------------------------------


def hand_over(directory: Path, request: LaunchRequest, try_lock: Callable[[], L | None],
              within: float = ANSWER_WITHIN) -> L | None:
    """Hands `request` to the gemchat holding `directory`; None once it has taken it.

    A gemchat still starting is not listening yet, so connecting is tried again
    until `within` seconds have passed. Between tries `try_lock` is called: if the
    running gemchat has ended meanwhile, the lock it returns is returned, and this
    launch becomes the one. Raises `NotAnswering` after `within` seconds without
    an answer, `RequestRefused` if the running gemchat said no, OSError when
    there is no safe place for the socket.
    """
    name = socket_name(directory)
    deadline = time.monotonic() + within
    line = encode_request(request)
    while True:
        if _send(name, line, deadline):
            return None
        lock = try_lock()
        if lock is not None:
            return lock
        if time.monotonic() >= deadline:
            raise NotAnswering
        time.sleep(_RETRY)


def _send(name: str, line: bytes, deadline: float) -> bool:
    """One try: False if nothing listens on `name`; True once the answer says the request was taken."""
    from PySide6.QtNetwork import QLocalSocket

    def left_ms() -> int:
        return max(0, int((deadline - time.monotonic()) * 1000))

    socket = QLocalSocket()
    try:
        socket.connectToServer(name)
        if not socket.waitForConnected(left_ms()):
            return False  # no socket, or one left by a killed gemchat: nobody listening (yet)
        socket.write(line)
        while socket.bytesToWrite() and socket.waitForBytesWritten(left_ms()):
            pass
        answer = b""
        while not answer.endswith(b"\n") and len(answer) <= MAX_LINE:
            if socket.bytesAvailable():
                answer += bytes(socket.readLine(MAX_LINE).data())
            elif socket.state() != QLocalSocket.LocalSocketState.ConnectedState:
                return False  # closed without an answer: that gemchat is quitting; try again
            elif not socket.waitForReadyRead(left_ms()) and time.monotonic() >= deadline:
                raise NotAnswering
        parse_answer(answer)
        return True
    finally:
        socket.abort()
