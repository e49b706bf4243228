"""Drives the typing effect on the UI's clock.

The pacing itself is `gemchat.core.typewriter.Typewriter`; this holds one per
answer and a frame timer that runs only while there is something to reveal,
so an idle window costs no wake-ups.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal

from gemchat.core.typewriter import Typewriter

FRAME_MS = 16


class TypingEffect(QObject):
    """Signals:
        revealed(str): text to add to the view now, in order.
    """

    revealed = Signal(str)

    def __init__(self, chars_per_second: float, enabled: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.enabled = enabled
        self._typewriter = Typewriter(chars_per_second=chars_per_second)
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    def set_speed(self, chars_per_second: float) -> None:
        self._typewriter.chars_per_second = chars_per_second

    @property
    def pending(self) -> int:
        return self._typewriter.pending

    def feed(self, text: str) -> None:
        if not self.enabled:
            self.flush()  # anything held back from before the switch goes first
            self.revealed.emit(text)
            return
        self._typewriter.feed(text, time.monotonic())
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Shows everything held back at once."""
        self._timer.stop()
        if text := self._typewriter.flush():
            self.revealed.emit(text)

    def reset(self) -> None:
        """Drops what is held back (the view switched to another chat)."""
        self._timer.stop()
        self._typewriter.flush()

    def _on_timer_timeout(self) -> None:
        if text := self._typewriter.take(time.monotonic()):
            self.revealed.emit(text)
        if self._typewriter.pending == 0:
            self._timer.stop()
