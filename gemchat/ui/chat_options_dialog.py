"""The open chat's own model and system instruction (Ctrl+Shift+M)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from gemchat.core.messages import Chat

if TYPE_CHECKING:
    from gemchat.tasks import Tasks

log = logging.getLogger(__name__)


class ChatOptionsDialog(QDialog):
    """Changes apply to this chat's next answers; new chats keep the defaults from Settings."""

    def __init__(self, chat: Chat, load_models: Callable[[], Awaitable[list[str]]], tasks: Tasks,
                 parent: QWidget | None = None) -> None:
        """`load_models` fills the model list in the background, through `tasks`, until the dialog closes."""
        super().__init__(parent)
        self.setWindowTitle(f"{chat.title or 'New chat'} — model and instructions")
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.addItem(chat.model)
        self.model.setCurrentText(chat.model)
        self.system_instruction = QPlainTextEdit(chat.system_instruction or "")
        self.system_instruction.setPlaceholderText("System instruction for this chat (optional)")
        note = QLabel("Applies to this chat's next answers. New chats use the defaults from Settings.")
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Model:", self.model)
        form.addRow("System instruction:", self.system_instruction)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(520, 320)
        models = tasks.start(self._fill_models(load_models))
        self.finished.connect(lambda _result: models.cancel())

    async def _fill_models(self, load_models: Callable[[], Awaitable[list[str]]]) -> None:
        try:
            names = await load_models()
        except Exception as exc:  # the list is a convenience; typing a name still works
            log.info("could not list models: %s", type(exc).__name__)
            return
        current = self.model.currentText()
        self.model.clear()
        self.model.addItems(sorted(set(names) | {current}))
        self.model.setCurrentText(current)

    def values(self) -> tuple[str, str]:
        return self.model.currentText().strip(), self.system_instruction.toPlainText().strip()
