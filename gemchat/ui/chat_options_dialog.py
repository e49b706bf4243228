"""The open chat's own model, system instruction and thinking level (Ctrl+Shift+M)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from gemchat.core.image_models import ASPECT_RATIOS, IMAGE_SIZES, ImageOptions, is_image_model
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
        self._build_picture_options(chat.image_options)
        self.model.currentTextChanged.connect(self._show_picture_options)
        self.system_instruction = QPlainTextEdit(chat.system_instruction or "")
        self.system_instruction.setPlaceholderText("System instruction for this chat (optional)")
        note = QLabel("Applies to this chat's next answers. New chats use the defaults from Settings.")
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Model:", self.model)
        form.addRow("Thinking:", self.thinking)
        form.addRow(self.pictures_label, self.pictures)
        form.addRow("System instruction:", self.system_instruction)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self._show_picture_options(chat.model)
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
        every = set(names) | {current}
        self.model.clear()
        self.model.addItems(sorted(name for name in every if not is_image_model(name)))
        pictures = sorted(name for name in every if is_image_model(name))
        if pictures:  # the image models last, after a line, each saying what it is
            self.model.insertSeparator(self.model.count())
            for name in pictures:
                self.model.addItem(name)
                self.model.setItemData(self.model.count() - 1, "An image model: it answers with pictures",
                                       Qt.ItemDataRole.ToolTipRole)
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

    def _build_picture_options(self, options: ImageOptions) -> None:
        """For an image model: the pictures' shape and size, and whether answers are pictures only."""
        self.aspect_ratio = QComboBox()
        self.aspect_ratio.setAccessibleName("Picture shape")
        self.aspect_ratio.addItem("Any shape", "")
        for ratio in ASPECT_RATIOS:
            self.aspect_ratio.addItem(ratio, ratio)
        self.aspect_ratio.setCurrentIndex(max(0, self.aspect_ratio.findData(options.aspect_ratio)))
        self.image_size = QComboBox()
        self.image_size.setAccessibleName("Picture size")
        self.image_size.addItem("Model's size", "")
        for size in IMAGE_SIZES:
            self.image_size.addItem(size, size)
        self.image_size.setCurrentIndex(max(0, self.image_size.findData(options.image_size)))
        self.pictures_only = QCheckBox("Pictures only, no words")
        self.pictures_only.setChecked(options.pictures_only)
        self.pictures = QWidget()
        row = QHBoxLayout(self.pictures)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.aspect_ratio)
        row.addWidget(self.image_size)
        row.addWidget(self.pictures_only, 1)
        self.pictures_label = QLabel("Pictures:")

    def _show_picture_options(self, model: str) -> None:
        """The picture options only for an image model (they mean nothing to the others)."""
        shown = is_image_model(model)
        self.pictures.setVisible(shown)
        self.pictures_label.setVisible(shown)

    def values(self) -> tuple[str, str, str, ImageOptions]:
        """The model, the system instruction, the chat's thinking level ("" as in Settings, "default")
        and its image options (kept whatever the model, for when the chat goes back to an image model)."""
        return (self.model.currentText().strip(), self.system_instruction.toPlainText().strip(),
                self.thinking.currentData() or "",
                ImageOptions(self.aspect_ratio.currentData() or "", self.image_size.currentData() or "",
                             self.pictures_only.isChecked()))
