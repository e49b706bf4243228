"""The key dialog a new user meets first: all of its text shown at any text size, and the way to a key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QWidget

from gemchat.core.credentials import KEYS_URL
from gemchat.tasks import Tasks
from gemchat.ui.api_key_dialog import ApiKeyDialog

PROBLEM = ("The key file /home/someone/.config/gemchat/api-key can be read by other users, so it was not used. "
           "Make it readable by you only (chmod 600), or paste the key again.")


@pytest.fixture
def font_times(qapp: Any) -> Iterator[Any]:
    """Sets the application's font to a multiple of its size (as a user's desktop setting would); restored after."""
    normal = qapp.font()

    def scale(times: float) -> None:
        font = normal.__class__(normal)
        font.setPointSizeF(normal.pointSizeF() * times)
        qapp.setFont(font)

    yield scale
    qapp.setFont(normal)


async def _works(_key: str) -> str:
    return "The key works."


def open_dialog(qtbot: Any) -> ApiKeyDialog:
    """The dialog with the most it can say: a refused key file, no keyring, the file offered, Check."""
    dialog = ApiKeyDialog(problem=PROBLEM, check=_works, tasks=Tasks())
    qtbot.addWidget(dialog)
    dialog.show_no_keyring(Path("/home/someone/.config/gemchat/api-key"))
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def cut(dialog: ApiKeyDialog) -> list[str]:
    """What is shown cut: a wrapped label lower than its lines, a button or field narrower than its text."""
    found = []
    for widget in dialog.findChildren(QWidget):
        if not widget.isVisibleTo(dialog):
            continue
        if isinstance(widget, QLabel) and widget.text() and widget.height() < widget.heightForWidth(widget.width()):
            found.append(f"label {widget.text()[:30]!r}: {widget.height()} px of {widget.heightForWidth(widget.width())}")
        elif isinstance(widget, QAbstractButton | QLineEdit) and widget.width() < widget.minimumSizeHint().width():
            found.append(f"{type(widget).__name__} {widget.text()!r}: {widget.width()} px of {widget.sizeHint().width()}")
    return found


@pytest.mark.parametrize("times", [1, 2])
def test_the_key_dialog_shows_all_its_text_at_normal_and_twice_the_text_size(
        qtbot: Any, font_times: Any, times: float) -> None:
    font_times(times)
    dialog = open_dialog(qtbot)
    assert cut(dialog) == []
    assert dialog.body_area.verticalScrollBar().maximum() == 0  # all of it in sight, nothing to scroll
    screen = dialog.screen().availableGeometry()
    assert dialog.height() <= screen.height() and dialog.width() <= screen.width()


def test_with_a_text_size_too_large_for_the_screen_the_key_dialog_scrolls_rather_than_cutting(
        qtbot: Any, font_times: Any) -> None:
    font_times(4)
    dialog = open_dialog(qtbot)
    screen = dialog.screen().availableGeometry()
    assert dialog.height() <= screen.height() and dialog.width() <= screen.width()
    assert cut(dialog) == []  # each label whole, in a body taller than the window
    bar = dialog.body_area.verticalScrollBar()
    assert bar.maximum() > 0
    save = next(b for b in dialog.findChildren(QAbstractButton) if b.text() == "Save")
    assert save.isVisible() and dialog.rect().contains(save.geometry())  # Save and Cancel stay in sight
    bar.setValue(bar.maximum())  # scrolled to the end: the last words can be read
    note = dialog._file_note
    bottom = note.mapTo(dialog.body_area.viewport(), note.rect().bottomLeft()).y()
    assert bottom <= dialog.body_area.viewport().height()


def test_the_key_dialog_opens_in_the_key_field_and_links_to_where_a_key_is_made(qtbot: Any) -> None:
    dialog = open_dialog(qtbot)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.findChild(QLineEdit), timeout=2000)
    intro = dialog.findChild(QLabel, "key_intro")
    assert KEYS_URL == "https://aistudio.google.com/apikey"
    assert f'href="{KEYS_URL}"' in intro.text() and "aistudio.google.com/apikey" in intro.text()
    assert intro.openExternalLinks()
    assert intro.textInteractionFlags() & Qt.TextInteractionFlag.LinksAccessibleByKeyboard  # Tab, then Enter
    assert dialog.check_button.isVisible()
