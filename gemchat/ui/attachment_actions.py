"""Files and pictures into the message being written: chosen (Ctrl+U), dropped on the window or pasted.

Files dropped anywhere on the window are attached: the window's drag and drop
events are taken here (the message box takes its own drops).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QMimeData, QObject, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMainWindow, QWidget

from gemchat.ui.attachment_tray import AttachmentTray

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

    from gemchat.core.messages import Attachment
    from gemchat.session import ChatSession

_DROP_EVENTS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)


class AttachmentActions(QObject):
    """Copies what the user attaches into the session's store, off the UI thread, and shows it in the tray.

    Nothing is attached before the session exists (the window shows first): the window
    takes drops from then on. Its event filter, a Python call in each of the window's
    events, is not there while the window is built either (96 events, about 2 ms).
    """

    def __init__(self, window: QMainWindow, tray: AttachmentTray, return_focus_to: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._tray = tray
        self._return_focus_to = return_focus_to
        self._session: ChatSession | None = None

    def attach_session(self, session: ChatSession) -> None:
        self._session = session
        self._window.setAcceptDrops(True)
        self._window.installEventFilter(self)

    def choose(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        dialog = QFileDialog(self._window, "Attach files", str(Path.home()),
                             "Images, documents, audio and video (*);;Images (*.png *.jpg *.jpeg *.webp *.heic *.heif)"
                             ";;PDF (*.pdf)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.filesSelected.connect(lambda paths: self.attach_paths([Path(p) for p in paths]))
        dialog.open()

    def attach_paths(self, paths: list[Path]) -> None:
        """Attaches files (dropped, pasted or chosen) to the message being written."""
        if paths and self._session is not None:
            self._session.tasks.start(self.add_paths(paths))

    async def add_paths(self, paths: list[Path]) -> None:
        """Attaches files and returns once they are in the tray (or refused, with the reason shown)."""
        session = self._session
        if not paths or session is None:
            return
        self._window.statusBar().showMessage(f"Attaching {len(paths)} file{'s' if len(paths) != 1 else ''}…")
        added, refused = await session.attach_files(paths, len(self._tray.attachments()))
        self._took(added, refused)

    def attach_image(self, image: QImage) -> None:
        """Attaches a pasted or dropped picture, kept as PNG."""
        if self._session is not None:
            self._session.tasks.start(self._attach_image(self._session, image.copy()))

    async def _attach_image(self, session: ChatSession, image: QImage) -> None:
        import asyncio

        from PySide6.QtCore import QBuffer, QByteArray, QIODevice

        def encode() -> bytes:
            data = QByteArray()
            buffer = QBuffer(data)
            buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            image.save(buffer, "PNG")  # type: ignore[call-overload]  # a QBuffer is a QIODevice; the stubs want bytes
            buffer.close()
            return bytes(data.data())

        png = await asyncio.get_running_loop().run_in_executor(None, encode)
        name = time.strftime("Pasted image %Y-%m-%d %H.%M.%S.png")
        added, refused = await session.attach_bytes(png, name, len(self._tray.attachments()))
        self._took(added, refused)

    def _took(self, added: list[Attachment], refused: list[str]) -> None:
        self._tray.add(added)
        if refused:
            self._window.statusBar().showMessage("  ".join(refused), 15000)
        elif added:
            self._window.statusBar().showMessage(f"Attached {', '.join(a.name for a in added)}.", 4000)
        self._return_focus_to.setFocus()

    @staticmethod
    def can_drop(mime: QMimeData) -> bool:
        return mime.hasImage() or any(url.isLocalFile() for url in mime.urls())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        """The window's drags are accepted when they carry files or a picture; a drop attaches them."""
        kind = event.type()
        if watched is self._window and isinstance(event, QDropEvent) and kind in _DROP_EVENTS:
            if self.drop(event.mimeData()) if kind == QEvent.Type.Drop else self.can_drop(event.mimeData()):
                event.acceptProposedAction()
            return True
        return super().eventFilter(watched, event)

    def drop(self, mime: QMimeData) -> bool:
        """Attaches the files (or else the picture) dropped; False when there was neither."""
        files = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        if files:
            self.attach_paths(files)
        elif mime.hasImage() and _is_image(mime.imageData()):
            self.attach_image(mime.imageData())
        else:
            return False
        return True


def _is_image(data: object) -> bool:
    from PySide6.QtGui import QImage  # not at import: its Python enums, before the first paint

    return isinstance(data, QImage)
