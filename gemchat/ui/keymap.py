"""Every keyboard shortcut of gemchat, in one table.

Menus, the window's actions and the documentation are all generated from this
table, so a shortcut is changed in one place and can never be listed wrong.
Qt's standard keys are used where Qt has one, so platforms get their own
conventions, with the plain sequence as a fallback where a platform has none.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QKeySequence

StandardKey = QKeySequence.StandardKey


@dataclass(frozen=True, slots=True)
class Binding:
    """Attributes:
        name: the action's id, used by the window to find its slot.
        label: the menu text.
        keys: standard keys and/or portable sequences ("Ctrl+N"), first is primary.
    """

    name: str
    label: str
    keys: tuple[StandardKey | str, ...]

    def sequences(self) -> list[QKeySequence]:
        """The key sequences on this platform, without empty or repeated ones."""
        seen: list[QKeySequence] = []
        for key in self.keys:
            found = QKeySequence.keyBindings(key) if isinstance(key, StandardKey) else [QKeySequence(key)]
            for sequence in found:
                if not sequence.isEmpty() and sequence not in seen:
                    seen.append(sequence)
        return seen


# The text size of the conversation and the message box, in both windows. "Ctrl+=" is "Ctrl++"
# without Shift on most layouts; Qt's ZoomIn is "Ctrl++" only.
ZOOM_KEYS: tuple[Binding, ...] = (
    Binding("zoom_in", "Zoom &In", (StandardKey.ZoomIn, "Ctrl++", "Ctrl+=")),
    Binding("zoom_out", "Zoom &Out", (StandardKey.ZoomOut, "Ctrl+-")),
    Binding("zoom_reset", "&Reset Zoom", ("Ctrl+0",)),
)

KEYMAP: tuple[Binding, ...] = (
    Binding("new_chat", "&New Chat", (StandardKey.New, "Ctrl+N")),
    Binding("quit", "&Quit", (StandardKey.Quit, "Ctrl+Q")),
    Binding("stop", "&Stop Answer", (StandardKey.Cancel, "Esc")),
    Binding("retry", "&Retry", ("Ctrl+R",)),
    Binding("focus_composer", "Focus &Message Box", ("Shift+Esc",)),
    Binding("api_key", "API &Key…", ()),
    Binding("settings", "&Settings…", (StandardKey.Preferences, "Ctrl+,")),
    Binding("typing_effect", "&Typing Effect", ()),
    Binding("full_width", "&Full-Width Conversation", ()),
    *ZOOM_KEYS,
    Binding("shortcuts", "&Keyboard Shortcuts", ("Ctrl+/", StandardKey.HelpContents, "F1")),
    Binding("rename_chat", "Re&name Chat", ("F2",)),
    Binding("pin_chat", "&Pin or Unpin Chat", ("Ctrl+Shift+P",)),
    Binding("toggle_sidebar", "Show &Sidebar", ("Ctrl+B",)),
    Binding("delete_chat", "&Delete Chat", ("Ctrl+Shift+Backspace",)),
    Binding("undo_delete", "&Undo Delete", ("Ctrl+Alt+Z",)),
    Binding("next_chat", "Ne&xt Chat", ("Ctrl+Tab", StandardKey.NextChild, "Ctrl+PgDown")),
    Binding("previous_chat", "Pre&vious Chat", ("Ctrl+Shift+Tab", StandardKey.PreviousChild, "Ctrl+PgUp")),
    *(Binding(f"chat_{n}", f"Chat {n}", (f"Ctrl+{n}",)) for n in range(1, 10)),
    Binding("search", "&Search Chats…", ("Ctrl+K", "Ctrl+Shift+F")),
    Binding("copy_last_answer", "Copy Last &Answer (Markdown)", ("Ctrl+Shift+C",)),
    Binding("copy_last_code", "Copy Last &Code Block", ("Ctrl+Shift+;",)),
    Binding("continue_answer", "C&ontinue Answer", ("Ctrl+Shift+Return",)),
    Binding("edit_last_question", "&Edit Last Question", ("Ctrl+Shift+E",)),
    Binding("previous_version", "Previous &Version of Last Answer", ("Alt+Left",)),
    Binding("next_version", "Next V&ersion of Last Answer", ("Alt+Right",)),
    # Ctrl+L: the model picker's key in LM Studio ("select a model to load"), the nearest chat app that has one.
    Binding("choose_model", "C&hoose Model…", ("Ctrl+L",)),
    Binding("chat_settings", "Chat &Model and Instructions…", ("Ctrl+Shift+M",)),
    Binding("export_chat", "&Export Chat…", (StandardKey.SaveAs, "Ctrl+Shift+S")),
    Binding("export_all", "Export &All Chats…", ()),
    Binding("import_chats", "&Import Chats…", (StandardKey.Open, "Ctrl+O")),
    Binding("attach_files", "&Attach Files…", ("Ctrl+U",)),
    Binding("google_search", "Ground with &Google Search", ("Ctrl+G",)),
    Binding("code_execution", "Let Gemini Run &Code", ("Ctrl+Shift+X",)),
    Binding("url_context", "Let Gemini Read &Links", ("Ctrl+Shift+L",)),
)

# The quick-ask window's own keys (`gemchat --quick`); they act only while it is the active window.
QUICK_KEYMAP: tuple[Binding, ...] = (
    Binding("hide", "Hide", ("Esc",)),
    Binding("open_in_main", "Open in gemchat", ("Ctrl+O",)),
    Binding("new_question", "New Question", (StandardKey.New, "Ctrl+N")),
    Binding("stop", "Stop Answer", ("Ctrl+.",)),
    *ZOOM_KEYS,
)

# Keys handled inside a widget rather than by a window action, listed for the cheat sheet.
EXTRA_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Send message", ("Enter",)),
    ("New line in message", ("Shift+Enter",)),
    ("Edit your last question (in an empty message box)", ("Up",)),
    ("Attach a copied file or image (in the message box)", ("Ctrl+V",)),
    ("Zoom in or out (over the conversation or the message box)", ("Ctrl+Wheel",)),
    ("Move through search results", ("Up", "Down")),
)


def binding(name: str, keymap: tuple[Binding, ...] = KEYMAP) -> Binding:
    for entry in keymap:
        if entry.name == name:
            return entry
    raise KeyError(name)
