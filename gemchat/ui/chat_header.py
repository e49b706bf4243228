"""The strip above the conversation: the chat's title, edited in place, its tools that are on, and its model.

The title reads as a heading and is a text field underneath: a click or F2
edits it, Enter keeps the new title (through the session, as the sidebar's
rename does), Esc puts the old one back. Each tool that is on in the chat
shows as a chip; clicking one turns that tool off. The model chip opens the
picker (`gemchat.ui.model_choice`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QKeyEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QWidget

from gemchat.ui.model_chip import ModelChip
from gemchat.ui.painted import PillButton, border_color

if TYPE_CHECKING:
    from gemchat.core.messages import Chat

HEIGHT = 48
NEW_CHAT = "New chat"
# Each tool's chip: its short label, its full name, its key (the Chat menu's entries toggle the same).
TOOL_CHIPS: dict[str, tuple[str, str, str]] = {
    "google_search": ("Search", "Google Search", "Ctrl+G"),
    "code_execution": ("Code", "Code execution", "Ctrl+Shift+X"),
    "url_context": ("Links", "Reading links", "Ctrl+Shift+L"),
}


class TitleField(QLineEdit):
    """The title: frameless until edited; Enter keeps it (`edited`), Esc or an empty title puts the old one back.

    Signals:
        edited(str): the user changed the title and pressed Enter, or left the field (as the sidebar's editor does).
        finished(): Enter or Esc ended the editing, the title kept or not (the message box takes the focus back).
    """

    edited = Signal(str)
    finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatTitle")
        self.setAccessibleName("Chat title")
        self.setFrame(False)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor(Qt.GlobalColor.transparent))  # the header shows through
        self.setPalette(palette)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.setFont(font)
        self._shown = ""
        self.returnPressed.connect(lambda: self._keep(finished=True))

    def show_title(self, title: str, editable: bool, keep_edit: bool = False) -> None:
        """Shows `title`, dropping an edit under way unless `keep_edit` (the same chat, renamed meanwhile by its
        first answer: what the user is typing stays, and Esc goes back to the new title)."""
        editing = keep_edit and self.hasFocus() and self.text() != self._shown
        self._shown = title
        if editing:
            return
        self.setText(title)
        self.setCursorPosition(0)  # the start of a long title, not its end
        self.setReadOnly(not editable)
        self.setToolTip(f"{title}\nClick or press F2 to rename this chat" if editable else  # a long title whole
                        "A new chat is named after its first message")

    def edit(self) -> None:
        """F2: the title selected, ready to be typed over."""
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.selectAll()

    def _keep(self, finished: bool) -> None:
        """Keeps a changed title; `finished`: Enter was pressed (not the focus gone elsewhere, where it stays)."""
        title = " ".join(self.text().split())
        if title and title != self._shown and not self.isReadOnly():
            self._shown = title
            self.edited.emit(title)
        self.setText(self._shown)
        self.setCursorPosition(0)
        if finished:
            self.finished.emit()

    def _cancel(self) -> None:
        self.setText(self._shown)
        self.setCursorPosition(0)
        self.finished.emit()

    def event(self, event: QEvent) -> bool:
        # Esc while editing puts the title back, rather than triggering the window's Stop.
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) \
                and event.key() == Qt.Key.Key_Escape:
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Escape:
            self._cancel()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt override)
        super().focusInEvent(event)
        self.setFrame(not self.isReadOnly())

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 (Qt override)
        super().focusOutEvent(event)
        self.setFrame(False)
        if event.reason() != Qt.FocusReason.PopupFocusReason and self.text() != self._shown:
            self._keep(finished=False)


class ChatHeader(QWidget):
    """Signals:
        rename_requested(int, str): the title of that chat was edited (its id, the new title).
        tool_off_requested(str): a tool's chip was clicked (`TOOL_CHIPS`' key).
        title_finished(): editing the title ended.

    Attributes:
        title: the title field.
        model_chip: the chip with the chat's model.
        tool_chips: each tool's chip by name, hidden while the tool is off.
    """

    rename_requested = Signal(int, str)
    tool_off_requested = Signal(str)
    title_finished = Signal()

    def __init__(self, model_key: str, parent: QWidget | None = None) -> None:
        """`model_key`: the picker's shortcut, for the chip's tooltip."""
        super().__init__(parent)
        self.setObjectName("chatHeader")
        self.setFixedHeight(HEIGHT)
        self.setBackgroundRole(QPalette.ColorRole.Base)  # one surface with the conversation under it
        self.setAutoFillBackground(True)
        self._chat_id: int | None = None
        self.title = TitleField()
        self.title.edited.connect(self._on_title_edited)
        self.title.finished.connect(self.title_finished)
        self.model_chip = ModelChip(model_key)
        self.tool_chips: dict[str, PillButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addWidget(self.title, 1)
        for tool, (label, name, key) in TOOL_CHIPS.items():
            chip = PillButton(f"{label}  ✕")
            chip.setAccessibleName(f"{name} on")
            chip.setAccessibleDescription(f"Turns {name} off for this chat ({key})")
            chip.setToolTip(f"{name} is on for this chat. Click to turn it off ({key})")
            chip.clicked.connect(lambda _checked=False, tool=tool: self.tool_off_requested.emit(tool))
            chip.setVisible(False)
            self.tool_chips[tool] = chip
            layout.addWidget(chip)
        layout.addWidget(self.model_chip)
        self.show_chat(None)

    def show_chat(self, chat: Chat | None) -> None:
        """The open chat's title (a new chat's cannot be edited: it has none until its first message)."""
        same = chat is not None and chat.id == self._chat_id
        self._chat_id = chat.id if chat is not None else None
        self.title.show_title(chat.title if chat is not None and chat.title else NEW_CHAT, chat is not None,
                              keep_edit=same)

    def edit_title(self, tell: Callable[[str, int], None]) -> None:
        """F2: the title is edited where it is shown; for a new chat, which has none yet, `tell` (the status bar) says so."""
        if self._chat_id is None:
            tell("A new chat is named after its first message; rename it after that.", 4000)
        else:
            self.title.edit()

    def show_tools(self, on: set[str]) -> None:
        """Shows a chip for each tool in `on`."""
        for tool, chip in self.tool_chips.items():
            chip.setVisible(tool in on)

    def focus_chain(self) -> list[QWidget]:
        """The header's controls in Tab order, as they stand left to right."""
        return [self.title, *self.tool_chips.values(), self.model_chip]

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setPen(border_color(self.palette()))
        painter.drawLine(0, self.height() - 1, self.width(), self.height() - 1)  # a rule above the conversation

    def _on_title_edited(self, title: str) -> None:
        if self._chat_id is not None:
            self.rename_requested.emit(self._chat_id, title)
