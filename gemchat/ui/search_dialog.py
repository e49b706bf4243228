"""Search over every chat (Ctrl+K): results update as you type, Enter jumps to the message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gemchat.core.messages import SearchHit
from gemchat.ui.fields import SearchField
from gemchat.ui.search_results import HIT, HitDelegate, spoken

if TYPE_CHECKING:
    from gemchat.tasks import Tasks

DEBOUNCE_MS = 120


class SearchDialog(QDialog):
    """A search box over a result list; the keys stay in the box, arrows move in the list.

    Signals:
        hit_chosen(object): the user picked a `SearchHit` (Enter or click).
    """

    hit_chosen = Signal(object)

    def __init__(self, search: Callable[[str], Awaitable[list[SearchHit]]],
                 tasks: Tasks, parent: QWidget | None = None) -> None:
        """`search` runs through `tasks`, a newer query replacing the one still running."""
        super().__init__(parent)
        self.setWindowTitle("Search chats — gemchat")
        self._search = search
        self._tasks = tasks
        self._generation = 0  # answers to older queries are dropped
        self.query = SearchField("Search all chats (titles and messages)", "Search")
        self.results = QListWidget()
        self.results.setAccessibleName("Search results")
        self.results.setItemDelegate(HitDelegate(self.results))
        self.results.setUniformItemSizes(True)  # every row as tall as two lines of snippet and their heading
        self.results.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.status = QLabel("Type to search.")
        self.status.setObjectName("searchStatus")
        layout = QVBoxLayout(self)
        layout.addWidget(self.query)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)
        self.resize(640, 480)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.query.textChanged.connect(lambda _text: self._timer.start())
        self.query.installEventFilter(self)
        self.results.itemActivated.connect(self._on_results_item_activated)
        self.results.itemClicked.connect(self._on_results_item_activated)

    def hits(self) -> list[SearchHit]:
        return [self.results.item(row).data(HIT) for row in range(self.results.count())]

    def _on_timer_timeout(self) -> None:
        self._generation += 1
        self._tasks.start(self._run(self.query.text(), self._generation), key=(self, "search"))

    async def _run(self, text: str, generation: int) -> None:
        hits = await self._search(text) if text.strip() else []
        if generation == self._generation:
            self._show(text, hits)

    def _show(self, text: str, hits: list[SearchHit]) -> None:
        self.results.clear()
        for hit in hits:
            item = QListWidgetItem(spoken(hit))  # read by a screen reader; the delegate paints the hit
            item.setData(HIT, hit)
            self.results.addItem(item)
        if hits:
            self.results.setCurrentRow(0)
        if not text.strip():
            self.status.setText("Type to search.")
        else:
            self.status.setText(f"{len(hits)} result{'s' if len(hits) != 1 else ''}" if hits else "No results.")

    def eventFilter(self, watched: object, event: object) -> bool:  # noqa: N802 (Qt override)
        if watched is self.query and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            key = Qt.Key(event.key())
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_PageDown, Qt.Key.Key_PageUp):
                step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: 5, Qt.Key.Key_PageUp: -5}[key]
                if self.results.count():
                    row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
                    self.results.setCurrentRow(row)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self._timer.isActive():  # Enter right after typing: search now, then choose
                    self._timer.stop()
                    self._on_timer_timeout()
                    return True
                item = self.results.currentItem()
                if item is not None:
                    self._on_results_item_activated(item)
                return True
        return super().eventFilter(watched, event)  # type: ignore[arg-type]

    def _on_results_item_activated(self, item: QListWidgetItem) -> None:
        self.hit_chosen.emit(item.data(HIT))
        self.accept()
