"""The processes `benchmarks/desktop.py` starts on its X server (not a benchmark itself).

    bare                         QMainWindow + QTextEdit, nothing else: the baseline of start-up and memory
    bare-probe                   the same, with a 4 ms timer; then a filter field over a plain list of the
                                 library's titles, typed into (the baseline of the stall and keystroke figures)
    gemchat-probe DATA_DIR       the real app (gemchat.cli.main) with a 4 ms timer and the keys of a user:
                                 stalls in its first 5 s, keystrokes in the sidebar's filter, Ctrl+K's results
    plain-stream                 a bare QTextEdit taking a streamed answer (the real SDK, the fake server) in
                                 40-character pieces: the baseline of the streaming stall

Probes print one JSON line and exit at once. Start-up and memory are measured
from outside (the X server's MapNotify, /proc), on processes without a probe.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WINDOW_SECONDS = 5.0  # stalls are counted over this long after the window's first paint
FILTER_WORDS = ("lig", "ligh", "lighthouse")  # typed one key at a time into a filter field
SEARCH_QUERY = "python stream"


class Probe:
    """A 4 ms timer and the window's first paint, in the process measured."""

    def __init__(self) -> None:
        from PySide6.QtCore import QEvent, QObject, Qt, QTimer
        from PySide6.QtWidgets import QApplication, QMainWindow

        self.stamps: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(4)
        self.timer.timeout.connect(lambda: self.stamps.append(time.perf_counter()))
        self.timer.start()
        self.painted: float | None = None
        self.on_painted: Callable[[], None] | None = None
        probe = self
        qt_app = QApplication.instance()
        assert qt_app is not None
        stop_filtering = qt_app.removeEventFilter

        class FirstPaint(QObject):
            def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
                if probe.painted is None and event.type() == QEvent.Type.Paint and isinstance(watched, QMainWindow):
                    probe.painted = time.perf_counter()
                    # Off again: a Python call in every event of the process was the probe's cost, not the app's
                    # (and wrapping the objects Qt made, seen here first, made PySide6 make every widget type).
                    QTimer.singleShot(0, lambda: stop_filtering(self))
                    if probe.on_painted is not None:
                        QTimer.singleShot(0, probe.on_painted)
                return False

        self._filter = FirstPaint()
        qt_app.installEventFilter(self._filter)

    def stalls(self, start: float, end: float) -> dict[str, Any]:
        """The longest gaps of the timer between `start` and `end`, as a user would feel them.

        `end` is never later than now: the time since the last tick is a gap only once it has passed.
        """
        end = min(end, time.perf_counter())
        inside = [t for t in self.stamps if start <= t <= end]
        points = [start, *inside, end]
        gaps = sorted(((b - a) * 1000, (a - start) * 1000) for a, b in itertools.pairwise(points))
        gaps.reverse()
        return {"max_gap": gaps[0][0] if gaps else 0.0, "worst": [[round(g, 1), round(at)] for g, at in gaps[:5]],
                "over_50": sum(1 for g, _ in gaps if g > 50)}


def after_window(then: Callable[[], None]) -> None:
    """Calls `then` WINDOW_SECONDS from now, not before: a default (coarse) Qt timer of 5 s may fire up to
    5 % early, and the 250 ms still to come were then counted as a stall."""
    from PySide6.QtCore import Qt, QTimer

    timer = QTimer()
    timer.setSingleShot(True)
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(then)
    timer.start(int(WINDOW_SECONDS * 1000) + 1)
    _KEPT.append(timer)


_KEPT: list[Any] = []  # timers alive until they fire


def wait_paint(widget: Any, then: Callable[[float], None], timeout_ms: int = 3000,
               also: Any = None) -> None:
    """Calls `then(t)` once `widget` has painted and its frame has gone to the screen (t: perf_counter).

    With `also` (another widget of the same window), a frame in which only `also` painted counts
    when `widget` has not painted by `timeout_ms`: a filter key that changes nothing in the list
    still shows its letter in the field. Without it, no paint gives NaN.
    """
    from PySide6.QtCore import QEvent, QObject, QTimer

    state: dict[str, Any] = {"done": False, "also": float("nan")}

    def finish(stamp: float) -> None:
        if not state["done"]:
            state["done"] = True
            widget.removeEventFilter(watcher)
            if also is not None:
                also.removeEventFilter(watcher)
            then(stamp)

    class Watcher(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                # The frame is flushed to the window after every widget of it has painted: next turn.
                if watched is widget:
                    QTimer.singleShot(0, lambda: finish(time.perf_counter()))
                elif state["also"] != state["also"]:  # the first frame of `also` (NaN until then)
                    QTimer.singleShot(0, lambda: state.__setitem__("also", time.perf_counter()))
            return False

    watcher = Watcher(widget)
    widget.installEventFilter(watcher)
    if also is not None:
        also.installEventFilter(watcher)
    QTimer.singleShot(timeout_ms, lambda: finish(state["also"]))


def key(widget: Any, what: Any, modifiers: Any = None) -> None:
    """A key press and release (a letter, or a `Qt.Key`), shortcuts included, as QTest delivers them."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    QTest.keyClick(widget, what, modifiers if modifiers is not None else Qt.KeyboardModifier.NoModifier)


def type_words(field: Any, shown: Any, done: Callable[[list[float], list[float]], None]) -> None:
    """Types FILTER_WORDS into `field` one key at a time (clearing between words); each key is timed
    from its press to the paint of `shown` (the list it filters), or, when the key changes nothing
    shown there, to the paint of the field (its letter). `done(times, handled)` also gets how long
    each key's own handling took (the filter's work, before anything is painted)."""
    from PySide6.QtCore import QTimer

    keys: list[str] = []
    for word in FILTER_WORDS:
        keys.extend(word)
        keys.append("\x1b")  # clear, not timed
    times: list[float] = []
    handled: list[float] = []

    def next_key() -> None:
        if not keys:
            done(times, handled)
            return
        letter = keys.pop(0)
        if letter == "\x1b":
            field.clear()
            QTimer.singleShot(150, next_key)
            return
        began = time.perf_counter()
        key(field, letter)
        handled.append((time.perf_counter() - began) * 1000)
        wait_paint(shown, lambda t: (times.append((t - began) * 1000), QTimer.singleShot(120, next_key)),
                   timeout_ms=400, also=field)

    field.setFocus()
    # Shift alone, untimed: QTest's own first use (building Python enums for the key and its modifiers,
    # 5-6 ms) is the harness's, not the field's; a key from the X server costs the app none of it.
    from PySide6.QtCore import Qt

    key(field, Qt.Key.Key_Shift)
    QTimer.singleShot(200, next_key)


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)
    os._exit(0)


# -- the processes ---------------------------------------------------------------------------


def bare() -> None:
    from PySide6.QtWidgets import QApplication, QMainWindow, QTextEdit

    app = QApplication([sys.argv[0]])
    window = QMainWindow()
    window.setCentralWidget(QTextEdit())
    window.resize(900, 720)
    window.show()
    app.exec()


def bare_probe(titles_file: str) -> None:
    """The bare window's stalls; then the naive filter: a QLineEdit hiding the rows of a QListWidget."""
    from PySide6.QtWidgets import QApplication, QLineEdit, QListWidget, QMainWindow, QTextEdit, QVBoxLayout, QWidget

    app = QApplication([sys.argv[0]])
    probe = Probe()
    window = QMainWindow()
    window.setCentralWidget(QTextEdit())
    window.resize(900, 720)
    result: dict[str, Any] = {}

    def filter_test() -> None:
        assert probe.painted is not None
        result.update(probe.stalls(probe.painted, probe.painted + WINDOW_SECONDS))
        panel = QWidget()
        field = QLineEdit()
        rows = QListWidget()
        rows.addItems(json.loads(Path(titles_file).read_text(encoding="utf-8")))
        layout = QVBoxLayout(panel)
        layout.addWidget(field)
        layout.addWidget(rows)
        window.setCentralWidget(panel)

        def on_text(text: str) -> None:
            words = text.casefold().split()
            for row in range(rows.count()):
                item = rows.item(row)
                item.setHidden(not all(w in item.text().casefold() for w in words))

        field.textChanged.connect(on_text)
        type_words(field, rows.viewport(), lambda times, handled: emit({**result, "keys": times,
                                                                          "keys_handled": handled}))

    probe.on_painted = lambda: after_window(filter_test)
    window.show()
    app.exec()


def gemchat_probe(data_dir: str) -> None:
    """The real app; after its first 5 s, the sidebar's filter is typed into, then Ctrl+K searches."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    probe = Probe()
    result: dict[str, Any] = {}

    def main_window() -> Any:
        from gemchat.ui.main_window import MainWindow

        return next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))

    def after_first_seconds() -> None:
        assert probe.painted is not None
        result.update(probe.stalls(probe.painted, probe.painted + WINDOW_SECONDS))
        window = main_window()
        result["chats_listed"] = len(window.sidebar.chat_ids())
        result["ready"] = bool(window.ready)
        panel = window.sidebar_panel
        type_words(panel.filter, window.sidebar.viewport(), filtered)

    def filtered(times: list[float], handled: list[float]) -> None:
        result["keys"], result["keys_handled"] = times, handled
        window = main_window()
        window.sidebar_panel.filter.clear()
        window.activateWindow()
        QTimer.singleShot(300, lambda: open_search(window))

    def open_search(window: Any) -> None:
        began = time.perf_counter()
        target = QApplication.focusWidget() or window
        key(target, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        dialog = window.dialogs.search_dialog
        result["ctrl_k_reached"] = dialog is not None
        if dialog is None:
            window.dialogs.open_search()  # the shortcut did not reach it (no focus without a window manager)
            dialog = window.dialogs.search_dialog
        wait_paint(dialog, lambda t: (result.__setitem__("search_open", (t - began) * 1000),
                                      QTimer.singleShot(300, lambda: search(dialog, []))))

    def search(dialog: Any, times: list[float]) -> None:
        if len(times) == 5:
            result["search_results"] = times
            result["search_hits"] = dialog.results.count()
            emit(result)
        dialog.query.clear()
        dialog.query.setText(SEARCH_QUERY if len(times) % 2 == 0 else SEARCH_QUERY.split()[0])
        began = time.perf_counter()
        key(dialog.query, Qt.Key.Key_Return)  # Enter right after typing: searches at once

        def painted(t: float) -> None:
            times.append((t - began) * 1000)
            QTimer.singleShot(300, lambda: search(dialog, times))

        wait_paint(dialog.results.viewport(), painted)

    probe.on_painted = lambda: after_window(after_first_seconds)
    QTimer.singleShot(60_000, lambda: emit({**result, "error": "timed out"}))
    from gemchat.cli import main

    main(["--data-dir", data_dir])
    del app


def plain_stream() -> None:
    """A bare QTextEdit: each piece of the same stream, through the same SDK, appended as plain text."""
    import asyncio

    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtGui import QTextCursor

    from benchmarks._common import bare_text_window
    from gemchat.core.gemini import GeminiBackend
    from gemchat.core.messages import GenerationRequest, Message, Role, Status

    _qt_app, loop, _window, edit = bare_text_window()  # kept referenced: the window lives as long as they do

    async def scenario() -> dict[str, Any]:
        import google.genai  # noqa: F401  (gemchat imports it before the first question too)

        backend = GeminiBackend(api_key="benchmark-key")
        request = GenerationRequest(model="gemini-3.6-flash",
                                    history=[Message(1, 1, Role.USER, "Show me everything", Status.COMPLETE, "")])
        stamps: list[float] = []
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(4)
        timer.timeout.connect(lambda: stamps.append(time.perf_counter()))
        await asyncio.sleep(0.5)
        timer.start()
        first: float | None = None
        shown = 0
        cursor = QTextCursor(edit.document())
        async for event in backend.stream(request):
            if event.text:
                first = first or time.perf_counter()
                cursor.movePosition(QTextCursor.MoveOperation.End)
                cursor.insertText(event.text)
                shown += len(event.text)
                edit.verticalScrollBar().setValue(edit.verticalScrollBar().maximum())
        await asyncio.sleep(0.05)
        timer.stop()
        await backend.aclose()
        streaming = [t for t in stamps if first is not None and t >= first]
        gaps = [(b - a) * 1000 for a, b in itertools.pairwise(streaming)]
        return {"stream_max_gap": max(gaps), "shown": shown, "seconds": streaming[-1] - streaming[0]}

    with loop:
        result = loop.run_until_complete(scenario())
    emit(result)


if __name__ == "__main__":
    mode, rest = sys.argv[1], sys.argv[2:]
    {"bare": lambda: bare(), "bare-probe": lambda: bare_probe(rest[0]),
     "gemchat-probe": lambda: gemchat_probe(rest[0]), "plain-stream": lambda: plain_stream()}[mode]()
