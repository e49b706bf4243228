"""The message box.

Enter sends and Shift+Enter starts a new line, as in every chat app; a plain
text edit so pasted rich text arrives as text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget


class Composer(QPlainTextEdit):
    """Signals:
        submitted(str): the user pressed Enter with something other than whitespace typed.
        emptied(bool): whether the box holds nothing but whitespace, on every change.
    """

    submitted = Signal(str)
    emptied = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("Message Gemini  (Enter to send, Shift+Enter for a new line)")
        self.setTabChangesFocus(True)
        self.setAccessibleName("Message")
        self.textChanged.connect(self._on_text_changed)
        self._blank = True

    def is_blank(self) -> bool:
        return self._blank

    def submit(self) -> None:
        """Sends what is typed, if anything; clears the box."""
        text = self.toPlainText()
        if text.strip():
            self.clear()
            self.submitted.emit(text)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if mods == Qt.KeyboardModifier.NoModifier:
                self.submit()
                return
            if mods == Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
                return
        super().keyPressEvent(event)

    def _on_text_changed(self) -> None:
        blank = not self.toPlainText().strip()
        if blank != self._blank:
            self._blank = blank
            self.emptied.emit(blank)
