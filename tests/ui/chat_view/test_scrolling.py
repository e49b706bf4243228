"""Following the stream until the user scrolls away; Jump to latest, End or the bottom bring it back."""

from __future__ import annotations

from PySide6.QtCore import Qt

from gemchat.ui.chat_view import ChatView
from tests.ui.chat_view.helpers import streaming_view, wheel


def test_view_follows_the_stream_until_the_user_scrolls_up(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    view.begin_answer(1)
    for i in range(200):
        view.append_to_answer(f"line {i}\n\n")
    bar = view.verticalScrollBar()
    qtbot.waitUntil(lambda: "line 199" in view.toPlainText())
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    bar.triggerAction(bar.SliderAction.SliderPageStepSub)
    held = bar.value()
    assert not view.following
    for i in range(100):
        view.append_to_answer(f"more {i}\n\n")
    qtbot.waitUntil(lambda: "more 99" in view.toPlainText())
    assert bar.value() == held
    view.scroll_to_bottom()
    view.append_to_answer("end\n")
    qtbot.waitUntil(lambda: "end" in view.toPlainText())
    assert bar.value() == bar.maximum()


def test_following_stops_when_the_user_scrolls_up_and_the_jump_button_appears(qtbot) -> None:
    view = streaming_view(qtbot)
    bar = view.verticalScrollBar()
    assert view.following and bar.value() == bar.maximum() and not view.jump_button.isVisible()
    wheel(view, 3)
    assert not view.following and view.jump_button.isVisible()
    held = bar.value()
    for i in range(30):
        view.append_to_answer(f"More {i}. ")  # the same paragraph: the tail is re-rendered each time
        view.render_pending()
    view.append_to_answer("\n\nA new paragraph.")
    view.render_pending()
    qtbot.wait(10)
    assert bar.value() == held  # re-rendering below never yanks the reader
    assert view.jump_button.geometry().bottom() <= view.viewport().geometry().bottom()
    qtbot.mouseClick(view.jump_button, Qt.MouseButton.LeftButton)
    assert view.following and bar.value() == bar.maximum() and not view.jump_button.isVisible()
    view.append_to_answer("\n\nStill following.")
    view.render_pending()
    qtbot.wait(10)
    assert bar.value() == bar.maximum()


def test_scrolling_back_to_the_bottom_or_pressing_end_resumes_following(qtbot) -> None:
    view = streaming_view(qtbot)
    bar = view.verticalScrollBar()
    wheel(view, 2)
    assert not view.following
    wheel(view, -50)
    assert view.following and not view.jump_button.isVisible()
    wheel(view, 2)
    assert not view.following
    qtbot.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert view.following and bar.value() == bar.maximum()
    wheel(view, 2)
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert view.following
