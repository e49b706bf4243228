"""The message box's card as a user sees it: it grows with the text, Send turns into Stop, the files sit inside it,
it stands in a centred column, and in the middle of a new chat."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from gemchat.app import GemchatApp
from gemchat.ui.attachment_tray import AttachmentTray
from gemchat.ui.composer import Composer
from gemchat.ui.composer_card import COLUMN_WIDTH, MOST_LINES, ComposerCard, ComposerColumn
from tests.conftest import run, until
from tests.driving import type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, Reply
from tests.ui.test_accessibility import picture


def shown_card(qtbot: Any, width: int) -> tuple[Composer, ComposerCard]:
    """A message box in its card, `width` px wide, on screen."""
    composer = Composer()
    card = ComposerCard(composer, AttachmentTray(lambda _sha256: None), "Ctrl+L")
    qtbot.addWidget(card)
    card.resize(width, 400)
    card.show()
    qtbot.waitExposed(card)
    return composer, card


def test_the_message_box_grows_from_one_line_to_eight_then_scrolls_and_shrinks_back(qtbot: Any) -> None:
    composer, _card = shown_card(qtbot, 600)
    bar = composer.verticalScrollBar()
    heights = [composer.height()]
    assert composer.shown_lines() == 1
    for n in range(2, MOST_LINES + 3):
        qtbot.keyClick(composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
        qtbot.keyClicks(composer, f"line {n}")
        heights.append(composer.height())
        assert composer.shown_lines() == min(n, MOST_LINES)
    growing, kept = heights[:MOST_LINES], heights[MOST_LINES - 1:]
    assert all(a < b for a, b in pairwise(growing)), heights  # a line higher each time
    assert len(set(kept)) == 1, heights  # then no higher
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=2000)  # the rest scrolls
    composer.clear()
    assert composer.height() == heights[0] and composer.shown_lines() == 1

    composer.setPlainText("word " * 200)  # one paragraph, wrapped: counted as the lines it shows
    assert composer.shown_lines() == MOST_LINES and composer.height() == kept[0]
    composer.setPlainText("two\nlines")
    assert composer.height() == heights[1]
    assert bar.maximum() == 0  # all of it in sight: no scroll bar


def test_a_message_box_narrowed_until_its_hint_wraps_shows_both_lines_whole_and_one_again_when_widened(qtbot: Any) -> None:
    composer, card = shown_card(qtbot, 900)
    hint = composer.fontMetrics().horizontalAdvance(composer.placeholderText())
    spacing = composer.fontMetrics().lineSpacing()
    assert composer.shown_lines() == 1
    card.resize(card.width() - composer.viewport().width() + hint * 2 // 3, 400)  # the hint needs two lines
    qtbot.waitUntil(lambda: composer.shown_lines() == 2, timeout=2000)
    # The part that shows the text is as tall as the box: both lines in sight, not the first and half the second.
    assert composer.viewport().height() >= 2 * spacing
    assert composer.viewport().height() == composer.height() - 2 * composer.frameWidth()
    card.resize(900, 400)
    qtbot.waitUntil(lambda: composer.shown_lines() == 1, timeout=2000)
    assert composer.viewport().height() == composer.height() - 2 * composer.frameWidth()


def test_send_becomes_stop_in_the_same_place_while_an_answer_streams_and_back(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any) -> None:
    window = live.window
    send, stop = window.send_button, window.stop_button
    type_and_send(qtbot, live, "hello")  # the card moves from the middle of the new chat to the foot
    wait_answer_done(qloop, live)
    assert send.isVisible() and not stop.isVisible() and send.accessibleName() == "Send"
    spot = send.mapTo(window, send.rect().center())
    gemini.enqueue(Reply.text([f"piece{i} " for i in range(200)], chunk_delay=0.05))
    type_and_send(qtbot, live, "a long answer")
    run(qloop, until(lambda: "piece2" in window.view.toPlainText(), 5, "the answer streaming"))
    assert stop.isVisible() and not send.isVisible()
    assert stop.mapTo(window, stop.rect().center()) == spot and stop.accessibleName() == "Stop"
    qtbot.mouseClick(stop, Qt.MouseButton.LeftButton)
    wait_answer_done(qloop, live)
    assert "Stopped" in window.view.toPlainText() and "piece199" not in window.view.toPlainText()
    assert send.isVisible() and not stop.isVisible()


def test_attached_files_show_as_chips_inside_the_card_above_the_text(
        live: GemchatApp, qloop: Any, qtbot: Any, tmp_path: Path) -> None:
    window = live.window
    assert not window.tray.isVisible()
    window.attachments.attach_paths([picture(tmp_path / "harbour.png")])
    run(qloop, until(lambda: window.tray.chips(), what="the file attached"))
    [chip] = window.tray.chips()
    qtbot.waitUntil(chip.isVisible, timeout=2000)
    assert window.card.isAncestorOf(chip) and chip.accessibleName() == "Attached file harbour.png"
    text_top = window.composer.mapTo(window.card, window.composer.rect().topLeft()).y()
    assert chip.mapTo(window.card, chip.rect().bottomLeft()).y() < text_top
    assert window.send_button.isEnabled()  # a file can go without words
    qtbot.mouseClick(chip.remove_button, Qt.MouseButton.LeftButton)
    assert window.tray.chips() == [] and not window.tray.isVisible() and not window.send_button.isEnabled()


def test_the_card_stands_in_a_centred_column_800_px_wide_at_most_or_the_full_width_when_asked(qtbot: Any) -> None:
    card = ComposerCard(Composer(), AttachmentTray(lambda _sha256: None), "Ctrl+L")
    column = ComposerColumn([], card, [])
    qtbot.addWidget(column)
    column.resize(1400, 200)
    column.show()
    qtbot.waitExposed(column)
    left = card.mapTo(column, card.rect().topLeft()).x()
    right = column.width() - card.mapTo(column, card.rect().topRight()).x()
    assert card.width() == COLUMN_WIDTH and abs(left - right) <= 2
    column.set_column_width(None)  # the view's "full width"
    qtbot.waitUntil(lambda: card.width() > 1300, timeout=2000)
    column.resize(600, 200)  # narrower than the column: it takes the width there is
    qtbot.waitUntil(lambda: card.width() < 600, timeout=2000)
    column.set_column_width(COLUMN_WIDTH)
    column.resize(1000, 200)
    qtbot.waitUntil(lambda: card.width() == COLUMN_WIDTH, timeout=2000)


def test_the_text_column_and_the_message_box_line_up_with_the_scroll_bar_shown_or_not(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any) -> None:
    window = live.window
    window.resize(1280, 800)
    view, card = window.view, window.card

    def centres() -> tuple[float, float]:
        frame = view.document().rootFrame().frameFormat()
        left = view.viewport().mapTo(window, view.viewport().rect().topLeft()).x() + frame.leftMargin()
        right = view.viewport().mapTo(window, view.viewport().rect().topLeft()).x() + view.viewport().width() \
            - frame.rightMargin()
        return (left + right) / 2, card.mapTo(window, card.rect().center()).x() + 0.5

    type_and_send(qtbot, live, "short")
    wait_answer_done(qloop, live)
    assert not view.verticalScrollBar().isVisible()
    text, box = centres()
    assert abs(text - box) <= 1
    gemini.enqueue(Reply.text(["A long answer. " * 40 + "\n\n"] * 12))
    type_and_send(qtbot, live, "long")
    wait_answer_done(qloop, live)
    qtbot.waitUntil(lambda: view.verticalScrollBar().isVisible(), timeout=3000)
    qtbot.waitUntil(lambda: abs(centres()[0] - centres()[1]) <= 1, timeout=3000)  # still lined up
    assert abs(centres()[0] - text) <= 1  # and the text did not move sideways when the bar came


def test_a_new_chat_has_the_message_box_in_the_middle_and_the_first_message_moves_it_to_the_foot(
        live: GemchatApp, qloop: Any, qtbot: Any) -> None:
    window = live.window
    assert live.session.chat is None
    card, empty = window.card, window.empty_state
    assert empty.isVisible() and empty.isAncestorOf(card) and card.isVisible()
    greeting = empty.findChild(QLabel, "greeting")
    top = card.mapTo(empty, card.rect().topLeft()).y()
    assert greeting.mapTo(empty, greeting.rect().bottomLeft()).y() < top  # under the greeting, over the starters
    assert card.mapTo(empty, card.rect().bottomLeft()).y() < empty.starters[0].mapTo(empty, empty.starters[0].rect().topLeft()).y()
    type_and_send(qtbot, live, "hello")
    wait_answer_done(qloop, live)
    assert not empty.isVisible() and not empty.isAncestorOf(card) and card.isVisible()
    view_bottom = window.view.mapTo(window, window.view.rect().bottomLeft()).y()
    assert card.mapTo(window, card.rect().topLeft()).y() > view_bottom  # under the conversation
    assert QApplication.focusWidget() is window.composer  # still writing, wherever the box went
    run(qloop, live.session.new_chat())
    assert empty.isVisible() and empty.isAncestorOf(card) and card.isVisible()
