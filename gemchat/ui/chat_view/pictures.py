"""Pictures in answers, in the conversation: opened by a click, saved or copied from the context menu.

The pictures themselves are drawn by `MessageWriter._insert_pictures`, each an
image anchored to `gemchat:open-picture/<message>/<index>`; this part finds the
file behind such an anchor and acts on it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMenu, QTextBrowser, QToolTip

if TYPE_CHECKING:
    from gemchat.core.messages import Message


PREFIX = "gemchat:open-picture/"


class Pictures:
    """The answers' pictures of one view: `messages` and `attachment_path` are read when needed."""

    def __init__(self, browser: QTextBrowser, messages: Callable[[], Sequence[Message]],
                 attachment_path: Callable[[], Callable[[str], Path | None] | None]) -> None:
        self._browser = browser
        self._messages = messages
        self._attachment_path = attachment_path

    def at(self, position: QPoint) -> Path | None:
        """The file of the answer's picture under `position` (viewport coordinates), if one is there."""
        href = self._browser.anchorAt(position)
        if not href.startswith(PREFIX):
            return None
        try:
            message_id, index = (int(number) for number in href.removeprefix(PREFIX).split("/"))
        except ValueError:
            return None
        return self.path(message_id, index)

    def path(self, message_id: int, index: int) -> Path | None:
        message = next((m for m in self._messages() if m.id == message_id), None)
        attachment_path = self._attachment_path()
        if message is None or not 0 <= index < len(message.attachments) or attachment_path is None:
            return None
        return attachment_path(message.attachments[index].sha256)

    def open(self, message_id: int, index: int) -> None:
        """A click on an answer's picture: opened full size in the system's image viewer."""
        path = self.path(message_id, index)
        if path is not None:
            from PySide6.QtCore import QUrl

            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def add_actions(self, menu: QMenu, position: QPoint) -> None:
        """Save Image As… and Copy Image first in the context menu, when it opens on a picture."""
        picture = self.at(position)
        if picture is None:
            return
        save, copy = QAction("Save Image As…", menu), QAction("Copy Image", menu)
        save.triggered.connect(lambda: self.save(picture))
        copy.triggered.connect(lambda: self.copy(picture))
        if menu.actions():
            first = menu.actions()[0]
            menu.insertActions(first, [save, copy])
            menu.insertSeparator(first)
        else:
            menu.addActions([save, copy])

    def save(self, path: Path, target: str | None = None) -> None:
        """Save Image As…: a copy of the picture where the user chooses (`target` skips the dialog)."""
        if target is None:
            from PySide6.QtWidgets import QFileDialog

            suffix = path.suffix or ".png"
            target, _ = QFileDialog.getSaveFileName(self._browser, "Save Image As", f"gemini-image{suffix}",
                                                    f"Image (*{suffix})")
        if target:
            try:
                shutil.copyfile(path, target)
            except OSError as exc:
                self._say(f"The image was not saved: {exc.strerror or exc}")

    def copy(self, path: Path) -> None:
        """Copy Image: the picture, full size, on the clipboard."""
        from PySide6.QtGui import QImage  # not at import: its Python enums, before the window's first paint

        image = QImage(str(path))
        if not image.isNull():
            QGuiApplication.clipboard().setImage(image)
            self._say("Image copied")

    def _say(self, words: str) -> None:
        browser = self._browser
        QToolTip.showText(browser.mapToGlobal(browser.viewport().geometry().center()), words, browser)
