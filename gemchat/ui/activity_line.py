"""The line under the conversation that says what Gemini is doing before text arrives."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

DOTS_MS = 400


class ActivityLine(QLabel):
    """Says "Gemini is thinking…" or "… Retrying in 20 s"; hidden while nothing is awaited.

    While it waits on Gemini its dots move, so a long wait does not look like a hang.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("activity")
        self.setVisible(False)
        self._text = ""
        self._dots = 0
        self._timer = QTimer(self)
        self._timer.setInterval(DOTS_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    def show_activity(self, text: str | None, waiting: bool = False) -> None:
        """Shows `text` (None hides the line); `waiting` keeps the dots moving."""
        if text is None:
            self._timer.stop()
            self.setVisible(False)
            self.clear()
            return
        self._text = text
        self._dots = 0
        self.setText(text + "…")
        self.setVisible(True)
        if not waiting:
            self._timer.stop()
        elif not self._timer.isActive():
            self._timer.start()

    def _on_timer_timeout(self) -> None:
        self._dots = (self._dots + 1) % 4
        self.setText(self._text + "." * self._dots)
