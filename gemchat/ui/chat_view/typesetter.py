"""Formulas typeset to SVG by a worker process (`gemchat.core.typeset`), one at a time, each result kept.

The worker is started for the first formula, never at start-up, and its import
of ziamath (about half a second) happens there, not in the window's process.
Each formula gets `TIME_LIMIT` seconds: past that the worker is killed (a
pathological formula, such as fractions nested ten deep, can take minutes),
the formula keeps showing its source, and a new worker takes the next one.
A worker that dies before it is ready, `START_ATTEMPTS` times in a row, is
not started again: every formula then shows its source.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import OrderedDict
from collections.abc import Sequence

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from gemchat.core.formulas import MAX_LENGTH

log = logging.getLogger("gemchat")

TIME_LIMIT = 5.0
"""Seconds one formula may take to typeset."""
START_LIMIT = 30.0
"""Seconds the worker may take to start (importing ziamath takes about 0.5 s)."""
START_ATTEMPTS = 3
"""Workers that may die before they are ready, one after the other, before formulas stay as their source."""
KEPT_RESULTS = 2000
"""Typeset formulas kept (each SVG is 4-15 kB): the same formula again, or a chat opened again, is not typeset again."""
MAX_SVG_LENGTH = 1_000_000
"""A larger SVG is not kept: it would be slow to draw and too large to show (a formula of thousands of terms)."""

Key = tuple[str, bool]


def worker_command() -> list[str]:
    """How to start the worker: this same program with `--typeset-worker` (the frozen app is its own Python)."""
    from gemchat.core.typeset import WORKER_ARGUMENT

    if getattr(sys, "frozen", False):
        return [sys.executable, WORKER_ARGUMENT]
    return [sys.executable, "-m", "gemchat", WORKER_ARGUMENT]


class Typesetter(QObject):
    """Typesets formulas (LaTeX) to SVG in a worker process and keeps the results.

    Signals:
        typeset(str, bool): a formula (its LaTeX, and whether it is set apart) is done: `svg` has the result.

    Attributes:
        started: worker processes started so far (tests, benchmarks).
    """

    typeset = Signal(str, bool)

    def __init__(self, command: Sequence[str] | None = None, time_limit: float = TIME_LIMIT,
                 parent: QObject | None = None) -> None:
        """`command` starts the worker (`worker_command()` unless given); `time_limit` is seconds per formula."""
        super().__init__(parent)
        self._command = list(command) if command is not None else worker_command()
        self._time_limit = time_limit
        self._results: OrderedDict[Key, str] = OrderedDict()  # "" for a formula that cannot be typeset
        self._waiting: OrderedDict[Key, None] = OrderedDict()
        self._current: Key | None = None
        self._process: QProcess | None = None
        self._ready = False
        self._output = b""
        self._failed_starts = 0
        self._closed = False
        self.started = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)

    def svg(self, tex: str, display: bool) -> str | None:
        """The SVG of a formula; "" if it cannot be typeset; None if it is not typeset yet."""
        key = (tex, display)
        result = self._results.get(key)
        if result is not None:
            self._results.move_to_end(key)
        elif self._closed or self._failed_starts >= START_ATTEMPTS or not 0 < len(tex) <= MAX_LENGTH:
            return ""
        return result

    def request(self, tex: str, display: bool) -> None:
        """Asks for a formula to be typeset (once, however often it is asked); `typeset` is emitted when it is done."""
        key = (tex, display)
        if self.svg(tex, display) is not None or key == self._current or key in self._waiting:
            return
        self._waiting[key] = None
        if self._process is None:
            self._start()
        else:
            self._send_next()

    def close(self) -> None:
        """Stops the worker; formulas asked for from now on stay as their source."""
        self._closed = True
        self._timer.stop()
        self._waiting.clear()
        self._stop_process()

    # -- the worker ---------------------------------------------------------------

    def _start(self) -> None:
        process = self._process = QProcess(self)
        self._ready = False
        self._output = b""
        process.setStandardErrorFile(QProcess.nullDevice())
        # Slots of this object, not lambdas: Qt drops them when it is destroyed, before it destroys the
        # process (whose end would otherwise reach a half-destroyed typesetter).
        process.readyReadStandardOutput.connect(self._on_process_ready_read)
        process.finished.connect(self._on_process_finished)
        process.errorOccurred.connect(self._on_process_error_occurred)
        self.started += 1
        process.start(self._command[0], self._command[1:])
        self._timer.start(round(START_LIMIT * 1000))

    def _stop_process(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.blockSignals(True)
            process.kill()
            process.waitForFinished(2000)
            process.deleteLater()

    def _send_next(self) -> None:
        if self._process is None or not self._ready or self._current is not None or not self._waiting:
            return
        key, _ = self._waiting.popitem(last=False)
        self._current = key
        line = json.dumps({"tex": key[0], "display": key[1]}) + "\n"
        self._process.write(line.encode())
        self._timer.start(round(self._time_limit * 1000))

    def _on_process_ready_read(self) -> None:
        if self._process is None:
            return
        self._output += bytes(self._process.readAllStandardOutput().data())
        while b"\n" in self._output:
            line, self._output = self._output.split(b"\n", 1)
            self._take(line)

    def _take(self, line: bytes) -> None:
        try:
            answer = json.loads(line)
        except ValueError:
            log.warning("the formula typesetter said something unexpected; it is stopped")
            self._on_worker_failed()
            return
        if "ready" in answer:
            self._ready = True
            self._failed_starts = 0
            self._timer.stop()
            self._send_next()
        elif "broken" in answer:
            log.warning("formulas cannot be typeset: %s", answer["broken"])
            self._failed_starts = START_ATTEMPTS
            self._on_worker_failed()
        elif self._current is not None:
            self._timer.stop()
            svg = answer.get("svg")
            self._finish(self._current, svg if isinstance(svg, str) and len(svg) <= MAX_SVG_LENGTH else "")
            self._send_next()

    def _finish(self, key: Key, svg: str) -> None:
        self._current = None
        self._results[key] = svg
        if len(self._results) > KEPT_RESULTS:
            self._results.popitem(last=False)
        self.typeset.emit(*key)

    def _on_timer_timeout(self) -> None:
        if self._ready and self._current is not None:
            log.info("a formula took more than %s s to typeset; it is shown as its source", self._time_limit)
        self._on_worker_failed()

    def _on_process_error_occurred(self, error: QProcess.ProcessError) -> None:
        if self._process is not None and self.sender() is self._process and error == QProcess.ProcessError.FailedToStart:
            log.warning("the formula typesetter could not be started: %s", self._process.errorString())
            self._on_worker_failed()

    def _on_process_finished(self, *_: object) -> None:
        if self._process is not None and self.sender() is self._process:
            self._on_worker_failed()

    def _on_worker_failed(self) -> None:
        """The worker died, hung or misbehaved: the formula it had fails, and the next one gets a new worker."""
        self._timer.stop()
        if not self._ready:
            self._failed_starts += 1
        self._stop_process()
        if self._current is not None:
            self._finish(self._current, "")
        if self._failed_starts >= START_ATTEMPTS:
            waiting, self._waiting = list(self._waiting), OrderedDict()
            for key in waiting:
                self._finish(key, "")
        elif self._waiting and not self._closed:
            self._start()
