"""The main window's actions, by name, and its menus: what each keymap entry does in the window."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gemchat.ui.actions import add_menus, build_actions, fill_menus, set_checked_quietly

if TYPE_CHECKING:
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMenu

    from gemchat.ui.main_window import MainWindow

# What the status bar says when a tool of the chat is turned on or off (Chat menu, or its key).
TOOL_TOGGLED = {
    ("google_search", True): "Answers in this chat search Google and cite sources.",
    ("google_search", False): "Google Search is off for this chat.",
    ("code_execution", True): "Gemini may run code to answer in this chat.",
    ("code_execution", False): "Code execution is off for this chat.",
    ("url_context", True): "Gemini may read the pages your messages in this chat link to.",
    ("url_context", False): "Reading links is off for this chat.",
}


class WindowActions:
    """The menus' titles at once, in the window's first frame; the actions and the menus' entries when made.

    `gemchat.app.show_window` makes them once the window has painted (`make`; any
    earlier use makes them too): they are disabled until the first chat shows anyway
    (`MainWindow._on_session_chat_opened`), and made before, they and their keys'
    sequences (QAction's and QKeySequence's Python enums) cost the start 10 M
    instructions, 1.1 %.
    """

    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self.menus: list[QMenu] = add_menus(window.menuBar())
        self._actions: dict[str, QAction] | None = None

    @property
    def made(self) -> bool:
        return self._actions is not None

    def make(self) -> dict[str, QAction]:
        """The actions by name, made (with the menus' entries) the first time."""
        if self._actions is None:
            self._actions = self._make_actions()
            fill_menus(self.menus, self._actions)
        return self._actions

    def show_checked(self, name: str, on: bool) -> None:
        """Shows in the check box `name` a state that changed elsewhere, without acting on it again; not made
        yet, the check boxes are made with the state as it is then."""
        if self._actions is not None:
            set_checked_quietly(self._actions[name], on)

    def _make_actions(self) -> dict[str, QAction]:
        window = self._window
        dialogs, last_turn, zoom = window.dialogs, window.last_turn, window.text_zoom
        slots: dict[str, Callable[..., object]] = {
            "new_chat": lambda: window.session.tasks.start(window.session.new_chat()),
            "quit": window.close,
            "stop": window.stop,
            "retry": window.retry,
            "focus_composer": window.composer.setFocus,
            "api_key": dialogs.ask_api_key,
            "settings": dialogs.open_settings,
            "shortcuts": dialogs.show_shortcuts,
            "rename_chat": lambda: window.header.edit_title(window.statusBar().showMessage),
            "choose_model": lambda: window.model_choice.open_picker(),
            "pin_chat": window.sidebar_actions.pin_open_chat,
            "delete_chat": window.delete_current_chat,
            "undo_delete": window.undo_delete,
            "next_chat": lambda: window.session.switch_by(1),
            "previous_chat": lambda: window.session.switch_by(-1),
            **{f"chat_{n}": (lambda _checked=False, n=n: window.session.switch_to(n - 1)) for n in range(1, 10)},
            "search": lambda: dialogs.open_search(),
            "copy_last_answer": last_turn.copy_last_answer,
            "copy_last_code": last_turn.copy_last_code_block,
            "continue_answer": last_turn.continue_answer,
            "edit_last_question": last_turn.edit_last_question,
            "previous_version": lambda: last_turn.switch_last_answer_version(-1),
            "next_version": lambda: last_turn.switch_last_answer_version(1),
            "chat_settings": dialogs.open_chat_options,
            "export_chat": lambda: dialogs.export_chats(current_only=True),
            "export_all": lambda: dialogs.export_chats(current_only=False),
            "import_chats": dialogs.import_chats,
            "attach_files": window.attachments.choose,
            "zoom_in": zoom.zoom_in,
            "zoom_out": zoom.zoom_out,
            "zoom_reset": zoom.reset,
        }
        toggles = {"typing_effect": lambda on: window.view_options.set_typing_effect(on),
                   "full_width": lambda on: window.view_options.set_full_width(on),
                   **{tool: self._tool_toggle(tool) for tool, _on in TOOL_TOGGLED},
                   "toggle_sidebar": window.sidebar_actions.toggle}
        actions = build_actions(window, slots, toggles)
        set_checked_quietly(actions["typing_effect"], window.settings.typing_effect)
        set_checked_quietly(actions["full_width"], window.settings.full_width)
        set_checked_quietly(actions["toggle_sidebar"], not window.sidebar_panel.isHidden())
        return actions

    def _tool_toggle(self, tool: str) -> Callable[[bool], None]:
        """The slot of a tool's menu entry: the open chat's toggle, and a word in the status bar."""
        window = self._window

        def toggled(on: bool) -> None:
            window.session.set_tool(tool, on)
            window.show_tools()
            window.statusBar().showMessage(TOOL_TOGGLED[tool, on], 4000)

        return toggled
