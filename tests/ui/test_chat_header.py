"""The strip above the conversation as a user meets it: the title edited in place, the model chip and its
picker, the chips of the tools that are on. The real app, against the fake server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gemchat.app import GemchatApp
from gemchat.core.messages import Chat
from gemchat.ui.chat_header import ChatHeader
from gemchat.ui.model_picker import ModelPicker
from tests.conftest import run, until
from tests.driving import last_stream, press, rows, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, Reply, camel_case, wants_search


def listed_titles(app: GemchatApp) -> list[str]:
    sidebar = app.window.sidebar
    return [sidebar.item(row).text() for row in range(sidebar.count())
            if sidebar.item(row).flags() & Qt.ItemFlag.ItemIsSelectable]


def open_picker(app: GemchatApp, qloop: Any, qtbot: Any, how: str = "Ctrl+L") -> ModelPicker:
    """Opens the model picker with its key, or a click on the chip named ("header", "card"); waits for the list."""
    window = app.window
    if how == "Ctrl+L":
        press(qtbot, app, how)
    else:
        chip = window.header.model_chip if how == "header" else window.card.model_chip
        qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    picker = window.model_choice.picker
    assert picker is not None
    qtbot.waitUntil(lambda: picker.isVisible() and QApplication.focusWidget() is picker.filter, timeout=3000)
    run(qloop, until(lambda: len(picker.shown_models()) > 1, 5, "the models listed"))
    return picker


def test_a_title_edited_in_the_header_is_saved_and_shown_in_the_sidebar_and_esc_puts_it_back(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path) -> None:
    window = live.window
    title = window.header.title
    assert title.text() == "New chat" and title.isReadOnly()  # a new chat has no title to edit yet
    press(qtbot, live, "F2")
    assert "named after its first message" in window.statusBar().currentMessage() and not title.hasFocus()
    type_and_send(qtbot, live, "hello there")
    wait_answer_done(qloop, live)
    run(qloop, until(lambda: listed_titles(live) and title.text() == listed_titles(live)[0], 5, "the title shown"))
    assert not title.isReadOnly()

    qtbot.mouseClick(title, Qt.MouseButton.LeftButton)  # a click edits it in place
    assert title.hasFocus()
    title.selectAll()
    qtbot.keyClicks(title, "Greetings")
    qtbot.keyClick(title, Qt.Key.Key_Return)
    run(qloop, until(lambda: listed_titles(live) == ["Greetings"], 5, "the sidebar shows the new title"))
    assert rows(data_dir, "select title from chats") == [("Greetings",)]
    assert title.text() == "Greetings" and "Greetings" in window.windowTitle()
    assert window.composer.hasFocus()  # back to writing

    gemini.enqueue(Reply.text([f"piece{i} " for i in range(60)], chunk_delay=0.05))
    type_and_send(qtbot, live, "a long answer, please")
    run(qloop, until(lambda: "piece2" in window.view.toPlainText(), 5, "the answer streaming"))
    press(qtbot, live, "F2")  # F2 edits here too, the title selected
    assert title.hasFocus() and title.selectedText() == "Greetings"
    qtbot.keyClicks(title, "Not kept")
    qtbot.keyClick(title, Qt.Key.Key_Escape)
    assert title.text() == "Greetings" and window.composer.hasFocus()
    assert live.session.is_generating()  # Esc put the title back; it did not stop the answer as well
    wait_answer_done(qloop, live)
    assert "piece59" in window.view.toPlainText()
    press(qtbot, live, "Ctrl+N")  # then, after everything queued, the title on disk is still the one kept
    run(qloop, until(lambda: live.session.chat is None, 3, "a new chat"))
    assert rows(data_dir, "select title from chats") == [("Greetings",)] and title.text() == "New chat"


def test_the_model_chip_shows_the_chats_model_and_the_picker_filters_and_changes_it_for_the_next_request(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path) -> None:
    window = live.window
    default = live.settings.model
    type_and_send(qtbot, live, "hello")
    wait_answer_done(qloop, live)
    chips = (window.header.model_chip, window.card.model_chip)
    assert [chip.model for chip in chips] == [default, default]
    # Shown as over its answers; the id is in the tooltip.
    assert [chip.text() for chip in chips] == ["Gemini 3.6 Flash  ▾"] * 2 and default == "gemini-3.6-flash"
    assert chips[0].accessibleName() == "Model: Gemini 3.6 Flash" and "Ctrl+L" in chips[0].toolTip()
    assert default in chips[0].toolTip()

    picker = open_picker(live, qloop, qtbot)
    assert picker.chosen_row() == default  # the model in use is where the keys start
    in_use = picker.list.currentItem()
    assert (in_use.text(), in_use.toolTip()) == ("Gemini 3.6 Flash  ✓", default)  # the name as shown, the id beside
    assert set(picker.shown_models()) >= {"gemini-3.6-flash", "gemini-3.6-pro"}
    qtbot.keyClick(picker.filter, Qt.Key.Key_Escape)  # Esc closes and changes nothing
    qtbot.waitUntil(lambda: not picker.isVisible(), timeout=3000)
    assert live.session.chat.model == default

    picker = open_picker(live, qloop, qtbot, "card")
    qtbot.keyClicks(picker.filter, "pro")
    assert picker.shown_models() == ["gemini-3.6-pro"] and picker.chosen_row() == "gemini-3.6-pro"
    qtbot.keyClick(picker.filter, Qt.Key.Key_Return)
    assert not picker.isVisible()
    assert [chip.model for chip in chips] == ["gemini-3.6-pro", "gemini-3.6-pro"]
    run(qloop, until(lambda: live.session.chat.model == "gemini-3.6-pro", 3, "the chat's model saved"))
    type_and_send(qtbot, live, "and now?")
    wait_answer_done(qloop, live)
    assert last_stream(gemini).model == "gemini-3.6-pro"
    assert rows(data_dir, "select model from chats") == [("gemini-3.6-pro",)]

    picker = open_picker(live, qloop, qtbot, "header")  # Up and Down move through what the filter leaves
    qtbot.keyClicks(picker.filter, "gemini")
    qtbot.keyClick(picker.filter, Qt.Key.Key_Up)
    assert picker.chosen_row() == "gemini-3.6-flash"
    assert QApplication.focusWidget() is picker.list  # in the list, a screen reader says the name reached
    qtbot.keyClick(picker.list, Qt.Key.Key_Down)
    assert picker.chosen_row() == "gemini-3.6-pro"
    qtbot.keyClicks(picker.list, " fl")  # typing goes back to the filter
    assert QApplication.focusWidget() is picker.filter and picker.filter.text() == "gemini fl"
    assert picker.shown_models() == ["gemini-3.6-flash"]
    qtbot.keyClick(picker.filter, Qt.Key.Key_Down)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    run(qloop, until(lambda: live.session.chat.model == "gemini-3.6-flash", 3, "the chat's model saved"))
    assert window.header.model_chip.model == "gemini-3.6-flash"


def test_a_model_chosen_in_a_new_chat_is_the_one_its_first_question_goes_to_and_the_next_new_chat_starts_afresh(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path) -> None:
    window = live.window
    assert live.session.chat is None
    picker = open_picker(live, qloop, qtbot, "card")  # the card stands in the middle of the new chat
    qtbot.keyClicks(picker.filter, "pro")
    qtbot.keyClick(picker.filter, Qt.Key.Key_Return)
    assert window.card.model_chip.model == "gemini-3.6-pro"
    type_and_send(qtbot, live, "first question")
    wait_answer_done(qloop, live)
    assert last_stream(gemini).model == "gemini-3.6-pro"
    assert rows(data_dir, "select model from chats") == [("gemini-3.6-pro",)]
    press(qtbot, live, "Ctrl+N")
    run(qloop, until(lambda: live.session.chat is None, 3, "a new chat"))
    assert window.header.model_chip.model == live.settings.model


def test_tool_chips_show_the_tools_that_are_on_and_a_click_turns_one_off(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path) -> None:
    window = live.window
    chips = window.header.tool_chips
    assert not any(chip.isVisible() for chip in chips.values())
    type_and_send(qtbot, live, "hello")
    wait_answer_done(qloop, live)
    press(qtbot, live, "Ctrl+G")
    press(qtbot, live, "Ctrl+Shift+X")
    assert [tool for tool, chip in chips.items() if chip.isVisible()] == ["google_search", "code_execution"]
    search = chips["google_search"]
    assert search.accessibleName() == "Google Search on" and "turn it off" in search.toolTip()

    qtbot.mouseClick(search, Qt.MouseButton.LeftButton)
    assert not search.isVisible() and chips["code_execution"].isVisible()
    assert not window.actions_by_name["google_search"].isChecked()  # the Chat menu says the same
    assert "Google Search is off" in window.statusBar().currentMessage()
    type_and_send(qtbot, live, "no search now")
    wait_answer_done(qloop, live)
    assert not wants_search(last_stream(gemini))
    assert camel_case(last_stream(gemini).body)["tools"] == [{"codeExecution": {}}]
    assert rows(data_dir, "select google_search, code_execution from chats") == [(0, 1)]

    press(qtbot, live, "Ctrl+N")  # a new chat starts with no tool on: no chips
    run(qloop, until(lambda: live.session.chat is None, 3, "a new chat"))
    assert not any(chip.isVisible() for chip in chips.values())


def test_a_title_being_typed_stays_when_gemini_names_the_chat_meanwhile_and_goes_when_another_chat_opens(
        qtbot: Any) -> None:
    header = ChatHeader("Ctrl+L")
    qtbot.addWidget(header)
    header.show()
    header.activateWindow()
    qtbot.waitUntil(header.isActiveWindow, timeout=3000)
    renamed: list[tuple[int, str]] = []
    header.rename_requested.connect(lambda chat_id, title: renamed.append((chat_id, title)))
    first = Chat(id=1, title="Plan three days in", created_at="", updated_at="", model="gemini-3.6-flash")
    header.show_chat(first)
    header.title.edit()
    qtbot.waitUntil(header.title.hasFocus, timeout=3000)
    qtbot.keyClicks(header.title, "Lisbon trip")
    header.show_chat(Chat(id=1, title="Three days in Lisbon", created_at="", updated_at="", model="m"))
    assert header.title.text() == "Lisbon trip"  # the user's typing is not replaced under their fingers
    qtbot.keyClick(header.title, Qt.Key.Key_Escape)
    assert header.title.text() == "Three days in Lisbon"  # Esc goes back to the title the chat has now
    header.title.edit()
    qtbot.keyClicks(header.title, "Not this one")
    header.show_chat(Chat(id=2, title="Another chat", created_at="", updated_at="", model="m"))
    assert header.title.text() == "Another chat" and renamed == []
