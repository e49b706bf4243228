"""Input fields made the same way wherever they appear."""

from __future__ import annotations

from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QLineEdit, QToolButton


class SearchField(QLineEdit):
    """A one-line search field with Qt's ✕ to clear it, both named for a screen reader.

    Qt's clear button is an icon with no name of its own: it is called "Clear" + the
    field's name. It is made by `give_clear_button`, or when the field first takes the
    focus or text. Its icon is the style's, and the first themed icon a process asks
    for costs 31 M instructions (10-20 ms, Qt's icon loader setting itself up), which
    the window's first paint need not wait for, nor the first key typed into the
    field (the window gives its search field the button once its first chat shows).
    The button shows only over text, so it is there whenever it can be seen.
    """

    def __init__(self, placeholder: str, name: str) -> None:
        super().__init__()
        self.setPlaceholderText(placeholder)
        self.setAccessibleName(name)
        self._button_name = f"Clear {name[0].lower()}{name[1:]}"
        self.textChanged.connect(self.give_clear_button)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt override)
        self.give_clear_button()
        super().focusInEvent(event)

    def give_clear_button(self) -> None:
        if self.isClearButtonEnabled():
            return
        self.textChanged.disconnect(self.give_clear_button)
        self.setClearButtonEnabled(True)
        for button in self.findChildren(QToolButton):
            button.setAccessibleName(self._button_name)
