"""Rich text as a screen reader should read it: `DocumentAccessible`, a QTextBrowser's interface for assistive
technology, and `readable_text`, its text.

Qt exposes a QTextBrowser as static text (a "label" to AT-SPI), with its text
as the document's raw characters: a table's cells come out run together, each
behind U+FDD0 (QTextBeginningOfFrame), the table's end as U+FDD1. Here it is a
read-only document whose text has as many characters as Qt's (offsets stay
document positions, so the caret and the character rectangles line up), a
table's rows on lines of their own and its cells parted by tabs.

PySide6 cannot implement two calls of Qt's text interface (`selection` and
`attributes`, whose answers go out through pointers): Qt then answers text
attributes with an empty set, and selections are not reported (see
`DocumentAccessible.selectionCount`). `gemchat.ui.accessibility.install` has Qt
use this module (imported then: Qt's accessibility types cost the first paint
about 8 ms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import shiboken6
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QAccessible, QAccessibleTextInterface, QTextCursor
from PySide6.QtWidgets import QAccessibleWidget, QTextBrowser

if TYPE_CHECKING:
    from PySide6.QtGui import QTextDocument

CELL = "\ufdd0"  # QTextBeginningOfFrame: before each cell of a table (the first one also opens the table)
_PLAIN = str.maketrans({
    "\u2029": "\n",  # QChar::ParagraphSeparator, between blocks
    "\u2028": "\n",  # QChar::LineSeparator, a hard line break
    "\ufdd1": "\n",  # QTextEndOfFrame, after a table
    "\ufffc": " ",  # QChar::ObjectReplacementCharacter, a picture (its tooltip names it; no child object would)
})


def readable_text(document: QTextDocument, start: int = 0, end: int = -1) -> str:
    """The document's text from `start` to `end` (-1: its end) as a screen reader should get it, as many characters.

    A cell's marker becomes a line break before a row's first cell and a tab
    before the others; the end of a table and of a block, a line break; a picture, a space.
    """
    count = document.characterCount() - 1  # without the separator Qt keeps after the last block
    end = count if end < 0 else min(end, count)
    start = max(0, min(start, end))
    text = document.toRawText()[start:end]
    if CELL not in text:
        return text.translate(_PLAIN)
    parts = []
    cursor = QTextCursor(document)
    done = 0
    index = text.find(CELL)
    while index >= 0:
        cursor.setPosition(start + index + 1)  # inside the cell the marker opens
        table = cursor.currentTable()
        parts.append(text[done:index])
        parts.append("\n" if table is None or table.cellAt(cursor).column() == 0 else "\t")
        done = index + 1
        index = text.find(CELL, done)
    parts.append(text[done:])
    return "".join(parts).translate(_PLAIN)


class DocumentAccessible(QAccessibleWidget, QAccessibleTextInterface):
    """A QTextBrowser as assistive technology meets it: a read-only document whose text is `readable_text`."""

    def __init__(self, browser: QTextBrowser) -> None:
        QAccessibleWidget.__init__(self, browser, QAccessible.Role.Document)
        QAccessibleTextInterface.__init__(self)

    @property
    def _browser(self) -> QTextBrowser:
        # Asked of Qt each time, not kept: PySide6 keeps every interface its factory made until the app ends.
        return cast(QTextBrowser, self.widget())

    def interface_cast(self, kind: QAccessible.InterfaceType) -> object:  # type: ignore[override]
        """The C++ address of the text interface half of this object for Qt's TextInterface; the base's otherwise."""
        if kind == QAccessible.InterfaceType.TextInterface:
            return shiboken6.VoidPtr(shiboken6.getCppPointer(self)[1])
        found = QAccessibleWidget.interface_cast(self, kind)
        return shiboken6.VoidPtr(0) if found is None else found  # None back to C++ crashes the process

    def state(self) -> QAccessible.State:
        state = QAccessibleWidget.state(self)
        state.readOnly = True
        state.selectableText = True
        state.multiLine = True
        return state

    # -- the text interface -------------------------------------------------------------

    def text(self, first: QAccessible.Text | int, end: int | None = None, /) -> str:
        """text(QAccessible.Text) of the interface (its name…), text(start, end) of the text interface."""
        if isinstance(first, QAccessible.Text):
            return QAccessibleWidget.text(self, first)
        return readable_text(self._browser.document(), first, self.characterCount() if end is None else end)

    def characterCount(self) -> int:  # noqa: N802 (Qt override)
        return self._browser.document().characterCount() - 1

    def cursorPosition(self) -> int:  # noqa: N802 (Qt override)
        return self._browser.textCursor().position()

    def setCursorPosition(self, position: int) -> None:  # noqa: N802 (Qt override)
        cursor = self._browser.textCursor()
        cursor.setPosition(self._clamp(position))
        self._browser.setTextCursor(cursor)

    def selectionCount(self) -> int:  # noqa: N802 (Qt override)
        """None reported: Qt would ask `selection` where it is, which PySide6 cannot answer (Qt would send
        whatever its two integers held). Screen readers ask for the count first, and stop at 0."""
        return 0

    def addSelection(self, start: int, end: int) -> None:  # noqa: N802 (Qt override)
        self.setSelection(0, start, end)

    def removeSelection(self, index: int) -> None:  # noqa: N802 (Qt override)
        if index == 0:
            cursor = self._browser.textCursor()
            cursor.clearSelection()
            self._browser.setTextCursor(cursor)

    def setSelection(self, index: int, start: int, end: int) -> None:  # noqa: N802 (Qt override)
        if index == 0:
            cursor = self._browser.textCursor()
            cursor.setPosition(self._clamp(start))
            cursor.setPosition(self._clamp(end), QTextCursor.MoveMode.KeepAnchor)
            self._browser.setTextCursor(cursor)

    def characterRect(self, offset: int) -> QRect:  # noqa: N802 (Qt override)
        """Where the character at `offset` is on the screen."""
        cursor = QTextCursor(self._browser.document())
        cursor.setPosition(self._clamp(offset))
        rect = self._browser.cursorRect(cursor)
        cursor.movePosition(QTextCursor.MoveOperation.NextCharacter)
        after = self._browser.cursorRect(cursor)
        if after.top() == rect.top() and after.left() > rect.left():
            rect.setRight(after.left() - 1)
        return QRect(self._browser.viewport().mapToGlobal(rect.topLeft()), rect.size())

    def offsetAtPoint(self, point: QPoint) -> int:  # noqa: N802 (Qt override)
        return self._browser.cursorForPosition(self._browser.viewport().mapFromGlobal(point)).position()

    def scrollToSubstring(self, start: int, end: int) -> None:  # noqa: N802 (Qt override)
        """Scrolls `start` into view, a third of the way down, leaving the caret where it is."""
        cursor = QTextCursor(self._browser.document())
        cursor.setPosition(self._clamp(start))
        rect, viewport = self._browser.cursorRect(cursor), self._browser.viewport().rect()
        if not viewport.contains(rect):
            bar = self._browser.verticalScrollBar()
            bar.setValue(bar.value() + rect.top() - viewport.height() // 3)

    def _clamp(self, offset: int) -> int:
        return max(0, min(offset, self.characterCount()))
