"""A local stream socket, served on the Qt event loop: the transport of one gemchat per data directory.

Where Python has Unix sockets (Linux, macOS), they are Python's `socket`,
watched by QtCore's `QSocketNotifier`: QtNetwork's `QLocalServer` did the same
with the same kind of socket, and leaving QtNetwork out takes 3.4 MB off the
package (README's *Packaging*). Windows Python has none (CPython issue 77589),
so there Qt's named pipes serve, through the same two classes; that path is
untested here, like the Windows build.

`instance.py` says what goes over the socket and `launch_listener.py` answers
it; this module only moves bytes.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSocketNotifier, Signal

if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalSocket

HAS_UNIX_SOCKETS = hasattr(socket, "AF_UNIX")
_CHUNK = 65536
_SEND_WITHIN = 1.0  # seconds; an answer is one short line, which a socket's buffer always takes at once


class Connection(QObject):
    """One accepted connection; it deletes itself once closed.

    Signals:
        data_received(bytes): what arrived; b"" once the other end has closed its side.
    """

    data_received = Signal(bytes)

    def send_and_close(self, data: bytes) -> bool:
        """Sends `data` and closes; True if it all reached the other end (False once that end has closed)."""
        raise NotImplementedError

    def abort(self) -> None:
        """Closes without sending anything more."""
        raise NotImplementedError


class Listener(QObject):
    """Listens on a socket only this user can open.

    Signals:
        connected(Connection): a client connected.
    """

    connected = Signal(object)

    def listen(self, name: str) -> str | None:
        """Listens on `name`, after removing a socket left there; None, or why it cannot."""
        raise NotImplementedError

    def is_listening(self) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        """Stops listening and removes the socket."""
        raise NotImplementedError


def new_listener(parent: QObject | None = None) -> Listener:
    return _UnixListener(parent) if HAS_UNIX_SOCKETS else _PipeListener(parent)


def exchange(name: str, line: bytes, deadline: float, max_answer: int) -> bytes | None:
    """Sends `line` to whoever listens on `name` and returns its answer, up to and with its newline.

    None when nobody listens there, or it closed without answering (both worth
    another try); TimeoutError when `deadline` (time.monotonic()) passes first.
    """
    if not HAS_UNIX_SOCKETS:
        return _pipe_exchange(name, line, deadline, max_answer)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            client.connect(name)
        except (FileNotFoundError, ConnectionRefusedError, TimeoutError):
            return None  # no socket, or one left by a killed gemchat: nobody listening (yet)
        try:
            client.sendall(line)
            answer = b""
            while not answer.endswith(b"\n") and len(answer) <= max_answer:
                client.settimeout(max(0.001, deadline - time.monotonic()))
                chunk = client.recv(_CHUNK)
                if not chunk:
                    return None  # closed without an answer: that gemchat is quitting
                answer += chunk
        except (BrokenPipeError, ConnectionResetError):
            return None
        return answer


# -- Unix sockets (Python's) ---------------------------------------------------------


class _UnixConnection(Connection):
    def __init__(self, connection: socket.socket, parent: QObject | None) -> None:
        super().__init__(parent)
        connection.setblocking(False)
        self._socket = connection
        self._notifier = QSocketNotifier(connection.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_notifier_activated)

    def send_and_close(self, data: bytes) -> bool:
        try:
            self._socket.settimeout(_SEND_WITHIN)
            self._socket.sendall(data)
            delivered = True
        except OSError:  # EPIPE: the other end has closed; or it stopped reading
            delivered = False
        self.abort()
        return delivered

    def abort(self) -> None:
        if self._socket.fileno() < 0:
            return
        self._notifier.setEnabled(False)
        self._socket.close()
        self.deleteLater()

    def _on_notifier_activated(self) -> None:
        try:
            data = self._socket.recv(_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._notifier.setEnabled(False)
        self.data_received.emit(data)


class _UnixListener(Listener):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._socket: socket.socket | None = None
        self._notifier: QSocketNotifier | None = None
        self._name = ""

    def listen(self, name: str) -> str | None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            server.bind(name)
            os.chmod(name, 0o600)  # as QLocalServer's UserAccessOption; its folder is the user's alone too
            server.listen(16)
        except OSError as exc:
            server.close()
            return exc.strerror or str(exc)
        server.setblocking(False)
        self._socket, self._name = server, name
        self._notifier = QSocketNotifier(server.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_notifier_activated)
        return None

    def is_listening(self) -> bool:
        return self._socket is not None

    def close(self) -> None:
        if self._socket is None or self._notifier is None:
            return
        self._notifier.setEnabled(False)
        self._socket.close()
        self._socket = None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._name)

    def _on_notifier_activated(self) -> None:
        while self._socket is not None:
            try:
                connection, _address = self._socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # out of file descriptors, say: that launch is told nothing and tries again
                return
            self.connected.emit(_UnixConnection(connection, self))


# -- Windows: Qt's named pipes ------------------------------------------------------


class _PipeConnection(Connection):
    def __init__(self, pipe: QLocalSocket) -> None:
        super().__init__(pipe)
        self._pipe = pipe
        pipe.disconnected.connect(pipe.deleteLater)
        pipe.readyRead.connect(self._on_pipe_ready_read)
        pipe.readChannelFinished.connect(lambda: self.data_received.emit(b""))

    def send_and_close(self, data: bytes) -> bool:
        from PySide6.QtNetwork import QLocalSocket

        self._pipe.write(data)
        self._pipe.flush()
        delivered = (self._pipe.state() == QLocalSocket.LocalSocketState.ConnectedState
                     and self._pipe.bytesToWrite() == 0)
        self._pipe.disconnectFromServer()
        return delivered

    def abort(self) -> None:
        self._pipe.abort()

    def _on_pipe_ready_read(self) -> None:
        data = bytes(self._pipe.readAll().data())
        if data:
            self.data_received.emit(data)


class _PipeListener(Listener):
    def __init__(self, parent: QObject | None = None) -> None:
        from PySide6.QtNetwork import QLocalServer

        super().__init__(parent)
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_server_new_connection)

    def listen(self, name: str) -> str | None:
        self._server.removeServer(name)
        return None if self._server.listen(name) else self._server.errorString()

    def is_listening(self) -> bool:
        return self._server.isListening()

    def close(self) -> None:
        self._server.close()

    def _on_server_new_connection(self) -> None:
        while (pipe := self._server.nextPendingConnection()) is not None:
            self.connected.emit(_PipeConnection(pipe))


def _pipe_exchange(name: str, line: bytes, deadline: float, max_answer: int) -> bytes | None:
    from PySide6.QtNetwork import QLocalSocket

    def left_ms() -> int:
        return max(0, int((deadline - time.monotonic()) * 1000))

    pipe = QLocalSocket()
    try:
        pipe.connectToServer(name)
        if not pipe.waitForConnected(left_ms()):
            return None
        pipe.write(line)
        while pipe.bytesToWrite() and pipe.waitForBytesWritten(left_ms()):
            pass
        answer = b""
        while not answer.endswith(b"\n") and len(answer) <= max_answer:
            if pipe.bytesAvailable():
                answer += bytes(pipe.readLine(max_answer).data())
            elif pipe.state() != QLocalSocket.LocalSocketState.ConnectedState:
                return None
            elif not pipe.waitForReadyRead(left_ms()) and time.monotonic() >= deadline:
                raise TimeoutError
        return answer
    finally:
        pipe.abort()
