"""Preferences (Ctrl+,). Changes apply when the dialog is accepted, without a restart."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gemchat.settings import THEMES, THINKING_LEVELS, Settings
from gemchat.ui.sizing import grow_to_fit

if TYPE_CHECKING:
    import asyncio

    from gemchat.tasks import Tasks

log = logging.getLogger(__name__)


class SettingsDialog(QDialog):
    """Signals:
        change_key_requested(): the user wants to paste another API key.
        forget_key_requested(): the user wants the stored key removed from the keyring and the key file.
    """

    change_key_requested = Signal()
    forget_key_requested = Signal()

    def __init__(
        self,
        settings: Settings,
        key_status: str,
        load_models: Callable[[], Awaitable[list[str]]],
        tasks: Tasks,
        parent: QWidget | None = None,
    ) -> None:
        """`load_models` fills the model list in the background, through `tasks`; typing a name works meanwhile."""
        super().__init__(parent)
        self.setWindowTitle("Settings — gemchat")
        self._settings = settings
        key_row = self._key_row(key_status)
        temp_row = self._answer_fields(settings)
        self._app_fields(settings)

        form = QFormLayout()
        form.addRow("API key:", key_row)
        form.addRow("Default model:", self.model)
        form.addRow("Thinking level:", self.thinking)
        form.addRow("", self.show_thoughts)
        form.addRow("Temperature:", temp_row)
        form.addRow("System instruction:", self.system_instruction)
        form.addRow("", self.typing_effect)
        form.addRow("Typing speed:", self.typing_speed)
        form.addRow("Give up after silence of:", self.read_timeout)
        form.addRow("Theme:", self.theme)
        form.addRow("", self.notifications)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(560, 0)
        grow_to_fit(self)
        self._models_task: asyncio.Task[None] = tasks.start(self._fill_models(load_models))

    def _key_row(self, key_status: str) -> QVBoxLayout:
        """Where the key comes from, on a line of its own (a key file's path can be long), then its buttons."""
        self.key_label = QLabel(key_status)
        self.key_label.setWordWrap(True)
        change_key = QPushButton("Change key…")
        change_key.clicked.connect(self.change_key_requested)
        forget_key = QPushButton("Forget stored key")
        forget_key.clicked.connect(self.forget_key_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(change_key)
        buttons.addWidget(forget_key)
        buttons.addStretch(1)
        key_row = QVBoxLayout()
        key_row.addWidget(self.key_label)
        key_row.addLayout(buttons)
        return key_row

    def show_key_status(self, text: str) -> None:
        """New words for where the key comes from; the dialog grows if they need more lines."""
        self.key_label.setText(text)
        grow_to_fit(self)

    def _answer_fields(self, settings: Settings) -> QHBoxLayout:
        """What new chats ask Gemini for; returns the temperature's row."""
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.addItem(settings.model)
        self.model.setCurrentText(settings.model)
        self.model.setToolTip("Model for new chats; the list comes from the Gemini API.")
        self.thinking = QComboBox()
        for level in THINKING_LEVELS:
            self.thinking.addItem(level.capitalize() if level else "Model default", level)
        self.thinking.setCurrentIndex(THINKING_LEVELS.index(settings.thinking_level))
        self.thinking.setToolTip("For chats left “As in Settings” (Ctrl+Shift+M sets a chat's own); sent only to "
                                 "models that take that level, others decide for themselves")
        self.show_thoughts = QCheckBox("Show thoughts (a summary, in a collapsed Thinking section)")
        self.show_thoughts.setToolTip("Asks thinking models for a summary of their thoughts (include_thoughts).")
        self.show_thoughts.setChecked(settings.show_thoughts)
        self.set_temperature = QCheckBox("Send a temperature")
        self.set_temperature.setToolTip(
            "Off by default: Gemini 3.6 models deprecated sampling parameters; only set it for models that accept it."
        )
        self.temperature = QDoubleSpinBox()
        self.temperature.setAccessibleName("Temperature")
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(settings.temperature if settings.temperature is not None else 1.0)
        self.set_temperature.setChecked(settings.temperature is not None)
        self.temperature.setEnabled(settings.temperature is not None)
        self.set_temperature.toggled.connect(self.temperature.setEnabled)
        temp_row = QHBoxLayout()
        temp_row.addWidget(self.set_temperature)
        temp_row.addWidget(self.temperature, 1)
        self.system_instruction = QPlainTextEdit(settings.system_instruction)
        self.system_instruction.setPlaceholderText("Default system instruction for new chats (optional)")
        self.system_instruction.setMaximumHeight(90)
        return temp_row

    def _app_fields(self, settings: Settings) -> None:
        """How gemchat itself shows answers and waits for them."""
        self.typing_effect = QCheckBox("Typing effect (off: text appears as it arrives)")
        self.typing_effect.setChecked(settings.typing_effect)
        self.typing_speed = QSpinBox()
        self.typing_speed.setRange(20, 5000)
        self.typing_speed.setSuffix(" characters/s")
        self.typing_speed.setValue(int(settings.typing_speed))
        self.read_timeout = QSpinBox()
        self.read_timeout.setRange(5, 600)
        self.read_timeout.setSuffix(" s")
        self.read_timeout.setValue(int(settings.read_timeout))
        self.theme = QComboBox()
        for theme in THEMES:
            self.theme.addItem(theme.capitalize(), theme)
        self.theme.setCurrentIndex(THEMES.index(settings.theme))
        self.notifications = QCheckBox("Desktop notification when an answer ends in a chat you are not looking at")
        self.notifications.setToolTip("Shows the chat's title and the answer's first line; a click opens the chat. "
                                      "Needs a notification service (most desktops have one).")
        self.notifications.setChecked(settings.notifications)

    async def _fill_models(self, load_models: Callable[[], Awaitable[list[str]]]) -> None:
        try:
            names = await load_models()
        except Exception as exc:  # the list is a convenience; typing a name still works
            log.info("could not list models: %s", type(exc).__name__)
            self.model.setToolTip("Could not load the model list; type a model name.")
            return
        current = self.model.currentText()
        self.model.clear()
        self.model.addItems(sorted(set(names) | {current}))
        self.model.setCurrentText(current)

    def apply_to(self, settings: Settings) -> None:
        """Copies the dialog's values into `settings`."""
        settings.model = self.model.currentText().strip() or settings.model
        settings.thinking_level = self.thinking.currentData()
        settings.show_thoughts = self.show_thoughts.isChecked()
        settings.temperature = self.temperature.value() if self.set_temperature.isChecked() else None
        settings.system_instruction = self.system_instruction.toPlainText().strip()
        settings.typing_effect = self.typing_effect.isChecked()
        settings.typing_speed = float(self.typing_speed.value())
        settings.read_timeout = float(self.read_timeout.value())
        settings.theme = self.theme.currentData()
        settings.notifications = self.notifications.isChecked()

    def done(self, result: int) -> None:
        self._models_task.cancel()
        super().done(result)
