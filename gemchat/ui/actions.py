"""The window's actions and menus, made from the keymap (`gemchat.ui.keymap`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu, QMenuBar, QToolButton, QWidget

from gemchat.ui.keymap import KEYMAP

if TYPE_CHECKING:
    from PySide6.QtGui import QAction  # imported where the actions are made: after the first paint

MENUS: dict[str, tuple[str | None, ...]] = {  # None: a separator
    "&File": ("new_chat", "search", None, "export_chat", "export_all", "import_chats", None,
              "settings", "api_key", None, "quit"),
    "&Chat": ("stop", "retry", "continue_answer", "edit_last_question", "previous_version",
              "next_version", None, "attach_files", "google_search", "code_execution", "url_context", None,
              "copy_last_answer", "copy_last_code",
              "focus_composer", None, "choose_model", "chat_settings", "rename_chat", "pin_chat", "delete_chat", "undo_delete", None,
              "next_chat", "previous_chat"),
    "&View": ("toggle_sidebar", "full_width", "typing_effect", None, "zoom_in", "zoom_out", "zoom_reset"),
    "&Help": ("shortcuts",),
}
TOOLTIPS = {
    "google_search": "Answers in this chat search Google and cite their sources",
    "code_execution": "Gemini may write and run Python code to answer in this chat, and shows the code and its output",
    "url_context": "Gemini may read the web pages your messages in this chat link to",
}


def build_actions(window: QWidget, triggered: Mapping[str, Callable[[], object]],
                  toggled: Mapping[str, Callable[[bool], object]]) -> dict[str, QAction]:
    """One action per keymap entry, disabled until the window enables them; by name.

    An action named in `toggled` is a check box calling its slot with the new state;
    every other calls its slot in `triggered`.
    """
    from PySide6.QtGui import QAction

    actions: dict[str, QAction] = {}
    for entry in KEYMAP:
        action = QAction(window)  # not (label, window): matching that call makes QIcon's Python enums (3-6 ms)
        action.setText(entry.label)
        action.setShortcuts(entry.sequences())
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if entry.name in toggled:
            action.setCheckable(True)
            action.toggled.connect(toggled[entry.name])
        else:
            action.triggered.connect(triggered[entry.name])
        if entry.name in TOOLTIPS:
            action.setToolTip(TOOLTIPS[entry.name])
        action.setEnabled(False)  # until the first chat is shown
        window.addAction(action)
        actions[entry.name] = action
    return actions


def add_menus(bar: QMenuBar) -> list[QMenu]:
    """The menu bar's menus, empty: their titles are in the window's first frame, their entries come with the
    actions (`fill_menus`)."""
    menus = [bar.addMenu(title) for title in MENUS]
    # The » button Qt shows when the window is too narrow for every menu: an icon, so it needs a name.
    overflow = bar.findChild(QToolButton, "qt_menubar_ext_button")
    if overflow is not None:
        overflow.setAccessibleName("More menus")
    return menus


def fill_menus(menus: list[QMenu], actions: Mapping[str, QAction]) -> None:
    for menu, names in zip(menus, MENUS.values(), strict=True):
        for name in names:
            if name is None:
                menu.addSeparator()
            else:
                menu.addAction(actions[name])


def set_checked_quietly(action: QAction, on: bool) -> None:
    """Shows a state that changed elsewhere, without acting on it again."""
    action.blockSignals(True)
    action.setChecked(on)
    action.blockSignals(False)
