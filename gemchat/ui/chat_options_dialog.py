"""The open chat's own model, system instruction and thinking level (Ctrl+Shift+M)."""

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
from gemchat.core.thinking import LEVELS

if TYPE_CHECKING:
    from gemchat.tasks import Tasks

log = logging.getLogger(__name__)


class ChatOptionsDialog(QDialog):
    """Changes apply to this chat's next answers; new chats keep the defaults from Settings."""

    def __init__(self, chat: Chat, load_models: Callable[[], Awaitable[list[str]]], tasks: Tasks,
                 parent: QWidget | None = None,
                 levels_for: Callable[[str], tuple[str, ...] | None] = lambda _model: None,
                 default_level: str = "") -> None:
        """`load_models` fills the model list in the background, through `tasks`, until the dialog closes.

        `levels_for` says which thinking levels a model takes (() none, None unknown: all are
        offered); `default_level` is Settings' level, which "As in Settings" follows.
        """
        super().__init__(parent)
        self.setWindowTitle(f"{chat.title or 'New chat'} — model and instructions")
        self._levels_for = levels_for
        self._default_level = default_level
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.addItem(chat.model)
        self.model.setCurrentText(chat.model)
        self.thinking = QComboBox()
        self.thinking.setAccessibleName("Thinking level")
        self.thinking.setToolTip("How much the model thinks before it answers; only the levels this model takes "
                                 "are offered")
        self._offer_levels(chat.model, chat.thinking_level)
        self.model.currentTextChanged.connect(lambda model: self._offer_levels(model, self.thinking.currentData()))
        self.system_instruction = QPlainTextEdit(chat.system_instruction or "")
        self.system_instruction.setPlaceholderText("System instruction for this chat (optional)")
        note = QLabel("Applies to this chat's next answers. New chats use the defaults from Settings.")
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Model:", self.model)
        form.addRow("Thinking:", self.thinking)
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

    def _offer_levels(self, model: str, keep: str) -> None:
        """The levels `model` takes, the one chosen kept if it still is one; else "As in Settings"."""
        levels = self._levels_for(model.strip())
        offered = LEVELS if levels is None else levels
        default = self._default_level.capitalize() or "Model default"
        if self._default_level and levels is not None and self._default_level not in levels:
            default = "Model default: this model does not take " + self._default_level
        self.thinking.clear()
        self.thinking.addItem(f"As in Settings ({default})", "")
        self.thinking.addItem("Model default", "default")
        for level in offered:
            self.thinking.addItem(level.capitalize(), level)
        self.thinking.setEnabled(levels != ())
        index = self.thinking.findData(keep)
        self.thinking.setCurrentIndex(max(index, 0))

    def values(self) -> tuple[str, str, str]:
        """The model, the system instruction and the chat's thinking level ("" as in Settings, "default")."""
        return (self.model.currentText().strip(), self.system_instruction.toPlainText().strip(),
                self.thinking.currentData() or "")
