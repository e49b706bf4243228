"""Ctrl+C in the terminal and SIGTERM quit like Ctrl+Q, saving what is streaming."""

from __future__ import annotations

from collections.abc import Callable


def quit_on_signals(quit_app: Callable[[], None]) -> object:
    """Calls `quit_app` on SIGINT or SIGTERM; keep the returned object for as long as that should hold.

    Python runs signal handlers only between bytecodes, and an idle Qt loop runs
    none; a wake-up socket watched by Qt gets Python running at once.
    """
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(lambda *_: reader.recv(64))

    def on_signal(_signum: int, _frame: object) -> None:
        quit_app()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    return (notifier, reader, writer)
