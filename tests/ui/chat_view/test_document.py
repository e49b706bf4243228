"""A chat's messages in the view: status lines, plain questions, Markdown answers, long chats, palettes."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import QPoint, QUrl

from gemchat.core.markdown import DARK, LIGHT
from gemchat.core.messages import Role, Status
from gemchat.ui.chat_view import ChatView
from gemchat.ui.theme import apply_theme
from tests.driving import in_viewport
from tests.pyside_enums import NOTE_ENUMS
from tests.ui.chat_view.helpers import blocks_of, long_chat, message, one_shot


def test_error_answer_shows_reason_and_a_retry_link(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.show_messages([
        message(1, Role.USER, "Q"),
        message(2, Role.MODEL, "partial", Status.ERROR, "The connection to Gemini was lost."),
    ])
    assert "partial" in view.toPlainText()
    assert "The connection to Gemini was lost." in view.toPlainText()
    with qtbot.waitSignal(view.retry_requested) as blocker:
        view.anchorClicked.emit(QUrl("gemchat:retry/2"))
    assert blocker.args == [2]


def test_interrupted_answer_says_it_was_stopped(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.show_messages([message(1, Role.USER, "Q"), message(2, Role.MODEL, "half", Status.INTERRUPTED)])
    assert "Stopped" in view.toPlainText()


def test_user_messages_stay_plain_text(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.show_messages([message(1, Role.USER, "**not bold** <b>x</b>\n# not a heading")])
    assert view.toPlainText() == "You\n**not bold** <b>x</b>\n# not a heading"


def test_tables_and_nested_lists_are_rendered(qtbot) -> None:
    view = one_shot(qtbot, "| Name | Size |\n|---|--:|\n| a | 1 |\n\n1. one\n   - inner\n2. two\n")
    text = view.toPlainText()
    assert "Name\nSize\na\n1" in text
    tables = [f for f in view.document().rootFrame().childFrames() if f.__class__.__name__ == "QTextTable"]
    assert len(tables) == 1 and (tables[0].rows(), tables[0].columns()) == (2, 2)
    numbered = [b for b in blocks_of(view) if b.textList() and b.text() in ("one", "two")]
    assert [b.textList().itemText(b) for b in numbered] == ["1.", "2."]
    inner = next(b for b in blocks_of(view) if b.text() == "inner")
    assert inner.textList().format().indent() > numbered[0].textList().format().indent()


def test_an_answer_copies_as_its_markdown_source(qtbot) -> None:
    view = one_shot(qtbot, "# Title\n\n*emphasis*")
    assert view.answer_markdown(2) == "# Title\n\n*emphasis*"
    assert view.answer_markdown(1) is None  # a question is not an answer
    view.begin_answer(3)
    view.append_to_answer("**streaming** now")
    assert view.last_answer_markdown() == "**streaming** now"
    point = view.cursorRect(view.textCursor()).center()
    assert view.message_at(QPoint(point.x(), 5)) is not None


def test_a_dark_palette_restyles_the_shown_answers(qtbot) -> None:
    view = one_shot(qtbot, "```python\nprint(1)\n```")
    view.resize(600, 400)

    def code_background() -> str:
        """The colour painted just left of the code's text, inside its card."""
        image = view.viewport().grab().toImage()  # painting lays the document out
        block = next(b for b in blocks_of(view) if b.text() == "print(1)")
        rect = view.document().documentLayout().blockBoundingRect(block)
        x = rect.left() + block.blockFormat().leftMargin() - 4
        y = rect.center().y() - view.verticalScrollBar().value()
        return image.pixelColor(round(x), round(y)).name()

    assert code_background() == LIGHT.code_background
    try:
        apply_theme("dark")
        qtbot.waitUntil(lambda: code_background() == DARK.code_background, timeout=2000)
        assert "print(1)" in view.toPlainText()
    finally:
        apply_theme("light")
        qtbot.waitUntil(lambda: code_background() == LIGHT.code_background, timeout=2000)
        apply_theme("system")


def test_the_window_does_not_load_markdown_before_it_is_shown() -> None:
    code = ("import sys, gemchat.ui.main_window; "
            "assert 'markdown_it' not in sys.modules and 'pygments' not in sys.modules, 'loaded early'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_first_code_card_shown_costs_no_python_enums_of_gradients() -> None:
    """PySide6 makes a class's enums in Python at their first use; QGradient's (180 presets, 5-7 ms) are not
    needed to draw a code card, and were made in the turn that showed the first one."""
    code = NOTE_ENUMS + """
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gemchat.core.message_labels import Role, Status
from gemchat.core.messages import Message
from gemchat.ui.chat_view import ChatView
view = ChatView()
view.show_messages([Message(1, 1, Role.MODEL, "Run:\\n\\n```python\\nprint(1)\\n```\\n", Status.COMPLETE, "")])
assert "print(1)" in view.toPlainText(), view.toPlainText()
assert "Preset" not in made, made
"""
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def test_opening_a_long_chat_shows_the_latest_messages_and_loads_older_ones_on_scrolling_up(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    view.show_messages(long_chat(2000))
    qtbot.wait(20)
    assert "message number 2000" in view.toPlainText()
    assert "message number 1\n" not in view.toPlainText()  # not rendered yet: the first paint is quick
    bar = view.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0
    bar.triggerAction(bar.SliderAction.SliderToMinimum)
    top_text = view.cursorForPosition(QPoint(10, 10)).block().text()
    qtbot.waitUntil(lambda: view.cursorForPosition(QPoint(10, 10)).block().text() != "" and bar.value() > 0)
    assert view.cursorForPosition(QPoint(10, 10)).block().text() == top_text  # what was seen stays in place
    view.scroll_to_message(2)
    assert "message number 2\n" in view.toPlainText()


def test_a_chat_of_long_answers_shows_its_last_screen_at_once_and_the_answers_above_follow_without_moving_it(
        qtbot) -> None:
    answer = "An answer.\n\n```python\n" + "print('x')\n" * 30 + "```\n\n" + "Some words. " * 150
    chat = [message(i, Role.USER if i % 2 else Role.MODEL, f"question {i}" if i % 2 else f"answer {i}\n\n{answer}")
            for i in range(1, 41)]
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    view.show_messages(chat)
    text = view.toPlainText()
    assert "answer 40" in text and "question 37" not in text  # a screen's worth before the first paint
    bar = view.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0  # the view is full: nothing above the text moves it later
    qtbot.waitUntil(lambda: "question 31" in view.toPlainText())  # then the rest of the opening, in turns
    assert "answer 28" not in view.toPlainText()  # older ones wait for scrolling up, as before
    assert bar.value() == bar.maximum()  # still at the end of the last answer


def test_a_chat_of_short_answers_fills_the_view_before_its_first_paint(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(500, 1500)  # taller than the messages rendered at once
    view.show()
    view.show_messages(long_chat(300))
    bar = view.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.maximum()  # more than a view of text, at its end, at once


def test_a_search_hit_in_an_unrendered_part_is_rendered_and_shown(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    view.show_messages(long_chat(300))
    view.scroll_to_message(7)
    assert not view.following
    assert view.message_at(QPoint(30, 30)) == (7, Role.USER)  # message 7 is at the top, not 6 or 9
    assert in_viewport(view, "message number 7")
    qtbot.wait(50)  # older messages rendered above meanwhile must not move it
    assert view.message_at(QPoint(30, 30)) == (7, Role.USER)


def _made_at_start(view: ChatView, chat: list) -> tuple:
    """What the start-up thread makes for `chat` (`app._load_behind_the_window`), marked so a test sees it used."""
    from gemchat.core.markdown import palette_style
    from gemchat.ui.chat_view.document import opening
    from gemchat.ui.chat_view.message_writer import prerender

    style = palette_style(*view.markdown_colours())
    made = prerender(opening(chat), style)
    return style, {key: tuple(p.replace("made at start", "made on the thread") for p in pieces)
                   for key, pieces in made.items()}


def test_the_chat_shown_at_start_uses_its_answers_rendered_on_the_start_up_thread_once(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    chat = [message(1, Role.USER, "Q"), message(2, Role.MODEL, "**made at start**"),
            message(3, Role.USER, "made at start too, but a question"), message(4, Role.MODEL, "*made at start* 2")]
    style, made = _made_at_start(view, chat)
    assert sorted(made) == [(2, "**made at start**"), (4, "*made at start* 2")]  # answers only
    view.use_prerendered(style, made)
    view.show_messages(chat)
    assert view.toPlainText().count("made on the thread") == 2
    assert "made at start too, but a question" in view.toPlainText()
    view.show_messages(chat)  # shown again: rendered again, the HTML made at start was used up
    assert "made on the thread" not in view.toPlainText() and view.toPlainText().count("made at start") == 3


def test_answers_rendered_at_start_are_not_used_in_other_colours_or_after_another_chat(qtbot) -> None:
    from dataclasses import replace

    view = ChatView()
    qtbot.addWidget(view)
    chat = [message(1, Role.USER, "Q"), message(2, Role.MODEL, "**made at start**")]
    style, made = _made_at_start(view, chat)
    view.use_prerendered(replace(style, muted="#123456"), made)  # the palette changed meanwhile
    view.show_messages(chat)
    assert "made at start" in view.toPlainText() and "made on the thread" not in view.toPlainText()
    view.use_prerendered(style, made)
    view.show_messages([message(5, Role.USER, "another chat first")])
    view.show_messages(chat)
    assert "made on the thread" not in view.toPlainText()
