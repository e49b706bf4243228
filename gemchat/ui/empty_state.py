"""What a new, empty chat shows instead of a blank page: a greeting, the message box, and four questions to start from.

The message box is the window's own (`carry`): it moves here, between the
greeting and the starters, while the chat is empty, and back to the foot of
the conversation with the first message, as in the chat apps people know.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QApplication,
    QBoxLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from gemchat.ui.composer_card import COLUMN_WIDTH  # the greeting, box and starters stand in the same column
from gemchat.ui.starter_button import StarterButton

STARTERS = (
    ("Explain", "Explain how a transformer language model works, in plain words."),
    ("Write", "Write a short, friendly email asking to move tomorrow's meeting to Friday."),
    ("Code", "Write a Python function that removes duplicate lines from a file, keeping their order."),
    ("Plan", "Plan a three-day trip to Lisbon on a modest budget."),
)
_CARRIED_AT = 5
"""The carried widget's place in the layout: after the stretch, greeting, hint and two spacings."""


class EmptyState(QWidget):
    """Signals:
        starter_chosen(str): a starter was clicked: its question, for the message box.
    """

    starter_chosen = Signal(str)

    def __init__(self, instead_of: QWidget, parent: QWidget | None = None) -> None:
        """`instead_of`: the conversation, which this stands in for while a new chat is empty."""
        super().__init__(parent)
        self._instead_of = instead_of
        self._carried: tuple[QWidget, QBoxLayout] | None = None
        self.setObjectName("emptyState")
        self.setBackgroundRole(QPalette.ColorRole.Base)  # the conversation's surface, which it stands in for
        self.setAutoFillBackground(True)
        greeting = QLabel("What can Gemini help with?")
        greeting.setObjectName("greeting")
        font = greeting.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        greeting.setFont(font)
        greeting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint = QLabel("Type below, or start from one of these.")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid = QGridLayout()
        self.starters: list[StarterButton] = []
        for n, (label, question) in enumerate(STARTERS):
            button = StarterButton(label, question)  # its question wraps: the window can narrow
            button.setAccessibleName(f"Start from: {question}")
            button.setToolTip("Puts this question in the message box, to send or change")
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            button.setMinimumWidth(120)
            button.clicked.connect(lambda _checked=False, q=question: self.starter_chosen.emit(q))
            grid.addWidget(button, n // 2, n % 2)
            self.starters.append(button)
        column = QWidget()
        column.setMaximumWidth(COLUMN_WIDTH)
        self._layout = QVBoxLayout(column)
        self._layout.addStretch(2)
        self._layout.addWidget(greeting)
        self._layout.addWidget(self.hint)
        self._layout.addSpacing(8)
        self._layout.addSpacing(8)  # the message box goes after this, while carried (`_CARRIED_AT`)
        self._layout.addLayout(grid)
        self._layout.addStretch(3)
        centred = QHBoxLayout(self)
        centred.addStretch(1)
        centred.addWidget(column, 100)
        centred.addStretch(1)

    def stand_in_for(self, conversation: QWidget) -> None:
        """`conversation` takes the place of the one this stood in for (the surface shown before it was made)."""
        parent = self.parentWidget()
        standing_in = self.isVisibleTo(parent) if parent is not None else self.isVisible()
        conversation.setVisible(not standing_in)  # a widget put in a new parent is hidden until shown
        self._instead_of = conversation

    def carry(self, widget: QWidget, home: QBoxLayout) -> None:
        """Shows `widget` (the message box) in the middle while the chat is empty; `home` is where it goes back to."""
        self._carried = (widget, home)
        self.hint.setText("Ask anything, or start from one of these.")

    def show_instead(self, empty: bool) -> None:
        """A new chat with nothing in it shows this where the conversation will be; otherwise the conversation."""
        focused = QApplication.focusWidget()  # before hiding this, which would send the focus elsewhere
        self.setVisible(empty)
        self._instead_of.setVisible(not empty)
        if self._carried is None:
            return
        widget, home = self._carried
        here = self._layout.indexOf(widget) >= 0
        if empty == here:
            return
        if empty:
            self._layout.insertWidget(_CARRIED_AT, widget)
        else:
            home.addWidget(widget)
        widget.show()  # a widget moved to another parent is hidden until shown
        if focused is not None and widget.isAncestorOf(focused):
            focused.setFocus()  # moving it took the focus away
