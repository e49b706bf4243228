"""Input fields made the same way wherever they appear."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit, QToolButton


def search_field(placeholder: str, name: str) -> QLineEdit:
    """A one-line search field with Qt's ✕ to clear it, both named for a screen reader.

    Qt's clear button is an icon with no name of its own: it is called "Clear" + `name`.
    """
    field = QLineEdit()
    field.setPlaceholderText(placeholder)
    field.setAccessibleName(name)
    field.setClearButtonEnabled(True)
    for button in field.findChildren(QToolButton):
        button.setAccessibleName(f"Clear {name[0].lower()}{name[1:]}")
    return field
