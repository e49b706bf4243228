"""Input fields made the same way wherever they appear."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLineEdit, QToolButton


def search_field(placeholder: str, name: str) -> QLineEdit:
    """A one-line search field with Qt's ✕ to clear it, both named for a screen reader.

    Qt's clear button is an icon with no name of its own: it is called "Clear" + `name`.
    It is made when the field first takes the focus or text (`_ClearButtonOnFirstUse`).
    """
    field = QLineEdit()
    field.setPlaceholderText(placeholder)
    field.setAccessibleName(name)
    _ClearButtonOnFirstUse(field, f"Clear {name[0].lower()}{name[1:]}")
    return field


class _ClearButtonOnFirstUse(QObject):
    """Gives the field Qt's clear button the first time it has the focus or text, named `button_name`.

    The button's icon is the style's: the first themed icon a process asks for costs
    31 M instructions (10-20 ms, Qt's icon loader setting itself up), which the
    window's first paint need not wait for. The button shows only over text, and
    text comes with the focus, so it is there when it can be seen.
    """

    def __init__(self, field: QLineEdit, button_name: str) -> None:
        super().__init__(field)
        self._field = field
        self._button_name = button_name
        field.installEventFilter(self)
        field.textChanged.connect(self._make)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.FocusIn:
            self._make()
        return False

    def _make(self) -> None:
        field = self._field
        field.removeEventFilter(self)
        field.textChanged.disconnect(self._make)
        field.setClearButtonEnabled(True)
        for button in field.findChildren(QToolButton):
            button.setAccessibleName(self._button_name)
        self.deleteLater()
