"""Every shortcut on one page, generated from the keymap so it can never be wrong."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from gemchat.ui.keymap import EXTRA_KEYS, KEYMAP, QUICK_KEYMAP


def _typeable(sequence: QKeySequence) -> bool:
    """Chords a keyboard has; platform bindings to dedicated keys (New, Back, Help…) are left out."""
    combination = sequence[0]  # type: ignore[index]  # QKeySequence is indexable; the stubs miss it
    return (combination.keyboardModifiers() != Qt.KeyboardModifier.NoModifier
            or combination.key().value < Qt.Key.Key_Help.value)


def cheat_sheet_html() -> str:
    rows = []
    for entry in KEYMAP:
        if entry.name.startswith("chat_") and entry.name != "chat_1":
            continue  # Ctrl+1..9 are one row
        keys = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in entry.sequences() if _typeable(s)]
        if entry.name == "chat_1":
            rows.append(("Open chat 1 to 8 of the list; 9 opens the last", [f"{keys[0][:-1]}1 … {keys[0][:-1]}9"]))
        elif keys:
            rows.append((entry.label.replace("&", ""), keys))
    rows.extend((label, list(keys)) for label, keys in EXTRA_KEYS)
    rows.extend((f"Quick ask window: {entry.label.replace('&', '').lower()}",
                 [s.toString(QKeySequence.SequenceFormat.NativeText) for s in entry.sequences() if _typeable(s)])
                for entry in QUICK_KEYMAP)
    body = "".join(
        f"<tr><td style='padding:3px 18px 3px 0'>{html.escape(label.rstrip('…'))}</td>"
        f"<td>{' or '.join(f'<b>{html.escape(k)}</b>' for k in keys)}</td></tr>"
        for label, keys in rows
    )
    return f"<h3>Keyboard shortcuts</h3><table>{body}</table>"


class CheatSheet(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts — gemchat")
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("Keyboard shortcuts")
        self.browser.setHtml(cheat_sheet_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(480, 560)
