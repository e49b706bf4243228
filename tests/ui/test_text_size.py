"""Text size: Ctrl+= / Ctrl++ / Ctrl+- / Ctrl+0 and Ctrl+wheel make the conversation and the message box
larger or smaller, all of it in proportion, and the size is there again after a restart.

Sizes are read as a user sees them: how wide a line of text is drawn (the layout's
natural width of that line), in the window run as `gemchat --data-dir DIR` runs it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget

from gemchat.app import GemchatApp
from gemchat.paths import settings_path
from gemchat.settings import Settings
from gemchat.ui.chat_view import ChatView
from gemchat.ui.composer import Composer
from tests.conftest import run, until
from tests.driving import press, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, Reply
from tests.ui.conftest import Running

QUESTION = "How large is this text?"
HEADING = "A heading in the answer"
PARAGRAPH = "A plain sentence of the answer, long enough to measure."
CODE = "print('code is shown in a monospace font')"
ANSWER = f"# {HEADING}\n\n{PARAGRAPH}\n\n```python\n{CODE}\n```\n"
TYPED = "Words typed in the message box"


def width_of(view: ChatView, text: str, nth: int = 0) -> float:
    """How wide the `nth` paragraph of the view that reads exactly `text` is drawn, in pixels (its lines end to end)."""
    document = view.document()
    block, found = document.begin(), 0
    while block.isValid():
        if block.text() == text:
            if found == nth:
                document.documentLayout().blockBoundingRect(block)  # laid out by now
                layout = block.layout()
                return sum(layout.lineAt(n).naturalTextWidth() for n in range(layout.lineCount()))
            found += 1
        block = block.next()
    raise AssertionError(f"{text!r} is not shown ({found} found)")


def sizes(app: GemchatApp) -> dict[str, float]:
    """The widths of a question, a heading, a paragraph and a line of code, and of words in the message box."""
    view = app.window.view
    return {
        "question": width_of(view, QUESTION),
        "heading": width_of(view, HEADING),
        "paragraph": width_of(view, PARAGRAPH),
        "code": width_of(view, CODE),
        "message box": app.window.composer.fontMetrics().horizontalAdvance(TYPED),
    }


def assert_scaled(now: dict[str, float], before: dict[str, float], factor: float) -> None:
    for part, width in now.items():
        assert width == pytest.approx(before[part] * factor, rel=0.06), (part, width, before[part], factor)


def ask_with_code(qloop: Any, qtbot: Any, app: GemchatApp, gemini: FakeGemini) -> None:
    gemini.enqueue(Reply.text(ANSWER))
    type_and_send(qtbot, app, QUESTION)
    wait_answer_done(qloop, app)


def wheel(widget: QWidget, notch_fraction: float, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.ControlModifier) -> None:
    """Turns the wheel over a widget's text area (positive: away from the user), as Qt delivers it."""
    target = widget.viewport() if isinstance(widget, (ChatView, Composer)) else widget
    center = QPointF(target.rect().center())
    event = QWheelEvent(center, target.mapToGlobal(center), QPoint(), QPoint(0, round(120 * notch_fraction)),
                        Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(target, event)


def test_ctrl_plus_and_minus_scale_the_question_the_answer_its_heading_and_code_and_the_message_box_together(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any) -> None:
    ask_with_code(qloop, qtbot, live, gemini)
    normal = sizes(live)
    assert normal["heading"] > normal["paragraph"] * len(HEADING) / len(PARAGRAPH)  # a heading is larger

    for _ in range(5):
        press(qtbot, live, "Ctrl++")
    assert live.window.statusBar().currentMessage() == "Text size 150%"
    assert_scaled(sizes(live), normal, 1.5)

    press(qtbot, live, "Ctrl+-")
    press(qtbot, live, "Ctrl+-")
    assert live.window.statusBar().currentMessage() == "Text size 130%"
    assert_scaled(sizes(live), normal, 1.3)

    press(qtbot, live, "Ctrl+0")
    assert live.window.statusBar().currentMessage() == "Text size 100%"
    assert sizes(live) == normal  # exactly as before

    press(qtbot, live, "Ctrl+=")  # the same key as Ctrl++ without Shift
    assert live.window.statusBar().currentMessage() == "Text size 110%"
    assert_scaled(sizes(live), normal, 1.1)


def test_the_text_size_stops_at_50_and_300_percent(live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any) -> None:
    ask_with_code(qloop, qtbot, live, gemini)
    normal = sizes(live)
    for _ in range(8):
        press(qtbot, live, "Ctrl+-")
    assert live.window.statusBar().currentMessage() == "Text size 50%"
    assert_scaled(sizes(live), normal, 0.5)
    for _ in range(30):
        press(qtbot, live, "Ctrl++")
    assert live.window.statusBar().currentMessage() == "Text size 300%"
    assert_scaled(sizes(live), normal, 3.0)
    assert live.settings.text_zoom == 300


def test_ctrl_wheel_over_the_conversation_or_the_message_box_zooms_instead_of_scrolling(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any) -> None:
    gemini.enqueue(Reply.text("\n\n".join(f"Paragraph {n} of a long answer." for n in range(80))))
    type_and_send(qtbot, live, "A long answer, please")
    wait_answer_done(qloop, live)
    view, bar = live.window.view, live.window.view.verticalScrollBar()
    bottom = bar.value()
    wheel(view, 8, Qt.KeyboardModifier.NoModifier)  # without Ctrl the wheel scrolls, as always: up, to read
    assert bar.value() < bottom and live.settings.text_zoom == 100
    reading = view.cursorForPosition(QPoint(0, 0)).block().text()
    paragraph = width_of(view, "Paragraph 40 of a long answer.")

    wheel(view, 1)
    assert live.window.statusBar().currentMessage() == "Text size 110%"
    assert width_of(view, "Paragraph 40 of a long answer.") == pytest.approx(paragraph * 1.1, rel=0.06)
    assert view.cursorForPosition(QPoint(0, 0)).block().text() == reading  # still in view, where it was

    wheel(live.window.composer, -1)
    wheel(live.window.composer, -0.5)  # half a notch, as a touchpad sends: nothing yet
    assert live.window.statusBar().currentMessage() == "Text size 100%"
    wheel(live.window.composer, -0.5)
    assert live.window.statusBar().currentMessage() == "Text size 90%"
    assert view.cursorForPosition(QPoint(0, 0)).block().text() == reading
    assert live.settings.text_zoom == 90


def test_an_answer_streamed_after_a_zoom_is_as_large_as_the_text_zoomed_before_it(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any) -> None:
    ask_with_code(qloop, qtbot, live, gemini)
    normal = sizes(live)
    for _ in range(4):
        press(qtbot, live, "Ctrl++")
    gemini.enqueue(Reply.text([f"{PARAGRAPH}\n\n", "```python\n", f"{CODE}\n", "```\n\n", "Last words."], chunk_delay=0.05))
    type_and_send(qtbot, live, "Once more")
    wait_answer_done(qloop, live)
    view = live.window.view
    # The second answer, streamed at 140 %, is drawn as large as the first, rendered at 100 % and zoomed.
    assert width_of(view, PARAGRAPH, 1) == width_of(view, PARAGRAPH, 0)
    assert width_of(view, CODE, 1) == width_of(view, CODE, 0)
    assert width_of(view, PARAGRAPH, 1) == pytest.approx(normal["paragraph"] * 1.4, rel=0.06)


def test_zooming_while_an_answer_streams_sizes_what_came_before_and_after_alike(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any) -> None:
    live.settings.typing_effect = False
    live.window.apply_settings()
    gemini.enqueue(Reply.text([f"{PARAGRAPH}\n\n", f"```python\n{CODE}\n", "more code\n", "```\n\n",
                               f"{PARAGRAPH}\n\n", f"```python\n{CODE}\n```\n"], chunk_delay=0.4))
    type_and_send(qtbot, live, QUESTION)
    view = live.window.view
    run(qloop, until(lambda: "more code" in view.toPlainText(), what="the first half shown"))
    before = width_of(view, PARAGRAPH)
    press(qtbot, live, "Ctrl++")
    press(qtbot, live, "Ctrl++")
    wait_answer_done(qloop, live)
    assert width_of(view, PARAGRAPH, 0) == pytest.approx(before * 1.2, rel=0.06)
    assert width_of(view, PARAGRAPH, 1) == width_of(view, PARAGRAPH, 0)
    assert width_of(view, CODE, 1) == width_of(view, CODE, 0)


def test_the_text_size_is_there_again_after_a_restart(
        qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path, started: list[Running]) -> None:
    started.append(first := Running(qloop, qtbot, data_dir))
    ask_with_code(qloop, qtbot, first.app, gemini_env)
    normal = sizes(first.app)
    press(qtbot, first.app, "Ctrl++")
    press(qtbot, first.app, "Ctrl++")
    zoomed = sizes(first.app)
    first.close()
    assert json.loads(settings_path(data_dir).read_text(encoding="utf-8"))["text_zoom"] == 120

    started.append(second := Running(qloop, qtbot, data_dir))
    run(qloop, until(lambda: QUESTION in second.app.window.view.toPlainText(), what="the last chat shown again"))
    assert sizes(second.app) == zoomed
    assert_scaled(zoomed, normal, 1.2)
    press(qtbot, second.app, "Ctrl+0")
    assert sizes(second.app) == normal


@pytest.mark.parametrize("value", [1000, 10, 0, -100, "120", 120.0, True, None, [120]])
def test_a_text_size_in_settings_json_that_is_not_a_percentage_from_50_to_300_is_ignored_and_logged(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, value: object) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"text_zoom": value, "theme": "dark"}), encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="gemchat.settings")
    assert Settings.load(path) == Settings(theme="dark")
    assert "text_zoom" in caplog.text


def test_a_text_size_from_50_to_300_percent_in_settings_json_is_kept_as_a_whole_number(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    for value in (50, 135, 300):
        path.write_text(json.dumps({"text_zoom": value, "read_timeout": 30}), encoding="utf-8")
        loaded = Settings.load(path)
        assert loaded.text_zoom == value and isinstance(loaded.text_zoom, int)
        assert loaded.read_timeout == 30.0 and isinstance(loaded.read_timeout, float)
