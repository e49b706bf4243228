"""The View menu's choices that are settings: the typing effect, the full-width conversation, the text size.

Each is kept in the settings the moment it changes, and the message box's card
keeps to the conversation's column whatever changed its width.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMainWindow

from gemchat.settings import Settings
from gemchat.ui.chat_view import ChatView
from gemchat.ui.composer_card import ComposerColumn
from gemchat.ui.presenter import AnswerPresenter


class ViewOptions(QObject):
    def __init__(self, window: QMainWindow, settings: Settings, view: ChatView, foot: ComposerColumn,
                 presenter: AnswerPresenter, changed: Callable[[], None]) -> None:
        """`changed` is called after a setting changed (the window saves them)."""
        super().__init__(window)
        self._window = window
        self._settings = settings
        self._view = view
        self._foot = foot
        self._presenter = presenter
        self._changed = changed
        view.column.full_width = settings.full_width
        self.fit_foot()

    def fit_foot(self) -> None:
        """The message box's card as wide as the conversation's column (its widest grows with the text)."""
        self._foot.set_column_width(self._view.column.widest())

    def set_typing_effect(self, on: bool) -> None:
        self._settings.typing_effect = on
        self._presenter.set_typing(on)
        self._changed()

    def set_full_width(self, on: bool) -> None:
        self._settings.full_width = self._view.column.full_width = on
        self.fit_foot()
        self._changed()

    def text_zoom_changed(self, level: int) -> None:
        self._settings.text_zoom = level
        self.fit_foot()
        self._window.statusBar().showMessage(f"Text size {level}%", 2000)
        self._changed()
