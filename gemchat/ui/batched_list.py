"""A list widget that Qt lays out in batches after a change, painting the first at once.

Laid out whole, a thousand rows took a filter key in the sidebar 17-21 ms to
paint at worst on Xvfb; in batches of `LAYOUT_BATCH`, 10-15 ms. Two things a
batched layout breaks are kept whole here: scrolling to a row that has no place
yet (Qt does not scroll at all), and a key's move (End went to the last row of
the first batch). Both lay the list out whole first, only when they need to.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QListView, QListWidget, QWidget

LAYOUT_BATCH = 100
"""Rows laid out before the first paint after a change: more than a window shows."""


class BatchedList(QListWidget):
    """Scroll to an item with `scrollTo(indexFromItem(item))`: `scrollToItem` calls Qt's own
    `QListView::scrollTo`, never the override here."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(LAYOUT_BATCH)

    def scrollTo(self, index: QModelIndex | QPersistentModelIndex,  # noqa: N802 (Qt override)
                 hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible) -> None:
        self._lay_out_down_to(index)
        super().scrollTo(index, hint)

    def moveCursor(self, action: QAbstractItemView.CursorAction,  # noqa: N802 (Qt override)
                   modifiers: Qt.KeyboardModifier) -> QModelIndex:
        last = next((row for row in range(self.count() - 1, -1, -1) if not self.isRowHidden(row)), None)
        if last is not None:
            self._lay_out_down_to(self.model().index(last, 0))
        return super().moveCursor(action, modifiers)

    def _lay_out_down_to(self, index: QModelIndex | QPersistentModelIndex) -> None:
        """Lays the whole list out now if `index` has no place yet (a batched layout is under way)."""
        if not index.isValid():
            return
        self.executeDelayedItemsLayout()
        if not self.visualRect(index).isValid():
            self.setLayoutMode(QListView.LayoutMode.SinglePass)
            self.doItemsLayout()
            self.setLayoutMode(QListView.LayoutMode.Batched)
