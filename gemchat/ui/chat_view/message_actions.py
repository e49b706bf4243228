"""The actions of one message, shown over its header line: for the message under the pointer, or at the caret.

A row of small buttons (Copy, Regenerate or Edit, the version arrows, a menu
with Copy Markdown) and the message's time, as in the chat apps people know,
instead of actions found only by right-click or by key. It floats over the
document, so showing it never re-lays out the conversation; on a long answer
whose header has scrolled away it stays at the top of the view.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, QRectF, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QMenu, QToolButton, QWidget

from gemchat.core.message_labels import Role, Status
from gemchat.ui.chat_view.blocks import header_block_of, message_of, next_header

if TYPE_CHECKING:
    from gemchat.core.messages import Message
    from gemchat.ui.chat_view.view import ChatView

EDGE = 4
"""The least room between the row and the view's top edge, when it sticks there."""


class MessageActions(QFrame):
    """The row of one message's actions; `ChatView` says which message (`show_for`) and does what they ask.

    Attributes:
        message_id: the message the row is for (None: hidden).
    """

    def __init__(self, browser: ChatView, message: Callable[[int], Message | None]) -> None:
        """`message` finds a shown message by id (the view's, as it was last told)."""
        super().__init__(browser.viewport())
        self._browser = browser
        self._message = message
        self.message_id: int | None = None
        self.setObjectName("messageActions")
        self.setAccessibleName("Message actions")
        # No style sheet: a widget with one keeps the palette it was first polished with (light in a dark theme).
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 1, 4, 1)
        layout.setSpacing(2)
        self.time = QLabel()
        self.time.setEnabled(False)  # muted, as the palette shows disabled text
        layout.addWidget(self.time)
        self.copy = self._button("Copy", "copy", layout)
        self.regenerate = self._button("Regenerate", "regenerate", layout)
        self.edit = self._button("Edit", "edit", layout)
        self.older = self._button("‹", "older", layout, name="Previous version")
        self.version = QLabel()
        layout.addWidget(self.version)
        self.newer = self._button("›", "newer", layout, name="Next version")
        self.more = QToolButton()
        self.more.setText("⋯")
        self.more.setAccessibleName("More actions")
        self.more.setToolTip("More actions")
        self.more.setAutoRaise(True)
        self.more.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.menu = QMenu(self.more)
        self.menu.aboutToShow.connect(self._fill_menu)
        self.more.clicked.connect(lambda: self.menu.popup(self.more.mapToGlobal(self.more.rect().bottomLeft())))
        layout.addWidget(self.more)
        self.hide()
        browser.viewport().setMouseTracking(True)
        browser.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        browser.cursorPositionChanged.connect(self._on_cursor_position_changed)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._on_focus_changed)

    # -- following the pointer and the keyboard (told by `ChatView`'s event handlers) ------------------

    def pointer_moved(self, point: QPoint) -> None:
        self.show_for(self._message_at(point))

    def pointer_left(self) -> None:
        if not self.underMouse():
            self._keyboard_or_hide()

    def focus_entered(self) -> None:
        """The conversation got the keyboard focus: the row is for the last message in view."""
        self.show_for(self._message_at(QPoint(EDGE, self._browser.viewport().height() - EDGE)))

    def _on_focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        """The focus left the conversation and the row (Tab past them, a click elsewhere): the row goes."""
        ours = [self._browser, *self.focus_chain()]
        if old in ours and new not in ours:
            self._keyboard_or_hide()

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().leaveEvent(event)
        if not self._browser.viewport().underMouse():
            self._keyboard_or_hide()

    def _keyboard_or_hide(self) -> None:
        """Off the pointer: the row stays for keyboard users (focus in the view or the row), else it hides."""
        if self._browser.hasFocus() or self.holds_focus():
            return
        if not self.underMouse() and not self._browser.viewport().underMouse():
            self.show_for(None)

    def _on_scrolled(self, _value: int) -> None:
        if self.isVisible() and not self.place():
            self.hide()

    def _on_cursor_position_changed(self) -> None:
        if self._browser.hasFocus():
            self.show_for(self._message_at(self._browser.cursorRect().center()))

    def _message_at(self, point: QPoint) -> int | None:
        found = message_of(self._browser.cursorForPosition(point).block())
        return found[0] if found is not None else None

    def _button(self, text: str, action: str, layout: QHBoxLayout, name: str | None = None) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setAccessibleName(name or text)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        button.clicked.connect(lambda: self._run(action))
        layout.addWidget(button)
        return button

    def _run(self, action: str) -> None:
        """What a button asks for: the view copies, or tells the window (Regenerate, Edit, versions)."""
        message = self._message(self.message_id) if self.message_id is not None else None
        if message is None:
            return
        view = self._browser
        if action in ("copy", "copy-markdown"):
            text = message.text if message.role is Role.USER else view.answer_markdown(message.id)
            if action == "copy" and text is not None and message.role is Role.MODEL:
                from gemchat.core.markdown import plain_text

                text = plain_text(text)
            view.copy_text(text)
        elif action == "regenerate":
            view.retry_requested.emit(message.id)
        elif action == "edit":
            view.edit_requested.emit(message.id)
        elif action in ("older", "newer"):
            view.version_requested.emit(message.id, -1 if action == "older" else 1)

    def _is_last_answer(self, message_id: int) -> bool:
        messages = self._browser.messages
        return bool(messages) and messages[-1].id == message_id and messages[-1].role is Role.MODEL

    def _fill_menu(self) -> None:
        menu = self.menu
        menu.clear()
        message = self._message(self.message_id) if self.message_id is not None else None
        if message is None:
            return
        menu.addAction("Copy Text").triggered.connect(lambda: self._run("copy"))
        if message.role is Role.MODEL:
            menu.addAction("Copy Markdown").triggered.connect(lambda: self._run("copy-markdown"))

    # -- which message, and where ------------------------------------------------------

    def show_for(self, message_id: int | None) -> None:
        """Shows the row for a message (None hides it), where its header is or at the top of the view."""
        message = self._message(message_id) if message_id is not None else None
        if message is None:
            self.message_id = None
            self.hide()
            return
        if message_id != self.message_id or not self.isVisible():
            self.message_id = message_id
            self._fill(message)
        if not self.place():
            self.hide()

    def refresh(self) -> None:
        """Shows the row's message as it is now (it ended, got a version), or hides the row if it is gone."""
        self.show_for(self.message_id)

    def _fill(self, message: Message) -> None:
        answer = message.role is Role.MODEL
        busy = message.status is Status.STREAMING
        self.time.setText(_when(message.created_at))
        self.copy.setToolTip("Copy this answer's text" if answer else "Copy this question")
        self.regenerate.setVisible(answer and self._is_last_answer(message.id))
        self.regenerate.setEnabled(not busy)
        self.regenerate.setToolTip("Ask again for this answer; this one is kept as a version (Ctrl+R)")
        self.edit.setVisible(not answer)
        self.edit.setToolTip("Edit this question and send it as a new version (Ctrl+Shift+E for the last one)")
        versions = message.versions > 1
        for widget in (self.older, self.version, self.newer):
            widget.setVisible(versions)
        self.version.setText(f"{message.version}/{message.versions}")
        self.version.setAccessibleName(f"Version {message.version} of {message.versions}")
        self.older.setEnabled(message.version > 1)
        self.newer.setEnabled(message.version < message.versions)
        self.adjustSize()

    def place(self) -> bool:
        """Moves the row to its message's header line; False if the message is out of view."""
        document = self._browser.document()
        header = header_block_of(document, self.message_id) if self.message_id is not None else None
        if header is None:
            return False
        layout = document.documentLayout()
        offset = self._browser.verticalScrollBar().value()
        rect = layout.blockBoundingRect(header)
        after = next_header(header)
        bottom = (layout.blockBoundingRect(after).top() if after is not None else document.size().height()) - offset
        top = rect.top() - offset + (rect.height() - self.height()) / 2
        if bottom < self.height() or top > self._browser.viewport().height():
            return False
        top = min(max(top, EDGE), bottom - self.height())
        frame = document.rootFrame().frameFormat()
        right = self._browser.viewport().width() - frame.rightMargin()
        if header.blockFormat().alignment() & Qt.AlignmentFlag.AlignRight:  # a question: left of its "You"
            right -= self._browser.fontMetrics().horizontalAdvance(header.text()) + 12
        self.move(QPoint(round(right - self.width()), round(top)))
        self.show()
        self.raise_()
        return True

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """A rounded pill in the page's colour, in whatever palette is in use now."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(self.palette().color(QPalette.ColorRole.Mid))
        painter.setBrush(self.palette().color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 8, 8)

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802, A002 (Qt override)
        """Tab goes along the window's chain, not to the conversation's links (Qt asks the row's parents first)."""
        start = self.focusWidget() or self
        candidate = start.nextInFocusChain() if next else start.previousInFocusChain()
        while candidate is not start and candidate is not None:
            takes_tab = bool(candidate.focusPolicy() & Qt.FocusPolicy.TabFocus)
            if takes_tab and candidate.isVisible() and candidate.isEnabled() and candidate.window() is self.window():
                candidate.setFocus(Qt.FocusReason.TabFocusReason if next else Qt.FocusReason.BacktabFocusReason)
                return True
            candidate = candidate.nextInFocusChain() if next else candidate.previousInFocusChain()
        return False

    def focus_chain(self) -> list[QWidget]:
        """The row's buttons in Tab order (hidden ones are passed over)."""
        return [self.copy, self.regenerate, self.edit, self.older, self.newer, self.more]

    def holds_focus(self) -> bool:
        """Whether one of the row's buttons has the keyboard focus."""
        focused = self.focusWidget()
        return focused is not None and focused.hasFocus()


def _when(created_at: str) -> str:
    """A message's time as the user's locale writes it: the time alone today, with the date before."""
    import datetime as dt

    from PySide6.QtCore import QDateTime, QLocale

    try:
        when = dt.datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)  # gemchat keeps times in UTC (`utc_now`)
    local = QDateTime.fromSecsSinceEpoch(int(when.timestamp()))
    locale = QLocale()
    if local.date() == QDateTime.currentDateTime().date():
        return locale.toString(local.time(), QLocale.FormatType.ShortFormat)
    return locale.toString(local, QLocale.FormatType.ShortFormat)
