"""The message box.

Enter sends and Shift+Enter starts a new line, as in every chat app; a plain
text edit so pasted rich text arrives as text.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent, QTextOption
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from gemchat.ui.viewports import give_own_viewport

# About a quarter of Gemini's context window. Longer text freezes the window for seconds where it
# is shown (0.5 s per million characters in the chat view) and makes every later request huge.
MAX_MESSAGE_CHARS = 1_000_000
# Qt finds line breaks in a paragraph in quadratic time when it has no spaces (minified JSON, base64):
# 100,000 such characters take 0.5 s to paste and 0.25 s per keystroke. Wrapping anywhere is linear.
LONG_LINE = 5_000


class Composer(QPlainTextEdit):
    """Signals:
        submitted(str): the user pressed Enter with something other than whitespace typed.
        key_typed(): a key was pressed in the box (the user is writing; text set by code does not count).
        edited(int, str): the same, while editing an earlier question (its id, the new text).
        emptied(bool): whether the box holds nothing but whitespace, on every change.
        edit_last_requested(): Up was pressed in the empty box.
        editing_changed(bool): editing an earlier question began or ended.
        refused(str): a paste was refused (too long); why, in words for the user.
        files_pasted(object): files were pasted or dropped (a list of local `Path`s), to attach.
        image_pasted(object): an image was pasted or dropped (a `QImage`), to attach.
    """

    submitted = Signal(str)
    key_typed = Signal()
    edited = Signal(int, str)
    emptied = Signal(bool)
    edit_last_requested = Signal()
    editing_changed = Signal(bool)
    refused = Signal(str)
    files_pasted = Signal(object)
    image_pasted = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        give_own_viewport(self)
        self.setPlaceholderText("Message Gemini  (Enter to send, Shift+Enter for a new line)")
        self.setTabChangesFocus(True)
        self.setAccessibleName("Message")
        self.document().contentsChange.connect(self._on_document_contents_change)
        self._blank = True
        self._editing: int | None = None
        self._draft = ""
        self.allow_blank_submit = False  # set while files are attached: they can go without words
        self._lines: tuple[int, bool] | None = None
        self._grow_to: int | None = None

    @property
    def editing(self) -> int | None:
        """The id of the question being edited, or None when typing a new message."""
        return self._editing

    def edit(self, message_id: int, text: str) -> None:
        """Loads an earlier question to edit; what was typed is kept and comes back on cancel."""
        if self._editing is None:
            self._draft = self.toPlainText()
        self._editing = message_id
        self.setPlainText(text)
        self.moveCursor(self.textCursor().MoveOperation.End)
        self.setFocus()
        self.editing_changed.emit(True)

    def cancel_edit(self) -> None:
        if self._editing is not None:
            self._editing = None
            self.setPlainText(self._draft)
            self._draft = ""
            self.moveCursor(self.textCursor().MoveOperation.End)
            self.editing_changed.emit(False)

    def put_text(self, text: str, focus: bool = False) -> None:
        """Replaces what is typed with `text` (a starter, a message that could not be saved), the cursor at its end."""
        self.setPlainText(text)
        self.moveCursor(self.textCursor().MoveOperation.End)
        if focus:
            self.setFocus()

    def is_blank(self) -> bool:
        return self._blank

    def submit(self) -> None:
        """Sends what is typed, if anything; clears the box."""
        text = self.toPlainText()
        if text.strip() or (self.allow_blank_submit and self._editing is None):
            editing, self._editing = self._editing, None
            self.setPlainText(self._draft if editing is not None else "")
            self._draft = ""
            if editing is not None:
                self.editing_changed.emit(False)
                self.edited.emit(editing, text)
            else:
                self.submitted.emit(text)

    def keep_lines(self, lines: int, exact: bool = False) -> None:
        """Makes the box at most (`exact`: always) `lines` lines high, in its font, also after the text size changes."""
        self._lines = (lines, exact)
        self._fit_lines()

    def grow_up_to(self, lines: int) -> None:
        """Makes the box as high as its text, from one line up to `lines`; past that it scrolls.

        Counted in lines as shown (a long paragraph wraps into several), at every
        change of the text, the width or the text size.
        """
        self._grow_to = lines
        self.document().contentsChanged.connect(self._fit_lines)
        self._fit_lines()

    def shown_lines(self) -> int:
        """How many lines of text the box is high now (with `grow_up_to`)."""
        return self._lines_and_height(self._grow_to or 1)[0]

    def _fit_lines(self) -> None:
        if self._grow_to is not None:
            self.setFixedHeight(self._height_for(self._lines_and_height(self._grow_to)[1]))
            return
        if self._lines is None:
            return
        lines, exact = self._lines
        height = self.fontMetrics().lineSpacing() * lines + 16  # the frame and the document's margins
        if exact:
            self.setFixedHeight(height)
        else:
            self.setMaximumHeight(height)

    def _lines_and_height(self, most: int) -> tuple[int, float]:
        """The lines of the text as laid out (at most `most`) and their height: only the first blocks are read,
        so a long paste costs no more than a short one."""
        document = self.document()
        if document.isEmpty() and self.placeholderText():
            return self._placeholder_lines(most)
        layout = document.documentLayout()
        count, height = 0, 0.0
        block = document.firstBlock()
        while block.isValid() and count < most:
            layout.blockBoundingRect(block)  # lays the block out at the box's width, if it is not yet
            lines = block.layout()
            for n in range(min(lines.lineCount(), most - count)):
                height += lines.lineAt(n).height()
                count += 1
            block = block.next()
        if count == 0:
            return 1, float(self.fontMetrics().lineSpacing())
        return count, height

    def _placeholder_lines(self, most: int) -> tuple[int, float]:
        """The lines the placeholder wraps to at the box's width (Qt wraps it too), so a narrow box shows it whole."""
        metrics = self.fontMetrics()
        width = max(1, int(self.viewport().width() - 2 * self.document().documentMargin()))
        wrapped = metrics.boundingRect(0, 0, width, 1 << 20, Qt.TextFlag.TextWordWrap, self.placeholderText())
        lines = max(1, min(most, math.ceil(wrapped.height() / metrics.lineSpacing())))
        return lines, float(lines * metrics.lineSpacing())

    def _height_for(self, text_height: float) -> int:
        # QPlainTextEdit shows a scroll bar unless the viewport has the document's margin above and below, and 1 px.
        margins = self.contentsMargins()
        return (math.ceil(text_height + 2 * self.document().documentMargin()) + 2 + margins.top() + margins.bottom()
                + 2 * self.frameWidth())

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self._grow_to is not None and event.size().width() != event.oldSize().width():
            self._fit_lines()  # the text wraps anew
            # A height set here, inside Qt's handling of this resize, does not reach the viewport: the scroll
            # area lays its children out once a resize, and the one the new height makes is nested in this
            # one. Laid out again, or a hint wrapped onto a second line shows cut in half (at 700 px).
            self.setViewportMargins(self.viewportMargins())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_lines()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        self.key_typed.emit()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if mods == Qt.KeyboardModifier.NoModifier:
                self.submit()
                return
            if mods == Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
                return
        if event.key() == Qt.Key.Key_Up and event.modifiers() == Qt.KeyboardModifier.NoModifier \
                and self._editing is None and self.document().isEmpty():
            self.edit_last_requested.emit()
            return
        if event.key() == Qt.Key.Key_Escape and self._editing is not None:
            self.cancel_edit()
            return
        super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:
        # While editing, Esc cancels the edit instead of triggering the window's Stop shortcut.
        if event.type() == QEvent.Type.ShortcutOverride and self._editing is not None \
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape:
            event.accept()
            return True
        return super().event(event)

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 (Qt override)
        """Pastes and drops, unless the message would become longer than `MAX_MESSAGE_CHARS`.

        Refused at once, with a reason, rather than pasted, frozen on and then sent into an error.
        Files and images are attached instead of pasted as text (a copied file is also its path).
        """
        if self._take_attachments(source):
            return
        if source.hasText():
            cursor = self.textCursor()
            kept = self.document().characterCount() - 1 - (cursor.selectionEnd() - cursor.selectionStart())
            length = len(source.text())
            if kept + length > MAX_MESSAGE_CHARS:
                self.refused.emit(
                    f"Not pasted: that text has {length:,} characters and a message can have at most "
                    f"{MAX_MESSAGE_CHARS:,}. Paste a shorter part."
                )
                return
            if length > LONG_LINE and max(map(len, source.text().splitlines())) > LONG_LINE:
                self.setWordWrapMode(QTextOption.WrapMode.WrapAnywhere)
        super().insertFromMimeData(source)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:  # noqa: N802 (Qt override)
        return bool(_local_files(source)) or source.hasImage() or super().canInsertFromMimeData(source)

    def _take_attachments(self, source: QMimeData) -> bool:
        """Hands pasted or dropped files and images to whoever attaches them; True when there were some."""
        files = _local_files(source)
        if files:
            self.files_pasted.emit(files)
            return True
        if source.hasImage():
            from PySide6.QtGui import QImage  # not at import: its Python enums, before the first paint

            image = source.imageData()
            if isinstance(image, QImage) and not image.isNull():
                self.image_pasted.emit(image)
                return True
        return False

    def _on_document_contents_change(self, position: int, removed: int, added: int) -> None:
        """Keeps `is_blank` current at the cost of the change, never of the whole text.

        This runs on every keystroke: with a 5 MB paste in the box, reading the
        whole text each time (toPlainText) would make typing lag.
        """
        document = self.document()
        if document.isEmpty():
            blank = True
            if self.wordWrapMode() != QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere:
                self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)  # words again
        elif removed == 0 and not self._blank:
            blank = False  # adding text never makes a message blank
        elif removed == 0:
            blank = not self._has_text(position, position + added)
        else:
            blank = not self._has_text(0, document.characterCount())
        if blank != self._blank:
            self._blank = blank
            self.emptied.emit(blank)

    def _has_text(self, start: int, end: int) -> bool:
        """Whether anything but whitespace lies in [start, end), as `str.strip` sees it (so does `send`).

        Reads slices growing from 64 characters: one small read when the text
        starts with a word, a few large ones for a long run of blank lines.
        """
        end = min(end, self.document().characterCount() - 1)
        # A cursor of its own: not a copy of the box's, which is a null one while `setPlainText` replaces the text
        # (a starter, a question to edit, a draft), and selects nothing: Send stayed grey with the text there.
        from PySide6.QtGui import QTextCursor  # its enums wait for the first text: not in the first frame

        cursor = QTextCursor(self.document())
        position, step = start, 64
        while position < end:
            stop = min(end, position + step)
            cursor.setPosition(position)
            cursor.setPosition(stop, cursor.MoveMode.KeepAnchor)
            if cursor.selectedText().strip():
                return True
            position, step = stop, min(step * 8, 1 << 20)
        return False


def _local_files(source: QMimeData) -> list[Path]:
    """The local files among dropped or pasted URLs (a link to a web page is not a file)."""
    if not source.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in source.urls() if url.isLocalFile() and url.toLocalFile()]
