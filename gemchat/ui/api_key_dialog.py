"""Asks for a Gemini API key on first start, or when the user wants to change it."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from gemchat.core.credentials import KEYS_URL


class ApiKeyDialog(QDialog):
    """The key is shown masked and never echoed anywhere else."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Gemini API key — gemchat")
        intro = QLabel(
            "gemchat needs a Gemini API key. Create one at "
            f'<a href="{KEYS_URL}">Google AI Studio</a> and paste it below. '
            "It is kept in your system keyring, never in gemchat's files."
        )
        intro.setWordWrap(True)
        intro.setOpenExternalLinks(True)
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
        layout.addWidget(self._edit)
        layout.addWidget(buttons)
        self.resize(460, 0)

    def key(self) -> str:
        return self._edit.text().strip()
