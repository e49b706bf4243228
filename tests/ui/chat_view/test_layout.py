"""How the conversation is laid out: a centred column, questions as bubbles on the right, code as cards."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtGui import QImage, QTextBlock

from gemchat.core.messages import Role
from gemchat.ui.chat_view import ChatView
from gemchat.ui.chat_view.blocks import CODE, MESSAGE_ID
from gemchat.ui.chat_view.column import BUBBLE, BUBBLE_SHARE, MAX_COLUMN
from tests.ui.chat_view.helpers import blocks_of, message

LONG_QUESTION = "Why is the sky blue during the day but red and orange at sunset, and does it look the same on Mars? " * 2


def shown(qtbot, width: int, messages, full_width: bool = False) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    view.column.full_width = full_width
    view.resize(width, 600)
    view.show()
    qtbot.waitExposed(view)
    view.show_messages(messages)
    view.load_all()
    return view


def painted(view: ChatView) -> QImage:
    """What the view shows now (painting also lays the document out)."""
    return view.viewport().grab().toImage()


def text_span(view: ChatView, block: QTextBlock) -> tuple[float, float]:
    """Where a block's text starts and ends across the view, in pixels."""
    rect = view.document().documentLayout().blockBoundingRect(block)
    layout = block.layout()
    left = rect.left() + min(layout.lineAt(i).x() for i in range(layout.lineCount()))
    right = left + max(layout.lineAt(i).naturalTextWidth() for i in range(layout.lineCount()))
    return left, right


def column_edges(view: ChatView) -> tuple[float, float]:
    frame = view.document().rootFrame().frameFormat()
    return frame.leftMargin(), view.viewport().width() - frame.rightMargin()


def test_on_a_wide_window_the_text_keeps_to_a_centred_column_and_full_width_fills_it(qtbot) -> None:
    view = shown(qtbot, 1400, [message(1, Role.USER, "q"), message(2, Role.MODEL, "word " * 400)])
    left, right = column_edges(view)
    assert abs((right - left) - MAX_COLUMN) <= 1
    assert abs(left - (view.viewport().width() - right)) <= 1  # centred
    answer = next(b for b in blocks_of(view) if b.text().startswith("word"))
    painted(view)
    start, end = text_span(view, answer)
    assert start >= left and end <= right + 1
    view.column.full_width = True
    left, right = column_edges(view)
    assert right - left > 1300
    view.column.full_width = False
    view.resize(600, 600)  # narrower than the column: the margins shrink to a little room
    left, right = column_edges(view)
    assert left <= 20 and view.viewport().width() - right <= 20


def test_a_short_question_is_a_bubble_at_the_right_of_the_column_as_wide_as_its_text(qtbot) -> None:
    view = shown(qtbot, 1100, [message(1, Role.USER, "Hi there!"), message(2, Role.MODEL, "Hello.")])
    painted(view)
    bubble = next(b for b in blocks_of(view) if b.text() == "Hi there!")
    assert bubble.blockFormat().hasProperty(BUBBLE)
    left, right = column_edges(view)
    start, end = text_span(view, bubble)
    assert right - end < 40  # at the right edge (its padding)
    assert start > left + (right - left) / 2  # a short question does not stretch across
    assert bubble.layout().lineCount() == 1


def test_a_long_question_wraps_at_three_quarters_of_the_column_and_refits_when_the_window_narrows(qtbot) -> None:
    view = shown(qtbot, 1300, [message(1, Role.USER, LONG_QUESTION)])
    painted(view)
    bubble = next(b for b in blocks_of(view) if b.text() == LONG_QUESTION)
    left, right = column_edges(view)
    start, end = text_span(view, bubble)
    assert bubble.layout().lineCount() > 1
    assert abs((start - left) - (right - left) * (1 - BUBBLE_SHARE)) < 40
    view.resize(640, 600)
    painted(view)
    left, right = column_edges(view)
    start, end = text_span(view, bubble)
    assert start >= left + (right - left) * (1 - BUBBLE_SHARE) - 40 and end <= right


def test_bubbles_are_painted_in_the_question_colour_around_the_text(qtbot) -> None:
    view = shown(qtbot, 900, [message(1, Role.USER, "Hi there!")])
    image = painted(view)
    bubble = next(b for b in blocks_of(view) if b.text() == "Hi there!")
    start, _end = text_span(view, bubble)
    rect = view.document().documentLayout().blockBoundingRect(bubble)
    y = round(rect.center().y() - view.verticalScrollBar().value())
    tint = view._formats.user_tint.name()
    assert image.pixelColor(round(start) - 6, y).name() == tint  # in the bubble's padding
    assert image.pixelColor(round(start) - 40, y).name() != tint  # outside it


def test_a_long_code_line_wraps_inside_its_card_and_never_scrolls_the_conversation_sideways(qtbot) -> None:
    code = "x = [" + ", ".join(str(n) for n in range(200)) + "]"
    view = shown(qtbot, 700, [message(1, Role.USER, "q"), message(2, Role.MODEL, f"```python\n{code}\n```")])
    painted(view)
    assert view.horizontalScrollBar().maximum() == 0
    line = next(b for b in blocks_of(view) if b.text() == code)
    header = line.previous()
    assert line.blockFormat().intProperty(CODE) == 1 and header.blockFormat().intProperty(CODE) == 0
    assert "python" in header.text() and "Copy" in header.text()
    assert line.layout().lineCount() > 2
    assert "x = [" in view.toPlainText()  # copying the view gives the line once, not its wrapped pieces


def test_an_answer_is_headed_by_the_model_that_wrote_it(qtbot) -> None:
    answer = replace(message(2, Role.MODEL, "Hello."), answered_by="gemini-2.5-flash")
    view = shown(qtbot, 900, [message(1, Role.USER, "q"), answer])
    header = next(b for b in blocks_of(view) if b.blockFormat().hasProperty(MESSAGE_ID)
                  and b.blockFormat().intProperty(MESSAGE_ID) == 2)
    assert header.text() == "Gemini 2.5 Flash"
    view.begin_answer(3, model="gemini-3-pro-preview")
    assert view.toPlainText().endswith("Gemini 3 Pro Preview")


def test_a_larger_text_size_widens_the_bubble_and_the_column_with_it(qtbot) -> None:
    view = shown(qtbot, 1600, [message(1, Role.USER, "Hi there!")])
    painted(view)
    bubble = next(b for b in blocks_of(view) if b.text() == "Hi there!")
    left, right = column_edges(view)
    column_before = right - left
    start, end = text_span(view, bubble)
    text_before = end - start
    font = view.font()
    font.setPointSizeF(font.pointSizeF() * 1.5)  # what Ctrl+= does (`TextZoom`)
    view.setFont(font)
    painted(view)
    left, right = column_edges(view)
    start, end = text_span(view, bubble)
    assert right - left > column_before * 1.3  # the column grows with the text
    assert end - start > text_before * 1.3  # the text is larger ...
    assert bubble.layout().lineCount() == 1 and right - end < 40  # ... and its bubble still fits it, at the right
