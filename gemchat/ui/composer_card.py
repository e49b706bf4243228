"""The message box as a rounded card at the foot of the conversation's column, with what goes with it.

Inside the card: the attached files as chips, the text (one line growing to
eight, then scrolling), and a row with Attach on the left, the model chip and
Send on the right; Send gives its place to Stop while an answer streams.
`ComposerColumn` centres the card, with the lines said around it (what Gemini
is doing, the question being edited, an upload, the context meter), in a
column of at most `COLUMN_WIDTH` px, or the window's width (`set_column_width`).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRectF
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from gemchat.ui.attachment_tray import AttachmentTray
from gemchat.ui.composer import Composer
from gemchat.ui.model_chip import ModelChip
from gemchat.ui.painted import Glyph, RoundButton, outline_pen

COLUMN_WIDTH = 800
"""The widest the card (and the conversation's column) grows, in px, unless the view is set to full width."""
MOST_LINES = 8
RADIUS = 16

Role = QPalette.ColorRole


class ComposerCard(QFrame):
    """The card: a 1 px border, the accent's while the text box has the focus.

    Attributes:
        composer, tray: the text box and the attached files (made by the window, placed here).
        attach_button, model_chip, send_button, stop_button: the row under the text.
    """

    def __init__(self, composer: Composer, tray: AttachmentTray, model_key: str,
                 parent: QWidget | None = None) -> None:
        """`model_key`: the model picker's shortcut, for the chip's tooltip."""
        super().__init__(parent)
        self.setObjectName("composerCard")
        self.composer = composer
        self.tray = tray
        composer.setFrameShape(QFrame.Shape.NoFrame)
        composer.grow_up_to(MOST_LINES)
        composer.installEventFilter(self)  # repaints the border as the focus comes and goes
        for transparent in (composer.viewport(), tray.viewport(), tray.widget()):
            if transparent is not None:  # the card's fill shows through
                transparent.setAutoFillBackground(False)
        self.attach_button = RoundButton(Glyph.ATTACH, filled=False)
        self.attach_button.setAccessibleName("Attach files")
        self.attach_button.setToolTip("Attach images, PDFs, text or code, audio or video (Ctrl+U); "
                                      "you can also drop or paste them")
        self.model_chip = ModelChip(model_key)
        self.send_button = RoundButton(Glyph.SEND)
        self.send_button.setAccessibleName("Send")
        self.send_button.setToolTip("Send (Enter)")
        self.send_button.setEnabled(False)
        self.stop_button = RoundButton(Glyph.STOP)
        self.stop_button.setAccessibleName("Stop")
        self.stop_button.setToolTip("Stop the answer (Esc); what arrived is kept")
        self.stop_button.setVisible(False)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.attach_button)
        row.addStretch(1)
        row.addWidget(self.model_chip)
        row.addWidget(self.send_button)
        row.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.setSpacing(4)
        layout.addWidget(tray)
        layout.addWidget(composer)
        layout.addLayout(row)

    def show_streaming(self, streaming: bool) -> None:
        """Send becomes Stop while an answer streams, in the same place; the focus follows if it was on one."""
        had_focus = self.send_button.hasFocus() or self.stop_button.hasFocus()
        self.stop_button.setVisible(streaming)
        self.send_button.setVisible(not streaming)
        if had_focus:
            (self.stop_button if streaming else self.send_button).setFocus()

    def focus_chain(self) -> list[QWidget]:
        """The card's controls in Tab order: the text, then the row left to right, then the files' ✕."""
        return [self.composer, self.attach_button, self.model_chip, self.send_button, self.stop_button,
                *(chip.remove_button for chip in self.tray.chips())]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.composer and event.type() in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            self.update()
        return super().eventFilter(watched, event)

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        palette = self.palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        focused = self.composer.hasFocus()
        painter.setPen(outline_pen(palette, focused, focused_width=1.5))
        painter.setBrush(palette.color(Role.Base))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), RADIUS, RADIUS)


class ComposerColumn(QWidget):
    """The card and the lines around it, centred in a column of at most `COLUMN_WIDTH` px."""

    def __init__(self, above: list[QWidget], card: ComposerCard, below: list[QWidget],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.card = card
        self.setBackgroundRole(Role.Base)  # the conversation's surface, which the card floats on
        self.setAutoFillBackground(True)
        self._column = QWidget()
        inner = QVBoxLayout(self._column)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(4)
        for widget in (*above, card, *below):
            inner.addWidget(widget)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(16, 4, 16, 8)
        outer.addStretch(1)
        outer.addWidget(self._column, 100)  # takes what it may; the stretches split the rest, centring it
        outer.addStretch(1)
        self.set_column_width(COLUMN_WIDTH)

    def set_column_width(self, width: int | None) -> None:
        """The column's widest, in px; None: as wide as the window (the view's "full width")."""
        self._column.setMaximumWidth(width if width is not None else 16777215)  # QWIDGETSIZE_MAX
