"""The picker a model chip opens: a filter field over the models, chosen with the keys or the pointer.

The picker is a popup, so it closes when the user clicks elsewhere, as a menu
does. What is chosen is the caller's to apply (`gemchat.ui.model_choice`),
which imports this module when the picker is first opened: the window's first
paint does not wait for it (the item views' Python enums, the image models).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QApplication, QFrame, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from gemchat.core.image_models import is_image_model
from gemchat.core.model_names import model_name
from gemchat.ui.fields import SearchField


class ModelPicker(QFrame):
    """A popup list of model names under a filter field.

    Typing filters (every word must appear); Up and Down move through what is
    shown; Enter or a click chooses; Esc closes. Enter with nothing shown but
    a name typed chooses that name, as the chat options' editable list allows.
    Up and Down take the focus into the list, so a screen reader says each name
    as it is reached; typing there goes back to the filter field.

    Signals:
        model_chosen(str): a model was chosen; the popup has closed.
    """

    model_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("modelPicker")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.filter = SearchField("Filter models", "Filter models")
        self.filter.setToolTip("Type to filter; Up and Down to move, Enter to choose, Esc to close")
        self.list = QListWidget()
        self.list.setAccessibleName("Models")
        self.list.setUniformItemSizes(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        self.filter.textChanged.connect(self._on_filter_text_changed)
        self.filter.installEventFilter(self)
        self.list.installEventFilter(self)
        self.list.itemClicked.connect(self._choose_item)
        self._current = ""

    def set_models(self, names: Sequence[str], current: str) -> None:
        """The names offered (the chat models first, the image models last, each said to be one), `current` marked."""
        self._current = current
        every = set(names) | ({current} if current else set())
        self.list.clear()
        for name in sorted(every, key=lambda n: (is_image_model(n), n)):
            shown = model_name(name)  # as the chips and the answers' headers write it; the id is the tooltip
            item = QListWidgetItem(f"{shown}  ✓" if name == current else shown)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{shown}, in use" if name == current else shown)
            item.setToolTip(f"{name}\nAn image model: it answers with pictures" if is_image_model(name) else name)
            self.list.addItem(item)
        self._on_filter_text_changed(self.filter.text())

    def shown_models(self) -> list[str]:
        """The names the filter leaves, top to bottom."""
        return [self.list.item(row).data(Qt.ItemDataRole.UserRole) for row in range(self.list.count())
                if not self.list.item(row).isHidden()]

    def chosen_row(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None and not item.isHidden() else None

    def popup_at(self, anchor: QWidget) -> None:
        """Opens under `anchor` (over it, if there is no room below), the filter empty and focused."""
        self.filter.clear()
        width = max(300, anchor.width())
        height = min(360, self.list.sizeHintForRow(0) * max(self.list.count(), 3) + self.filter.sizeHint().height() + 30)
        self.resize(width, height)
        below = anchor.mapToGlobal(QPoint(0, anchor.height() + 2))
        screen = QGuiApplication.screenAt(below) or QGuiApplication.primaryScreen()
        area = screen.availableGeometry()
        x = min(max(below.x(), area.left()), area.right() - width)
        y = below.y() if below.y() + height <= area.bottom() else anchor.mapToGlobal(QPoint(0, 0)).y() - height - 2
        self.move(x, max(y, area.top()))
        self.show()
        self.filter.setFocus()

    def _on_filter_text_changed(self, text: str) -> None:
        """Hides the names without every word typed; the one in use stays chosen while it is shown, else the first."""
        words = text.lower().split()
        for row in range(self.list.count()):
            item = self.list.item(row)
            name = item.data(Qt.ItemDataRole.UserRole).lower()
            item.setHidden(not all(word in name or word in item.text().lower() for word in words))  # id or name
        shown = [self.list.item(row) for row in range(self.list.count()) if not self.list.item(row).isHidden()]
        in_use = next((item for item in shown if item.data(Qt.ItemDataRole.UserRole) == self._current), None)
        current = self.list.currentItem()
        if current is None or current.isHidden() or not words:
            self.list.setCurrentItem(in_use or (shown[0] if shown else None))  # type: ignore[arg-type]  # None clears

    def _move(self, step: int) -> None:
        rows = [row for row in range(self.list.count()) if not self.list.item(row).isHidden()]
        if not rows:
            return
        current = self.list.currentRow()
        index = rows.index(current) + step if current in rows else 0
        self.list.setCurrentRow(rows[max(0, min(index, len(rows) - 1))])

    def _choose_item(self, item: QListWidgetItem) -> None:
        self._choose(item.data(Qt.ItemDataRole.UserRole))

    def _choose(self, name: str) -> None:
        self.close()
        if name.strip():
            self.model_chosen.emit(name.strip())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        """Keys in the filter field and the list: see the class's docstring."""
        if not isinstance(event, QKeyEvent) or event.type() != QEvent.Type.KeyPress or \
                watched not in (self.filter, self.list):
            return super().eventFilter(watched, event)
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            typed = self.filter.text() if watched is self.filter and not self.shown_models() else ""
            self._choose(self.chosen_row() or typed)
            return True
        if key == Qt.Key.Key_Escape:
            self.close()
            return True
        steps = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_PageUp: -8, Qt.Key.Key_PageDown: 8}
        if watched is self.filter and key in steps:
            self._move(steps[Qt.Key(key)])
            self.list.setFocus()
            return True
        if watched is self.list and (key == Qt.Key.Key_Backspace or _types_text(event)):
            self.filter.setFocus()
            QApplication.sendEvent(self.filter, QKeyEvent(event.type(), key, event.modifiers(), event.text()))
            return True
        return super().eventFilter(watched, event)


def _types_text(event: QKeyEvent) -> bool:
    """Whether the key types a character (not a shortcut, not a movement)."""
    shortcut = event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier)
    return bool(event.text()) and event.text().isprintable() and not shortcut
