"""The chip that shows a chat's model (in the header, and in the message box's card); a click opens the picker.

Apart from the picker (`gemchat.ui.model_picker`), which is made when first opened.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from gemchat.core.model_names import model_name
from gemchat.ui.painted import PillButton

CHIP_CHARS = 28
"""A longer model name is shortened in the middle on the chip (the tooltip has the id, the accessible name the name)."""


class ModelChip(PillButton):
    """A chip with the chat's model and ▾; clicking it opens the picker (`clicked`)."""

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        """`key`: the picker's shortcut, named in the tooltip."""
        super().__init__(parent=parent)
        self._key = key
        self.model = ""
        self.show_model("")

    def show_model(self, model: str) -> None:
        """Shows the model as people write it ("Gemini 2.5 Flash", as over its answers); the tooltip has the id."""
        self.model = model
        name = model_name(model) if model else ""
        shown = name if len(name) <= CHIP_CHARS else f"{name[:CHIP_CHARS // 2 - 1]}…{name[-(CHIP_CHARS // 2):]}"
        self.setText(f"{shown or 'Model'}  ▾")
        self.setAccessibleName(f"Model: {name}" if name else "Model")  # what is shown, as a screen reader says it
        self.setToolTip(f"{model + chr(10) if model else ''}Choose this chat's model ({self._key})")
        self.updateGeometry()
