"""The list of chats: newest activity first, grouped by age, renamed in place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from gemchat.core.messages import Chat

CHAT_ID = Qt.ItemDataRole.UserRole
GROUPS = ("Today", "Yesterday", "Previous 7 days", "Older")


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
        delete_requested(int): Delete pressed on a chat.
    """

    chat_selected = Signal(int)
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)

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
        for chat in chats:
            group = group_of(chat.updated_at, today)
            if group != last_group:
                header = QListWidgetItem(group)
                header.setFlags(Qt.ItemFlag.NoItemFlags)
                header.setFont(header_font)
                self.addItem(header)
                last_group = group
            item = QListWidgetItem(chat.title or "New chat")
            item.setData(CHAT_ID, chat.id)
            item.setToolTip(chat.title)
            item.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsEditable)
            self.addItem(item)
        self._current = current
        self._select(current)
        self._filling = False

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

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if event.key() == Qt.Key.Key_Delete and self._current is not None:
            self.delete_requested.emit(self._current)
            return
        super().keyPressEvent(event)
