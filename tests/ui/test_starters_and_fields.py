"""The starters of an empty chat and the search fields: drawn and named as before, with no themed icon asked for at start."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QToolButton, QWidget

from gemchat.ui.fields import SearchField
from gemchat.ui.starter_button import StarterButton
from tests.conftest import run, until

QUESTION = "Write a Python function that removes duplicate lines from a file, keeping their order."


def _accent_pixels(button: StarterButton) -> int:
    image = button.grab().toImage()
    accent = button.palette().color(button.palette().ColorRole.Highlight)
    return sum(1 for x in range(image.width()) for y in range(image.height())
               if _near(image.pixelColor(x, y), accent))


def _near(one: QColor, other: QColor) -> bool:
    return abs(one.red() - other.red()) + abs(one.green() - other.green()) + abs(one.blue() - other.blue()) < 40


def test_a_starters_question_wraps_when_the_window_narrows_and_a_screen_reader_hears_it(qtbot) -> None:
    button = StarterButton("Code", QUESTION)
    qtbot.addWidget(button)
    assert button.hasHeightForWidth()
    wide, narrow = button.heightForWidth(900), button.heightForWidth(180)
    assert narrow >= wide + 2 * button.fontMetrics().height()  # three or more lines instead of one
    assert button.accessibleDescription() == QUESTION and button.text() == "Code"


def test_a_starter_shows_its_card_only_with_the_focus_or_the_pointer(qtbot) -> None:
    holder = QWidget()
    qtbot.addWidget(holder)
    button = StarterButton("Code", QUESTION, holder)
    button.resize(300, button.heightForWidth(300))
    holder.show()
    qtbot.waitExposed(holder)
    at_rest = _accent_pixels(button)
    button.setFocus()
    qtbot.waitUntil(button.hasFocus, timeout=2000)
    assert _accent_pixels(button) > at_rest + 100  # the accent's ring all round
    clicked = []
    button.clicked.connect(lambda: clicked.append(True))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(150, 10))
    assert clicked == [True]


def test_a_search_field_gets_its_named_clear_button_with_the_focus_or_text_not_before(qtbot) -> None:
    holder = QWidget()
    qtbot.addWidget(holder)
    focused = SearchField("Search chats", "Search chats")
    given_text = SearchField("Filter models", "Filter models")
    for field in (focused, given_text):
        field.setParent(holder)
    holder.show()
    qtbot.waitExposed(holder)
    assert not focused.isClearButtonEnabled() and not given_text.isClearButtonEnabled()
    focused.setFocus()
    qtbot.waitUntil(focused.hasFocus, timeout=2000)
    given_text.setText("flash")
    for field, name in ((focused, "Clear search chats"), (given_text, "Clear filter models")):
        assert field.isClearButtonEnabled()
        assert [b.accessibleName() for b in field.findChildren(QToolButton)] == [name]
    focused.setText("words")
    qtbot.keyClick(focused, Qt.Key.Key_End)  # still one button: it was made once
    assert len(focused.findChildren(QToolButton)) == 1


def test_the_sidebar_search_has_its_named_clear_button_once_the_first_chat_shows(live, qloop) -> None:
    """Made in a turn of its own after the first chat: not before the first paint, nor in the first key typed."""
    field = live.window.sidebar_panel.filter
    assert not field.hasFocus()  # the message box has it
    run(qloop, until(field.isClearButtonEnabled, 3, "the clear button made"))
    assert [b.accessibleName() for b in field.findChildren(QToolButton)] == ["Clear search chats"]
