"""Pasting huge text into the message box, and typing with a large message in it, beside a plain QPlainTextEdit.

    .venv/bin/python benchmarks/paste.py

What a user feels: how long the window is frozen by Ctrl+V (the paste and the
layout and paint that follow), and what each keystroke costs once a long text
is in the box. Three boxes, measured in this run, in this process, offscreen:

- `QPlainTextEdit`: Qt's own text box, doing nothing else (the baseline);
- `per-keystroke toPlainText`: the composer as it was, reading the whole text
  on every change to enable Send (kept here only as a reference);
- `Composer`: gemchat's box as it is: it reads only what changed, refuses
  pastes over `MAX_MESSAGE_CHARS` before Qt lays them out, and wraps a pasted
  line of over `LONG_LINE` characters anywhere (Qt's search for word breaks
  in a line without spaces is quadratic).

A frame is 16.7 ms at 60 Hz. Figures are medians of several runs.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtWidgets import QApplication, QPlainTextEdit

from gemchat.ui.composer import LONG_LINE, MAX_MESSAGE_CHARS, Composer

FRAME_MS = 1000 / 60
LINE = "2026-11-25 08:31:07 INFO worker-3 request 1a2b3c4d finished in 412 ms (200 OK)\n"


class WholeTextBox(QPlainTextEdit):
    """The composer's old per-keystroke check, for comparison: the whole text, on every change."""

    def __init__(self) -> None:
        super().__init__()
        self.blank = True
        self.textChanged.connect(self._on_text_changed)

    def _on_text_changed(self) -> None:
        self.blank = not self.toPlainText().strip()


def text_of(size: int, one_line: bool = False) -> str:
    """Log-like lines, or one line without a space (minified JSON, base64), of `size` characters."""
    if one_line:
        return ("eyJhbGciOiJIUzI1NiJ9" * (size // 20 + 1))[:size]
    return (LINE * (size // len(LINE) + 1))[:size]


CASES = [(5_000_000, False), (1_000_000, False), (100_000, False), (100_000, True)]
TYPING = [(1_000_000, False), (100_000, False), (100_000, True), (1_000, False)]


def label(size: int, one_line: bool) -> str:
    return f"{size:,} characters" + (" on one line" if one_line else " in lines")


def ms(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def paste_ms(app: QApplication, make: Callable[[], QPlainTextEdit], text: str, runs: int = 5) -> tuple[float, int]:
    """Ctrl+V's freeze: paste() (Qt's insertFromMimeData on the clipboard's data) plus the events it queues."""
    app.clipboard().setText(text)
    times, length = [], 0
    for _ in range(runs):
        box = make()
        box.resize(700, 160)
        box.show()
        app.processEvents()
        times.append(ms(lambda: (box.paste(), app.processEvents())))
        length = len(box.toPlainText())
        box.close()
        box.deleteLater()
        app.processEvents()
    return statistics.median(times), length


def keystroke_ms(app: QApplication, make: Callable[[], QPlainTextEdit], text: str, keys: int = 40) -> float:
    """One typed character (insert, the box's own checks, layout) with `text` already pasted in the box."""
    box = make()
    box.resize(700, 160)
    box.show()
    app.clipboard().setText(text)
    box.paste()
    app.processEvents()
    times = []
    for i in range(keys):
        times.append(ms(lambda: (box.insertPlainText("x"), app.processEvents())))
        if i % 2:
            times.append(ms(lambda: (box.textCursor().deletePreviousChar(), app.processEvents())))
    box.close()
    box.deleteLater()
    app.processEvents()
    return statistics.median(times)


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    boxes: list[tuple[str, Callable[[], QPlainTextEdit]]] = [
        ("QPlainTextEdit (baseline)", QPlainTextEdit),
        ("per-keystroke toPlainText", WholeTextBox),
        ("Composer", Composer),
    ]
    print(f"frame budget {FRAME_MS:.1f} ms; Composer refuses pastes over {MAX_MESSAGE_CHARS:,} characters "
          f"and wraps lines over {LONG_LINE:,} anywhere\n")
    print(f"{'paste (Ctrl+V), frozen for':<40}" + "".join(f"{name:>28}" for name, _ in boxes))
    for size, one_line in CASES:
        text = text_of(size, one_line)
        cells = []
        for _name, make in boxes:
            frozen, kept = paste_ms(app, make, text, runs=3 if size > 1_000_000 else 5)
            cells.append(f"{frozen:9.1f} ms{' (refused)' if kept == 0 else ' (pasted) '}")
        print(f"{label(size, one_line):<40}" + "".join(f"{c:>28}" for c in cells), flush=True)
    print()
    print(f"{'one keystroke, with pasted in the box':<40}" + "".join(f"{name:>28}" for name, _ in boxes))
    for size, one_line in TYPING:
        text = text_of(size, one_line)
        cells = [f"{keystroke_ms(app, make, text, keys=10 if one_line else 40):9.2f} ms" for _name, make in boxes]
        print(f"{label(size, one_line):<40}" + "".join(f"{c:>28}" for c in cells), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
