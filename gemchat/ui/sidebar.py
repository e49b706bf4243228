"""The chats: a New chat button, a field that filters titles as you type, and the list.

The list shows pinned chats first, under Pinned, then the rest by their last
activity, grouped by age; titles are renamed in place, and each row has a
menu (right-click, or the Menu key) to open, rename, pin or delete it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QContextMenuEvent, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gemchat.core.messages import Chat

CHAT_ID = Qt.ItemDataRole.UserRole
PINNED = Qt.ItemDataRole.UserRole + 1
GROUPS = ("Pinned", "Today", "Yesterday", "Previous 7 days", "Older")


def group_of(updated_at: str, today: dt.date) -> str:
    """Which heading a chat goes under, by the local date of its last activity."""
    try:
        when = dt.datetime.fromisoformat(updated_at.replace("Z", "+00:00")).astimezone().date()
    except ValueError:
        return "Older"
    days = (today - when).days
    if days <= 0:
        return "Today"
    if days == 1:
        return "Yesterday"
    if days <= 7:
        return "Previous 7 days"
    return "Older"


class Sidebar(QListWidget):
    """Signals:
        chat_selected(int): the user picked a chat.
        rename_requested(int, str): the user edited a chat's title in place.
        delete_requested(int): Delete pressed on a chat, or Delete chosen in its menu.
        pin_requested(int, bool): Pin or Unpin chosen in a chat's menu.
    """

    chat_selected = Signal(int)
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)
    pin_requested = Signal(int, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Chats")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setUniformItemSizes(False)
        self.setMinimumWidth(180)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._current: int | None = None
        self._filling = False
        self._filter = ""
        self.currentItemChanged.connect(self._on_current_item_changed)
        self.itemChanged.connect(self._on_item_changed)

    def set_chats(self, chats: Sequence[Chat], current: int | None) -> None:
        """Rebuilds the list (a few hundred items rebuild in well under a frame)."""
        self._filling = True
        self.clear()
        today = dt.date.today()
        header_font = QFont(self.font())
        header_font.setBold(True)
        header_font.setPointSizeF(max(header_font.pointSizeF() * 0.85, 7))
        last_group = None
        for chat in sorted(chats, key=lambda c: not c.pinned):  # pinned first; each part keeps its order
            group = "Pinned" if chat.pinned else group_of(chat.updated_at, today)
            if group != last_group:
                header = QListWidgetItem(group)
                header.setFlags(Qt.ItemFlag.NoItemFlags)
                header.setFont(header_font)
                self.addItem(header)
                last_group = group
            item = QListWidgetItem(chat.title or "New chat")
            item.setData(CHAT_ID, chat.id)
            item.setData(PINNED, chat.pinned)
            item.setToolTip(chat.title)
            item.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsEditable)
            self.addItem(item)
        self._current = current
        self._select(current)
        self._filling = False
        self.filter_titles(self._filter)

    def filter_titles(self, text: str) -> None:
        """Shows only the chats whose title holds every word of `text` (any case); "" shows them all."""
        self._filter = text
        words = text.casefold().split()
        header: QListWidgetItem | None = None
        header_has_rows = False
        for row in range(self.count()):
            item = self.item(row)
            if item.data(CHAT_ID) is None:  # a group's heading: shown if a row under it is
                if header is not None:
                    header.setHidden(not header_has_rows)
                header, header_has_rows = item, False
                continue
            title = item.text().casefold()
            shown = all(word in title for word in words)
            item.setHidden(not shown)
            header_has_rows = header_has_rows or shown
        if header is not None:
            header.setHidden(not header_has_rows)

    def first_shown(self) -> None:
        """Puts the keyboard on the first chat the filter shows (Down in the filter field)."""
        for row in range(self.count()):
            item = self.item(row)
            if item.data(CHAT_ID) is not None and not item.isHidden():
                self.setFocus()
                self.setCurrentItem(item)
                return

    def chat_ids(self) -> list[int]:
        """The chats in the order shown."""
        return [
            self.item(row).data(CHAT_ID)
            for row in range(self.count())
            if self.item(row).data(CHAT_ID) is not None
        ]

    def select_chat(self, chat_id: int | None) -> None:
        self._filling = True
        self._current = chat_id
        self._select(chat_id)
        self._filling = False

    def rename_current(self) -> None:
        item = self._item_for(self._current)
        if item is not None:
            self.setCurrentItem(item)
            self.editItem(item)

    def _select(self, chat_id: int | None) -> None:
        item = self._item_for(chat_id)
        if item is None:
            self.clearSelection()
            self.setCurrentItem(None)  # type: ignore[call-overload]  # Qt takes nullptr; the stubs do not say so
        else:
            self.setCurrentItem(item)
            self.scrollToItem(item)

    def _item_for(self, chat_id: int | None) -> QListWidgetItem | None:
        if chat_id is None:
            return None
        for row in range(self.count()):
            item = self.item(row)
            if item.data(CHAT_ID) == chat_id:
                return item
        return None

    def _on_current_item_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        if self._filling or current is None:
            return
        chat_id = current.data(CHAT_ID)
        if chat_id is not None and chat_id != self._current:
            self._current = chat_id
            self.chat_selected.emit(chat_id)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        chat_id = item.data(CHAT_ID)
        title = " ".join(item.text().split())
        if chat_id is not None and title:
            self.rename_requested.emit(chat_id, title)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt override)
        """A chat's menu: with the mouse on its row, or from the keyboard (Menu, Shift+F10) on the current one."""
        item = self.itemAt(event.pos()) if event.reason() == QContextMenuEvent.Reason.Mouse else self.currentItem()
        if item is None or item.data(CHAT_ID) is None:
            return
        menu = self.chat_menu(item)
        position = event.globalPos() if event.reason() == QContextMenuEvent.Reason.Mouse \
            else self.viewport().mapToGlobal(self.visualItemRect(item).center())
        menu.popup(position)

    def chat_menu(self, item: QListWidgetItem) -> QMenu:
        """Open, Rename, Pin or Unpin, Delete: what can be done to the chat of `item`."""
        chat_id, pinned = item.data(CHAT_ID), bool(item.data(PINNED))
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Open", lambda: self.setCurrentItem(item))
        menu.addAction("Rename", lambda: self._rename(item))
        menu.addAction("Unpin" if pinned else "Pin", lambda: self.pin_requested.emit(chat_id, not pinned))
        menu.addSeparator()
        menu.addAction("Delete", lambda: self.delete_requested.emit(chat_id))
        return menu

    def _rename(self, item: QListWidgetItem) -> None:
        self.setCurrentItem(item)
        self.editItem(item)

    def is_pinned(self, chat_id: int | None) -> bool:
        item = self._item_for(chat_id)
        return item is not None and bool(item.data(PINNED))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Delete and self._current is not None:
            self.delete_requested.emit(self._current)
            return
        super().keyPressEvent(event)


class SidebarPanel(QWidget):
    """The sidebar: New chat and the filter field above the list (`chats`).

    Signals:
        new_chat_requested(): New chat was clicked.
        search_requested(str): Enter in the filter field: a full-text search for its words.
    """

    new_chat_requested = Signal()
    search_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.new_chat = QPushButton("New chat")
        self.new_chat.setAccessibleName("New chat")
        self.new_chat.setToolTip("Start a new chat (Ctrl+N)")
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Search chats")
        self.filter.setAccessibleName("Search chats")
        self.filter.setToolTip("Typing shows the chats whose title has these words; Enter searches every message")
        self.filter.setClearButtonEnabled(True)
        self.chats = Sidebar()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.new_chat)
        layout.addWidget(self.filter)
        layout.addWidget(self.chats, 1)
        self.new_chat.clicked.connect(self.new_chat_requested)
        self.filter.textChanged.connect(self.chats.filter_titles)
        self.filter.returnPressed.connect(lambda: self.search_requested.emit(self.filter.text().strip()))
        self.filter.installEventFilter(self)
        self.setTabOrder(self.filter, self.chats)

    def eventFilter(self, watched: object, event: object) -> bool:  # noqa: N802 (Qt override)
        """Down in the filter field goes to the first chat shown; Esc clears the field."""
        if (watched is self.filter and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.ShortcutOverride
                and event.key() == Qt.Key.Key_Escape and self.filter.text()):
            event.accept()  # Esc clears the field here, rather than stopping an answer
            return True
        if watched is self.filter and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Down:
                self.chats.first_shown()
                return True
            if event.key() == Qt.Key.Key_Escape and self.filter.text():
                self.filter.clear()
                return True
        return super().eventFilter(watched, event)  # type: ignore[arg-type]
