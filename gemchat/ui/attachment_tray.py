"""The files waiting to be sent with the next message, and the upload of large ones.

`AttachmentTray` shows each attached file as a chip above the message box
(a thumbnail for images, the kind of file otherwise, its name and size, and a
button to remove it). `UploadBar` shows the Files API upload of a large file
before the question goes out, with Cancel.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QWidget,
)

from gemchat.core.attachments import MAX_ATTACHMENTS, format_size, kind_of
from gemchat.ui.painted import border_color
from gemchat.ui.viewports import give_own_viewport

if TYPE_CHECKING:
    from gemchat.core.messages import Attachment

THUMBNAIL_SIDE = 48
_KIND_LABELS = {"image": "IMG", "audio": "AUDIO", "video": "VIDEO", "document": "DOC"}


def kind_label(attachment: Attachment) -> str:
    """A short word for a chip without a picture: PDF, TXT, AUDIO, VIDEO, IMG."""
    if attachment.mime_type == "application/pdf":
        return "PDF"
    if attachment.mime_type == "text/plain":
        return "TXT"
    return _KIND_LABELS[kind_of(attachment.mime_type)]


CHIP_RADIUS = 8
"""The corners of an attached file's card, in pixels."""


class AttachmentChip(QFrame):
    """One attached file. Signals: remove_requested(str): its ✕ was clicked (the file's SHA-256)."""

    remove_requested = Signal(str)

    def __init__(self, attachment: Attachment, path: Path | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.attachment = attachment
        self.setObjectName("attachmentChip")
        self.setFrameShape(QFrame.Shape.NoFrame)  # a rounded card is painted instead (`paintEvent`)
        self.setToolTip(f"{attachment.name}\n{attachment.mime_type}, {format_size(attachment.size)}")
        self.setAccessibleName(f"Attached file {attachment.name}")
        self.preview = QLabel()
        self.preview.setFixedSize(THUMBNAIL_SIDE, THUMBNAIL_SIDE)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        from gemchat.ui.thumbnails import thumbnail  # QImage's Python enums: not before the window's first paint

        image = thumbnail(attachment.sha256, path, THUMBNAIL_SIDE) if kind_of(attachment.mime_type) == "image" \
            else None
        if image is not None:
            self.preview.setPixmap(QPixmap.fromImage(image))
        else:
            self.preview.setText(kind_label(attachment))
            self.preview.setObjectName("attachmentKind")
        self.has_thumbnail = image is not None
        name = QLabel()
        name.setText(name.fontMetrics().elidedText(attachment.name, Qt.TextElideMode.ElideMiddle, 160))
        size = QLabel(format_size(attachment.size))
        size.setEnabled(False)
        remove = QToolButton()
        remove.setText("✕")
        remove.setAutoRaise(True)
        remove.setToolTip(f"Remove {attachment.name}")
        remove.setAccessibleName(f"Remove {attachment.name}")
        remove.clicked.connect(lambda: self.remove_requested.emit(attachment.sha256))
        self.remove_button = remove
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 2, 2)
        layout.setSpacing(6)
        layout.addWidget(self.preview)
        layout.addWidget(name)
        layout.addWidget(size)
        layout.addWidget(remove)


    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        """A rounded card in the button colour with a quiet border, as the composer's other chips."""
        palette = self.palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(border_color(palette), 1))
        painter.setBrush(palette.color(QPalette.ColorRole.Button))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), CHIP_RADIUS, CHIP_RADIUS)
        painter.end()


class AttachmentTray(QScrollArea):
    """The chips of the files attached to the message being written; hidden while there are none.

    Signals:
        changed(): a file was added or removed.
    """

    changed = Signal()

    def __init__(self, path_of: Callable[[str], Path | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        give_own_viewport(self)
        self._path_of = path_of
        self._chips: list[AttachmentChip] = []
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName("Attached files")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a row of chips: Tab goes to their ✕ buttons, not to the row
        inner = QWidget()
        self._row = QHBoxLayout(inner)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.addStretch(1)
        self.setWidget(inner)
        self.setFixedHeight(THUMBNAIL_SIDE + 16 + self.horizontalScrollBar().sizeHint().height())
        self.setVisible(False)

    def attachments(self) -> list[Attachment]:
        return [chip.attachment for chip in self._chips]

    def chips(self) -> list[AttachmentChip]:
        return list(self._chips)

    def room(self) -> int:
        """How many more files the message can carry."""
        return MAX_ATTACHMENTS - len(self._chips)

    def add(self, attachments: list[Attachment]) -> None:
        """Adds files; one already attached (same content) is not added twice."""
        present = {chip.attachment.sha256 for chip in self._chips}
        for attachment in attachments:
            if attachment.sha256 in present:
                continue
            present.add(attachment.sha256)
            chip = AttachmentChip(attachment, self._path_of(attachment.sha256))
            chip.remove_requested.connect(self.remove)
            self._row.insertWidget(self._row.count() - 1, chip)
            self._chips.append(chip)
        self.setVisible(bool(self._chips))
        self.changed.emit()

    def remove(self, sha256: str) -> None:
        for chip in [c for c in self._chips if c.attachment.sha256 == sha256]:
            self._chips.remove(chip)
            chip.deleteLater()
        self.setVisible(bool(self._chips))
        self.changed.emit()

    def clear(self) -> None:
        for chip in self._chips:
            chip.deleteLater()
        self._chips.clear()
        self.setVisible(False)
        self.changed.emit()


class UploadBar(QWidget):
    """The upload of an attachment to the Files API, before the question is sent.

    Signals:
        cancel_requested(): Cancel was clicked (it stops the answer, upload included).
    """

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Upload")
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(10)
        self.cancel = QPushButton("Cancel")
        self.cancel.setAccessibleName("Cancel upload")
        self.cancel.setToolTip("Stop the upload; the question stays, and Retry sends it again")
        self.cancel.clicked.connect(self.cancel_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel)
        self.setVisible(False)

    def show_progress(self, name: str, sent: int, total: int) -> None:
        if total and sent >= total:
            self.setVisible(False)
            return
        self.label.setText(f"Uploading {name}: {format_size(sent)} of {format_size(total)}")
        self.bar.setValue(round(1000 * sent / total) if total else 0)
        self.setVisible(True)

    def finish(self) -> None:
        self.setVisible(False)
