"""One measured start: `bare` (QMainWindow + QTextEdit) or `gemchat` (the real app).

Prints `painted` when the window first paints, then (with --rss) waits for the
app to settle and prints `rss <kB>`, then exits at once. The parent times
from before it started this process to the `painted` line.
"""

from __future__ import annotations

import os
import sys


def watch_first_paint(app: object, settle_seconds: float, with_rss: bool, wait_ready: bool = False) -> object:
    """Prints `painted` at the window's first paint; with `wait_ready`, `ready` at the first paint
    once gemchat's window says its first chat is shown (`MainWindow.ready`), before exiting."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QMainWindow

    class FirstPaint(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.done = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() != QEvent.Type.Paint:
                return False
            if not self.done and isinstance(watched, QMainWindow):
                self.done = True
                print("painted", flush=True)
                if with_rss:
                    QTimer.singleShot(int(settle_seconds * 1000), report_rss)
                elif not wait_ready:
                    os._exit(0)
            elif self.done and wait_ready and not with_rss and getattr(watched.window(), "ready", False):
                print("ready", flush=True)
                os._exit(0)
            return False

    def report_rss() -> None:
        from benchmarks._common import rss_kb

        print(f"rss {rss_kb()}", flush=True)
        os._exit(0)

    watcher = FirstPaint()
    app.installEventFilter(watcher)  # type: ignore[attr-defined]
    return watcher


def bare(with_rss: bool, settle: float) -> None:
    from PySide6.QtWidgets import QApplication, QMainWindow, QTextEdit

    app = QApplication([sys.argv[0]])
    keep = watch_first_paint(app, settle, with_rss)
    window = QMainWindow()
    window.setCentralWidget(QTextEdit())
    window.resize(900, 720)
    window.show()
    app.exec()
    del keep


def gemchat(data_dir: str, with_rss: bool, settle: float) -> None:
    """Also prints `ready` when the last chat is shown in the window (the session attached, the chat
    read from the database and laid out), which is when a click on it does what it says."""
    # In the order of a real start (the `gemchat` script imports gemchat.cli, whose
    # main calls gemchat.app.run_gui, which makes the QApplication), made here only to watch it:
    # gemchat's own start-up reuses it.
    from PySide6.QtWidgets import QApplication

    from gemchat.cli import main

    app = QApplication([sys.argv[0]])
    keep = watch_first_paint(app, settle, with_rss, wait_ready=True)
    main(["--data-dir", data_dir])
    del keep


if __name__ == "__main__":
    mode, rest = sys.argv[1], sys.argv[2:]
    rss = "--rss" in rest
    settle = 2.0
    if mode == "bare":
        bare(rss, settle)
    else:
        gemchat(rest[0], rss, settle)
