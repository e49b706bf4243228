"""Asks for a Gemini API key on first start, or when the user wants to change it."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from gemchat.core.credentials import KEYS_URL, KeyPlace
from gemchat.ui.sizing import grow_to_fit

KEPT_IN_KEYRING = "It is kept in your system keyring, never in gemchat's files."
NO_KEYRING = "No system keyring was found on this computer. Where should gemchat keep the key?"
NO_KEYRING_NO_FILE = ("No system keyring was found on this computer: the key is used for this session only. "
                      "Set GEMINI_API_KEY in your environment to keep it.")


class ApiKeyDialog(QDialog):
    """The key is shown masked and never echoed anywhere else.

    It goes to the system keyring; where there is none (`show_no_keyring`), the
    user chooses between this session only (the default) and a file only they
    can read, labelled as less safe. Nothing is written to a file unasked.

    Attributes:
        session_only, in_file: the two choices, shown only when there is no keyring.
    """

    def __init__(self, parent: QWidget | None = None, problem: str | None = None) -> None:
        """`problem`: why a key kept before was not used (the key file's permissions), shown above the field."""
        super().__init__(parent)
        self.setWindowTitle("Gemini API key — gemchat")
        intro = QLabel(
            "gemchat needs a Gemini API key. Create one at "
            f'<a href="{KEYS_URL}">Google AI Studio</a> and paste it below.'
        )
        intro.setWordWrap(True)
        intro.setOpenExternalLinks(True)
        self._where = QLabel(KEPT_IN_KEYRING)
        self._where.setWordWrap(True)
        self._edit = QLineEdit()
        self._edit.setEchoMode(QLineEdit.EchoMode.Password)
        self._edit.setPlaceholderText("Paste your API key")
        self._edit.setAccessibleName("API key")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        save = buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(False)
        self._edit.textChanged.connect(lambda text: save.setEnabled(bool(text.strip())))
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        if problem:
            said = QLabel(problem)
            said.setObjectName("key_file_problem")
            said.setWordWrap(True)
            layout.addWidget(said)
        layout.addWidget(self._edit)
        layout.addWidget(self._where)
        self._choices = self._build_choices()
        layout.addWidget(self._choices)
        layout.addWidget(buttons)
        self._keyring = True
        self.resize(520, 0)
        grow_to_fit(self)

    def _build_choices(self) -> QWidget:
        box = QWidget()
        self.session_only = QRadioButton("Use it for this session only")
        self.session_only.setChecked(True)
        self.in_file = QRadioButton("Keep it in a file only you can read")
        self._file_note = QLabel()
        self._file_note.setWordWrap(True)
        self._file_note.setContentsMargins(24, 0, 0, 0)  # under the button it explains
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.session_only)
        layout.addWidget(self.in_file)
        layout.addWidget(self._file_note)
        box.hide()
        return box

    def show_no_keyring(self, key_file: Path | None) -> None:
        """There is no keyring: offers the file at `key_file` (None: no file may hold it, this session only)."""
        self._keyring = False
        if key_file is None:
            self._where.setText(NO_KEYRING_NO_FILE)
            grow_to_fit(self)
            return
        self._where.setText(NO_KEYRING)
        self._file_note.setText(
            f"{html.escape(str(key_file))}<br><b>Less safe than a system keyring:</b> any program running as you "
            "can read it. Settings can forget it (the file is then deleted).")
        self._choices.show()
        grow_to_fit(self)

    def key(self) -> str:
        return self._edit.text().strip()

    def place(self) -> KeyPlace:
        """Where the user wants the key kept."""
        if self._keyring:
            return KeyPlace.KEYRING
        return KeyPlace.FILE if self.in_file.isChecked() and not self._choices.isHidden() else KeyPlace.SESSION
