"""The running gemchat's side of `instance.py`: later launches on its data directory reach it here.

A QObject and no widgets: it reads each launch's one-line request, answers it
and says what was asked (`request_received`); the app decides what the window
does with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from gemchat.instance import MAX_LINE, LaunchRequest, MalformedRequest, encode_answer, parse_request, socket_name

log = logging.getLogger(__name__)

SILENT_CONNECTION_MS = 10_000  # a connection that sends no whole line by then is dropped


def listen_for_launches(directory: Path) -> LaunchListener | None:
    """The listener for later launches on `directory`, listening; None (the reason logged) when it cannot.

    Call it holding the directory's lock. Without it this gemchat still runs; a
    later launch then says it is not responding instead of handing its request over.
    """
    try:
        listener = LaunchListener(socket_name(directory))
    except OSError as exc:
        log.warning("later launches cannot reach this gemchat: %s", exc)
        return None
    return listener if listener.listen() else None


class LaunchListener(QObject):
    """Listens on the data directory's socket (`instance.socket_name`) while this gemchat runs.

    Signals:
        request_received(LaunchRequest): a later launch asked for this and was told it was taken.
    """

    request_received = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_server_new_connection)

    def listen(self) -> bool:
        """Starts listening; False, with the reason logged, when it cannot.

        Only the gemchat holding the data directory's lock listens, so a socket
        already there was left by one that was killed, and is removed first.
        """
        QLocalServer.removeServer(self.name)
        if self._server.listen(self.name):
            return True
        log.warning("later launches cannot reach this gemchat at %s: %s", self.name, self._server.errorString())
        return False

    def is_listening(self) -> bool:
        return self._server.isListening()

    def close(self) -> None:
        """Stops listening (and removes the socket); a launch from now on waits for the lock instead."""
        self._server.close()

    def _on_server_new_connection(self) -> None:
        while (socket := self._server.nextPendingConnection()) is not None:
            _Connection(socket, self.request_received.emit)


class _Connection(QObject):
    """One launch's connection, owned by its socket: one line read, answered, and the socket closed."""

    def __init__(self, socket: QLocalSocket, taken: Callable[[LaunchRequest], None]) -> None:
        super().__init__(socket)
        self._socket = socket
        self._taken = taken
        self._line = bytearray()
        self._answered = False
        socket.disconnected.connect(socket.deleteLater)
        socket.readyRead.connect(self._on_socket_ready_read)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._timer.start(SILENT_CONNECTION_MS)
        if socket.bytesAvailable():
            self._on_socket_ready_read()

    def _on_socket_ready_read(self) -> None:
        if self._answered:
            return
        self._line += bytes(self._socket.read(MAX_LINE + 1 - len(self._line)).data())
        end = self._line.find(b"\n")
        if end < 0:
            if len(self._line) > MAX_LINE:
                self._answer(f"the request is longer than {MAX_LINE} bytes")
            return
        try:
            request = parse_request(bytes(self._line[:end]))
        except MalformedRequest as exc:
            log.warning("a launch sent a request this gemchat cannot read: %s", exc)
            self._answer(f"malformed request: {exc}")
            return
        if self._answer(None):
            self._taken(request)
        else:  # it was told nothing, so it has told the user this gemchat is not responding
            log.warning("a launch gave up waiting before its request was answered; the request was dropped")

    def _on_timer_timeout(self) -> None:
        log.warning("a launch connected and sent no request; the connection was closed")
        self._socket.abort()

    def _answer(self, error: str | None) -> bool:
        """Sends the answer and closes; True if it reached the launch (one that gave up has closed its end)."""
        self._answered = True
        self._timer.stop()
        self._socket.write(encode_answer(error))
        self._socket.flush()
        delivered = (self._socket.state() == QLocalSocket.LocalSocketState.ConnectedState
                     and self._socket.bytesToWrite() == 0)
        self._socket.disconnectFromServer()
        return delivered
