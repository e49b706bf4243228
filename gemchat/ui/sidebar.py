"""The chats: a New chat button, a field that filters titles as you type, and the list.

The list shows pinned chats first, under Pinned, then the rest by their last
activity, grouped by age; titles are renamed in place, and each row has a
menu (right-click, or the Menu key) to open, rename, pin or delete it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple, cast

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QContextMenuEvent, QDropEvent, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gemchat.ui.batched_list import BatchedList
from gemchat.ui.fields import SearchField
from gemchat.ui.theme import tint

if TYPE_CHECKING:
    from gemchat.core.messages import Chat, Folder

CHAT_ID = Qt.ItemDataRole.UserRole
PINNED = Qt.ItemDataRole.UserRole + 1
FOLDER_ID = Qt.ItemDataRole.UserRole + 2  # on a folder's heading
IN_FOLDER = Qt.ItemDataRole.UserRole + 3  # on a chat: its folder's id, or None
COLLAPSED = Qt.ItemDataRole.UserRole + 4  # on a folder's heading
GROUPS = ("Pinned", "Today", "Yesterday", "Previous 7 days", "Older")
FIRST_ROWS = 150  # made at once: more than a window shows
ROWS_PER_TURN = 200  # then this many per turn of the event loop (about 5 ms here)


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


class _Row(NamedTuple):
    """What the filter needs of a row, kept beside it: asking Qt for a thousand rows' data took 5-8 ms a key."""

    item: QListWidgetItem
    title: str | None  # a chat's title, casefolded; None on a heading
    folder_id: int | None  # on a folder's heading
    collapsed: bool  # on a folder's heading


class Sidebar(BatchedList):
    """Signals:
        chat_selected(int): the user picked a chat.
        rename_requested(int, str): the user edited a chat's title in place.
        delete_requested(int): Delete pressed on a chat, or Delete chosen in its menu.
        pin_requested(int, bool): Pin or Unpin chosen in a chat's menu.
        move_requested(int, object): a chat was moved to a folder (its id, or None for out of folders),
            from its menu or by dragging it onto a folder.
        new_folder_requested(object): New Folder… chosen (with the chat whose menu it was, or None).
        folder_collapse_requested(int, bool): a folder's heading was clicked (or Enter on it): fold or unfold.
        rename_folder_requested(int, str): Rename Folder… chosen (its id, its name now).
        delete_folder_requested(int): Delete Folder chosen (its chats stay, out of folders).
    """

    chat_selected = Signal(int)
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)
    pin_requested = Signal(int, bool)
    move_requested = Signal(int, object)
    new_folder_requested = Signal(object)
    folder_collapse_requested = Signal(int, bool)
    rename_folder_requested = Signal(int, str)
    delete_folder_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Chats")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Every row as tall as the first (headings are bold, not smaller): laying out or filtering a
        # thousand rows then measures one.
        self.setUniformItemSizes(True)
        self.setMinimumWidth(180)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._current: int | None = None
        self._filling = False
        self._filter = ""
        self._folders: list[Folder] = []
        self._pending: list[tuple[str, object]] = []  # rows still to be made (see set_chats)
        self._shown_rows: list[_Row] = []  # every row made, in order
        self._hidden: list[bool] = []  # whether each of them is hidden, as Qt has it
        self._by_chat: dict[int, QListWidgetItem] = {}
        self._fill_timer = QTimer(self)
        self._fill_timer.setSingleShot(True)
        self._fill_timer.timeout.connect(self._on_fill_timer_timeout)
        self._header_font = QFont(self.font())
        self._header_font.setBold(True)
        self.currentItemChanged.connect(self._on_current_item_changed)
        self.itemChanged.connect(self._on_item_changed)
        self.itemClicked.connect(self._on_item_clicked)
        self.itemActivated.connect(self._on_item_clicked)
        # Chats are dragged onto folders; the list's own reordering is never used (see dropEvent).
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)

    def set_chats(self, chats: Sequence[Chat], current: int | None, folders: Sequence[Folder] = ()) -> None:
        """Rebuilds the list: pinned chats first, then each folder with its chats (none shown while it
        is collapsed), then the other chats by age.

        The first `FIRST_ROWS` rows are made now, the rest `ROWS_PER_TURN` at a time
        in later turns of the event loop: a thousand chats took the window 60-80 ms in
        one go. Anything that reads the list (`chat_ids`, `select_chat`, ...) makes the
        rest at once first, so it never sees half a list.
        """
        self._filling = True
        self._fill_timer.stop()
        self.clear()
        self._shown_rows, self._hidden, self._by_chat = [], [], {}
        self._folders = list(folders)
        self._current = current
        self._pending = self._rows(chats, folders)
        self._filling = False
        self._fill_some(FIRST_ROWS)

    def _rows(self, chats: Sequence[Chat], folders: Sequence[Folder]) -> list[tuple[str, object]]:
        """The rows in order: ("heading", text), ("folder", Folder) or ("chat", (Chat, hidden))."""
        today = dt.date.today()
        known = {folder.id for folder in folders}
        rows: list[tuple[str, object]] = []
        pinned = [c for c in chats if c.pinned]
        if pinned:
            rows.append(("heading", "Pinned"))
            rows.extend(("chat", (chat, False)) for chat in pinned)
        in_folder: dict[int, list[Chat]] = {}
        for chat in chats:
            if chat.folder_id in known and not chat.pinned:
                in_folder.setdefault(chat.folder_id, []).append(chat)
        for folder in folders:
            rows.append(("folder", folder))
            rows.extend(("chat", (chat, folder.collapsed)) for chat in in_folder.get(folder.id, ()))
        last_group = None
        for chat in chats:
            if chat.pinned or chat.folder_id in known:
                continue
            group = group_of(chat.updated_at, today)
            if group != last_group:
                rows.append(("heading", group))
                last_group = group
            rows.append(("chat", (chat, False)))
        return rows

    def _fill_some(self, count: int | None = None) -> None:
        """Makes the next `count` rows (all of them for None), filtered as the field says."""
        if not self._pending:
            return
        self._filling = True
        rows, self._pending = (self._pending, []) if count is None else (self._pending[:count], self._pending[count:])
        first = self.count()
        made_current = False
        for kind, value in rows:
            if kind == "heading":
                self._remember(self._add_heading(str(value), self._header_font), None)
            elif kind == "folder":
                folder = cast("Folder", value)
                self._remember(self._add_folder(folder), None, folder.id, folder.collapsed)
            else:
                chat, hidden = cast("tuple[Chat, bool]", value)
                item = self._add_chat(chat)
                self._by_chat[chat.id] = item
                made_current = made_current or chat.id == self._current
                self._remember(item, (chat.title or "New chat").casefold())
                if hidden:
                    self._set_hidden(len(self._shown_rows) - 1, True)
        if self._filter or self._pending:
            self._apply_filter(first)
        if made_current or not self._pending:
            self._select(self._current)
        self._filling = False
        if self._pending:
            self._fill_timer.start(0)

    def _remember(self, item: QListWidgetItem, title: str | None, folder_id: int | None = None,
                  collapsed: bool = False) -> None:
        self._shown_rows.append(_Row(item, title, folder_id, collapsed))
        self._hidden.append(False)

    def _set_hidden(self, row: int, hidden: bool) -> None:
        if self._hidden[row] != hidden:
            self._hidden[row] = hidden
            self._shown_rows[row].item.setHidden(hidden)

    def _complete(self) -> None:
        """Makes the rows still to come, now (before anything reads the list)."""
        if self._pending:
            self._fill_timer.stop()
            self._fill_some()

    def _on_fill_timer_timeout(self) -> None:
        self._fill_some(ROWS_PER_TURN)

    def _add_folder(self, folder: Folder) -> QListWidgetItem:
        heading = self._add_heading(f"{'▸' if folder.collapsed else '▾'} {folder.name}", self._header_font)
        heading.setData(FOLDER_ID, folder.id)
        heading.setData(COLLAPSED, folder.collapsed)
        heading.setToolTip(f"{folder.name}: click to {'show' if folder.collapsed else 'hide'} its chats; "
                           "drop a chat here to move it in")
        heading.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDropEnabled)
        return heading

    def _add_heading(self, text: str, font: QFont) -> QListWidgetItem:
        heading = QListWidgetItem(text)
        heading.setFlags(Qt.ItemFlag.NoItemFlags)
        heading.setFont(font)
        self.addItem(heading)
        return heading

    def _add_chat(self, chat: Chat) -> QListWidgetItem:
        item = QListWidgetItem(chat.title or "New chat")
        item.setData(CHAT_ID, chat.id)
        item.setData(PINNED, chat.pinned)
        item.setData(IN_FOLDER, chat.folder_id)
        item.setToolTip(chat.title)
        item.setFlags(Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsEditable
                      | Qt.ItemFlag.ItemIsDragEnabled)
        self.addItem(item)
        return item

    def filter_titles(self, text: str) -> None:
        """Shows only the chats whose title holds every word of `text` (any case); "" shows them all.

        A date's heading shows while a chat under it does; a folder's always does
        (it is where chats are dropped), and a collapsed folder's chats stay hidden.
        """
        self._filter = text
        self._apply_filter(0)
        if not text and (item := self._item_for(self._current)) is not None:
            # The filter cleared: the whole list is back, with the open chat in sight (not the top of the list).
            self.scrollTo(self.indexFromItem(item), QAbstractItemView.ScrollHint.PositionAtCenter)

    def _apply_filter(self, first: int) -> None:
        """Filters the rows from `first` on (those before it are already filtered); only changes are made.

        It reads the titles kept beside the rows (`_shown_rows`), not the items: a key
        then costs the rows whose state changes, about 1 ms for a thousand, where
        reading every item's data took 5-8 ms under load.
        """
        words = self._filter.casefold().split()
        rows, set_hidden = self._shown_rows, self._set_hidden
        heading = -1  # the date heading whose chats are being filtered (folders always show)
        heading_has_rows = False
        collapsed = False
        for row in range(self._heading_before(first), len(rows)):
            title, folder_id, folded = rows[row][1:]
            if title is None:  # a heading
                if heading >= 0:
                    set_hidden(heading, not heading_has_rows)
                heading = row if folder_id is None else -1
                heading_has_rows, collapsed = False, folded
                continue
            shown = not words or all(word in title for word in words)
            if row >= first:
                set_hidden(row, not shown or collapsed)
            heading_has_rows = heading_has_rows or shown
        if heading >= 0:
            # A date heading whose chats are still to come stays until they are filtered.
            set_hidden(heading, not heading_has_rows and not self._pending)

    def _heading_before(self, row: int) -> int:
        """The row of the last heading at or before `row` (0 if none)."""
        rows = self._shown_rows
        for earlier in range(min(row, len(rows) - 1), -1, -1):
            if rows[earlier].title is None:
                return earlier
        return 0

    def first_shown(self) -> None:
        """Puts the keyboard on the first chat the filter shows (Down in the filter field)."""
        self._complete()
        for row in range(self.count()):
            item = self.item(row)
            if item.data(CHAT_ID) is not None and not item.isHidden():
                self.setFocus()
                self.setCurrentItem(item)
                return

    def chat_ids(self) -> list[int]:
        """The chats in the order shown."""
        self._complete()
        return [
            self.item(row).data(CHAT_ID)
            for row in range(self.count())
            if self.item(row).data(CHAT_ID) is not None
        ]

    def select_chat(self, chat_id: int | None) -> None:
        """Marks the open chat; if its row is still to come, it is selected when it is made."""
        self._filling = True
        self._current = chat_id
        self._select(chat_id)
        self._filling = False

    def rename_current(self) -> None:
        self._complete()
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
            self.scrollTo(self.indexFromItem(item))  # not scrollToItem (see BatchedList)

    def _item_for(self, chat_id: int | None) -> QListWidgetItem | None:
        return None if chat_id is None else self._by_chat.get(chat_id)

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
        if chat_id is not None:
            row = self.row(item)
            self._shown_rows[row] = self._shown_rows[row]._replace(title=item.text().casefold())
        if chat_id is not None and title:
            self.rename_requested.emit(chat_id, title)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt override)
        """A chat's or a folder's menu: with the mouse on its row, or from the keyboard (Menu, Shift+F10)."""
        item = self.itemAt(event.pos()) if event.reason() == QContextMenuEvent.Reason.Mouse else self.currentItem()
        if item is None:
            return
        if item.data(FOLDER_ID) is not None:
            menu = self.folder_menu(item)
        elif item.data(CHAT_ID) is not None:
            menu = self.chat_menu(item)
        else:
            return
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
        move = menu.addMenu("Move to Folder")
        for folder in self._folders:
            action = move.addAction(folder.name)
            action.triggered.connect(self._mover(chat_id, folder.id))
            action.setEnabled(folder.id != item.data(IN_FOLDER))
        if self._folders:
            move.addSeparator()
        move.addAction("New Folder…", lambda: self.new_folder_requested.emit(chat_id))
        if item.data(IN_FOLDER) is not None:
            menu.addAction("Remove from Folder", lambda: self.move_requested.emit(chat_id, None))
        menu.addSeparator()
        menu.addAction("Delete", lambda: self.delete_requested.emit(chat_id))
        return menu

    def _mover(self, chat_id: int, folder_id: int | None) -> Callable[[], None]:
        return lambda: self.move_requested.emit(chat_id, folder_id)

    def folder_menu(self, heading: QListWidgetItem) -> QMenu:
        """Fold or unfold, Rename Folder…, Delete Folder, New Folder…: what can be done to a folder."""
        folder_id, collapsed = heading.data(FOLDER_ID), bool(heading.data(COLLAPSED))
        name = next((f.name for f in self._folders if f.id == folder_id), "")
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Show Its Chats" if collapsed else "Hide Its Chats",
                       lambda: self.folder_collapse_requested.emit(folder_id, not collapsed))
        menu.addAction("Rename Folder…", lambda: self.rename_folder_requested.emit(folder_id, name))
        menu.addAction("Delete Folder (Its Chats Stay)", lambda: self.delete_folder_requested.emit(folder_id))
        menu.addSeparator()
        menu.addAction("New Folder…", lambda: self.new_folder_requested.emit(None))
        return menu

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        """A click on a folder's heading (or Enter on it) folds or unfolds it."""
        folder_id = item.data(FOLDER_ID)
        if folder_id is not None:
            self.folder_collapse_requested.emit(folder_id, not item.data(COLLAPSED))

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt override)
        """A chat dropped on a folder (its heading or one of its chats) goes in it; elsewhere, out of folders.

        The list itself is never reordered: the order is the chats' own.
        """
        dragged = self.currentItem()
        target = self.itemAt(event.position().toPoint())
        event.setDropAction(Qt.DropAction.IgnoreAction)
        event.accept()
        if dragged is None or dragged.data(CHAT_ID) is None:
            return
        if target is None:
            folder = None
        elif target.data(FOLDER_ID) is not None:
            folder = target.data(FOLDER_ID)
        else:
            folder = target.data(IN_FOLDER)
        if folder != dragged.data(IN_FOLDER):
            self.move_requested.emit(dragged.data(CHAT_ID), folder)

    def _rename(self, item: QListWidgetItem) -> None:
        self.setCurrentItem(item)
        self.editItem(item)

    def is_pinned(self, chat_id: int | None) -> bool:
        self._complete()
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
        self.filter = SearchField("Search chats", "Search chats")
        self.filter.setToolTip("Typing shows the chats whose title has these words; Enter searches every message")
        self.chats = Sidebar()
        self.chats.setFrameShape(QFrame.Shape.NoFrame)
        tint(self)  # set apart from the conversation by a tint, not a border
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.setSpacing(6)
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
