"""The row of actions over a message: shown on hover and on keyboard focus, and what each button does."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QMouseEvent
from PySide6.QtWidgets import QApplication

from gemchat.core.messages import Role
from gemchat.ui.chat_view import ChatView
from gemchat.ui.chat_view.blocks import header_block_of
from tests.ui.chat_view.helpers import message

ANSWER = "Use **this**:\n\n```python\nprint(1)\n```"


def shown(qtbot) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    qtbot.waitExposed(view)
    question = replace(message(1, Role.USER, "How do I print?"), created_at="2026-11-29T10:00:00.000Z")
    answer = replace(message(2, Role.MODEL, ANSWER), version=2, versions=2, created_at="2026-11-29T10:00:05.000Z")
    view.show_messages([question, answer])
    view.viewport().grab()  # lays the document out
    return view


def hover(view: ChatView, message_id: int) -> None:
    """Moves the pointer over a message's first line of text."""
    header = header_block_of(view.document(), message_id)
    assert header is not None
    rect = view.document().documentLayout().blockBoundingRect(header.next())
    point = QPointF(rect.left() + rect.width() - 20, rect.center().y() - view.verticalScrollBar().value())
    if message_id == 2:
        point.setX(rect.left() + 10)
    QApplication.sendEvent(view.viewport(), QMouseEvent(QEvent.Type.MouseMove, point, point, Qt.MouseButton.NoButton,
                                                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))


def test_hovering_an_answer_shows_its_time_copy_regenerate_and_versions_over_its_header(qtbot) -> None:
    view = shown(qtbot)
    row = view.message_actions
    assert not row.isVisible()
    hover(view, 2)
    assert row.isVisible() and row.message_id == 2
    assert row.time.text()  # the time it was written
    assert row.copy.isVisible() and row.regenerate.isVisible() and not row.edit.isVisible()
    assert row.version.text() == "2/2" and row.older.isEnabled() and not row.newer.isEnabled()
    header = header_block_of(view.document(), 2)
    assert header is not None
    top = view.document().documentLayout().blockBoundingRect(header).top() - view.verticalScrollBar().value()
    assert abs(row.geometry().center().y() - top) < 20  # on the header line, not over the text
    for button in (row.copy, row.regenerate, row.older, row.newer, row.more):
        assert button.accessibleName()


def test_the_buttons_copy_the_text_or_markdown_regenerate_and_switch_versions(qtbot) -> None:
    view = shown(qtbot)
    row = view.message_actions
    hover(view, 2)
    row.copy.click()
    copied = QGuiApplication.clipboard().text()
    assert "Use this:" in copied and "print(1)" in copied and "**" not in copied and "```" not in copied  # as read
    row.more.click()
    qtbot.waitUntil(row.menu.isVisible)
    copy_markdown = next(a for a in row.menu.actions() if a.text() == "Copy Markdown")
    copy_markdown.trigger()
    row.menu.close()
    assert QGuiApplication.clipboard().text() == ANSWER
    with qtbot.waitSignal(view.retry_requested) as retry:
        row.regenerate.click()
    assert retry.args == [2]
    with qtbot.waitSignal(view.version_requested) as version:
        row.older.click()
    assert version.args == [2, -1]


def test_hovering_a_question_offers_edit_and_copy_and_no_regenerate(qtbot) -> None:
    view = shown(qtbot)
    row = view.message_actions
    hover(view, 1)
    assert row.message_id == 1
    assert row.edit.isVisible() and not row.regenerate.isVisible()
    with qtbot.waitSignal(view.edit_requested) as edit:
        row.edit.click()
    assert edit.args == [1]
    row.copy.click()
    assert QGuiApplication.clipboard().text() == "How do I print?"


def test_regenerate_is_offered_on_the_last_answer_only(qtbot) -> None:
    view = shown(qtbot)
    view.add_message(message(3, Role.USER, "And in C?"))
    view.viewport().grab()
    hover(view, 2)
    assert view.message_actions.message_id == 2 and not view.message_actions.regenerate.isVisible()


def test_keyboard_focus_in_the_conversation_shows_the_row_and_tab_reaches_its_buttons(qtbot) -> None:
    view = shown(qtbot)
    row = view.message_actions
    view.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(lambda: view.hasFocus())
    assert row.isVisible() and row.message_id == 2  # the last message in view
    row.copy.setFocus(Qt.FocusReason.TabFocusReason)
    view.clearFocus()
    QApplication.processEvents()
    assert row.isVisible()  # the row keeps showing while one of its buttons has the focus


def test_the_row_hides_when_the_pointer_leaves_and_nothing_has_focus(qtbot) -> None:
    view = shown(qtbot)
    hover(view, 2)
    assert view.message_actions.isVisible()
    QApplication.sendEvent(view.viewport(), QEvent(QEvent.Type.Leave))
    assert not view.message_actions.isVisible()
    assert view.message_at(QPoint(5, 5)) is not None


def test_the_row_takes_the_dark_theme_colours_when_the_theme_changes(qtbot) -> None:
    from gemchat.ui.theme import apply_theme

    view = shown(qtbot)
    hover(view, 2)
    row = view.message_actions
    try:
        apply_theme("dark")
        qtbot.waitUntil(lambda: row.grab().toImage().pixelColor(row.width() // 2, 2).lightness() < 128, timeout=2000)
    finally:
        apply_theme("light")
        apply_theme("system")
