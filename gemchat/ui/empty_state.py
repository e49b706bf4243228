"""What a new, empty chat shows instead of a blank page: a greeting and four questions to start from."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCommandLinkButton, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

STARTERS = (
    ("Explain", "Explain how a transformer language model works, in plain words."),
    ("Write", "Write a short, friendly email asking to move tomorrow's meeting to Friday."),
    ("Code", "Write a Python function that removes duplicate lines from a file, keeping their order."),
    ("Plan", "Plan a three-day trip to Lisbon on a modest budget."),
)


class EmptyState(QWidget):
    """Signals:
        starter_chosen(str): a starter was clicked: its question, for the message box.
    """

    starter_chosen = Signal(str)

    def __init__(self, instead_of: QWidget, parent: QWidget | None = None) -> None:
        """`instead_of`: the conversation, which this stands in for while a new chat is empty."""
        super().__init__(parent)
        self._instead_of = instead_of
        self.setObjectName("emptyState")
        greeting = QLabel("What can Gemini help with?")
        greeting.setObjectName("greeting")
        font = greeting.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        greeting.setFont(font)
        greeting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint = QLabel("Type below, or start from one of these.")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        grid = QGridLayout()
        self.starters: list[QCommandLinkButton] = []
        for n, (label, question) in enumerate(STARTERS):
            button = QCommandLinkButton(label, question)  # its description wraps: the window can narrow
            button.setAccessibleName(f"Start from: {question}")
            button.setToolTip("Puts this question in the message box, to send or change")
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            button.setMinimumWidth(120)
            button.clicked.connect(lambda _checked=False, q=question: self.starter_chosen.emit(q))
            grid.addWidget(button, n // 2, n % 2)
            self.starters.append(button)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(greeting)
        layout.addWidget(hint)
        layout.addSpacing(16)
        layout.addLayout(grid)
        layout.addStretch(3)

    def show_instead(self, empty: bool) -> None:
        """A new chat with nothing in it shows this where the conversation will be; otherwise the conversation."""
        self.setVisible(empty)
        self._instead_of.setVisible(not empty)
