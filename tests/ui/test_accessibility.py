"""What a screen reader and a keyboard get, inside the process: names, the Tab order, the conversation's text, the
announcement at the end of an answer.

`tests/test_screen_reader.py` reads the same from outside, through AT-SPI, as Orca would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import SIGNAL, Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QScrollBar,
    QTextEdit,
    QWidget,
)

from gemchat.app import GemchatApp
from gemchat.core.messages import Message, Role, Status
from gemchat.ui.chat_view import ChatView
from gemchat.ui.presenter import ANNOUNCED_CHARS, announcement
from gemchat.ui.quick_ask import QuickAskWindow
from gemchat.ui.readable_document import readable_text
from tests.conftest import run, until
from tests.driving import press, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, Reply

PRIVATE = ("\ufdd0", "\ufdd1", "\ufffc", "\u2029", "\u2028")
TABLE = "Here are the planets:\n\n| Planet | Moons |\n| --- | --- |\n| Mars | 2 |\n| Jupiter | 95 |\n\nBoth are outer."


def interactive(widget: QWidget) -> bool:
    """A control: something Tab reaches or a pointer works, or that shows a value (a progress bar)."""
    if isinstance(widget, QScrollBar):
        return False  # a scroll area's own bars: a screen reader says "scroll bar" and their orientation
    takes_focus = bool(widget.focusPolicy() & Qt.FocusPolicy.TabFocus)
    kinds = (QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox, QComboBox, QLineEdit, QTextEdit,
             QPlainTextEdit, QProgressBar)
    return takes_focus or isinstance(widget, kinds)


def accessible_name(widget: QWidget) -> str:
    """The name a screen reader says: the accessible name, else a button's text, a buddy label's, a line edit's…"""
    interface = QAccessible.queryAccessibleInterface(widget)
    return interface.text(QAccessible.Text.Name).strip() if interface is not None else ""


def inside(widget: QWidget, kind: Any) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, kind):
            return True
        parent = parent.parentWidget()
    return False


def unnamed_controls(*tops: QWidget) -> list[str]:
    found = []
    for top in tops:
        for widget in [top, *top.findChildren(QWidget)]:
            parent = widget.parentWidget()
            if inside(widget, QAbstractSpinBox | QComboBox):
                continue  # a spin box's line edit, a combo box's list: their owner is named
            if interactive(widget) and not accessible_name(widget):
                found.append(f"{type(widget).__name__} {widget.objectName()!r} in {type(parent).__name__}")
    return found


def picture(path: Path, color: str = "#1a73e8") -> Path:
    from PySide6.QtGui import QColor, QImage

    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    image.save(str(path))
    return path


def test_every_control_of_the_window_its_dialogs_and_the_quick_ask_window_has_a_name(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, tmp_path: Path) -> None:
    window = live.window
    type_and_send(qtbot, live, "A chat to set options for")
    wait_answer_done(qloop, live)
    window.attachments.attach_paths([picture(tmp_path / "chart.png")])
    run(qloop, until(lambda: window.tray.chips(), what="the file attached"))
    window.upload_bar.show_progress("talk.mp4", 10, 100)
    quick = QuickAskWindow(live.session, live.settings, window.text_zoom)
    qtbot.addWidget(quick)
    press(qtbot, live, "Ctrl+,")
    run(qloop, until(lambda: window.dialogs.settings_dialog is not None, what="Settings open"))
    dialogs: list[QWidget] = [window.dialogs.settings_dialog]
    window.dialogs.settings_dialog.reject()
    for open_dialog in (window.dialogs.open_search, window.dialogs.show_shortcuts, window.dialogs.ask_api_key,
                        window.dialogs.open_chat_options):
        before = set(QApplication.topLevelWidgets())
        open_dialog()
        opened = [w for w in QApplication.topLevelWidgets() if w not in before and w.isVisible()]
        assert opened, open_dialog
        dialogs.extend(opened)
        for dialog in opened:
            dialog.close()

    window.model_choice.open_picker()
    picker = window.model_choice.picker
    assert picker is not None and picker.isVisible()
    picker.close()
    assert unnamed_controls(window, quick, picker, *dialogs) == []
    assert accessible_name(window.tray.chips()[0].remove_button) == "Remove chart.png"
    assert accessible_name(window.view.jump_button) == "Jump to latest"
    assert accessible_name(window.meter.label).startswith("Context used: ")
    assert accessible_name(window.composer) == "Message" and accessible_name(window.sidebar) == "Chats"
    assert accessible_name(window.attach_button) == "Attach files" and accessible_name(window.send_button) == "Send"
    assert accessible_name(window.header.title) == "Chat title"
    assert accessible_name(window.card.model_chip) == "Model: Gemini 3.6 Flash"  # its text, as shown
    assert [accessible_name(picker.filter), accessible_name(picker.list)] == ["Filter models", "Models"]


def test_tab_goes_from_the_chat_list_to_the_header_the_message_box_attach_the_model_send_and_the_files_attached(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, tmp_path: Path) -> None:
    window = live.window
    header, card = window.header, window.card
    window.attachments.attach_paths([picture(tmp_path / "a.png"), picture(tmp_path / "b.png", "#d93025")])
    run(qloop, until(lambda: len(window.tray.chips()) == 2, what="two files attached"))  # Send takes files alone
    window.sidebar.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.sidebar, timeout=3000)

    def tab_to_next() -> QWidget:
        start = QApplication.focusWidget()
        qtbot.keyClick(start, Qt.Key.Key_Tab)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is not start, timeout=3000)
        return QApplication.focusWidget()

    # A new chat: no conversation yet; the message box stands in the middle, its starters under it.
    assert [tab_to_next(), tab_to_next()] == [header.title, header.model_chip]  # no tool is on: no tool chips
    assert tab_to_next() is window.composer
    assert tab_to_next() is window.attach_button
    assert tab_to_next() is card.model_chip
    assert tab_to_next() is window.send_button  # Stop is hidden: no answer is coming
    assert [tab_to_next(), tab_to_next()] == [chip.remove_button for chip in window.tray.chips()]
    assert [tab_to_next() for _ in window.empty_state.starters] == window.empty_state.starters
    panel = window.sidebar_panel
    assert [tab_to_next(), tab_to_next(), tab_to_next()] == [panel.new_chat, panel.filter, window.sidebar]  # round

    # With a conversation, and Google Search on: the tool's chip after the title, the conversation after the model.
    type_and_send(qtbot, live, "Hello")
    wait_answer_done(qloop, live)
    press(qtbot, live, "Ctrl+G")
    header.title.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is header.title, timeout=3000)
    assert [tab_to_next(), tab_to_next(), tab_to_next()] == [
        header.tool_chips["google_search"], header.model_chip, window.view]
    for _ in range(20):  # the conversation's links (Retry, Copy…) take Tab first, the focus staying in it
        qtbot.keyClick(window.view, Qt.Key.Key_Tab)
        if QApplication.focusWidget() is not window.view:
            break
    row = window.view.message_actions  # the last answer's actions, shown while the focus is in the conversation
    assert QApplication.focusWidget() is row.copy and row.message_id is not None
    assert [tab_to_next(), tab_to_next()] == [row.regenerate, row.more]  # Edit is a question's, arrows need versions
    assert tab_to_next() is window.composer
    assert not row.isVisible()  # the focus left the conversation and its row


def test_the_conversation_reads_as_a_document_with_tables_cell_by_cell_and_no_private_characters(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any) -> None:
    gemini.enqueue(Reply.text([TABLE]))
    type_and_send(qtbot, live, "Which planets have moons?")
    wait_answer_done(qloop, live)
    view = live.window.view
    interface = QAccessible.queryAccessibleInterface(view)
    assert interface.role() == QAccessible.Role.Document
    assert interface.text(QAccessible.Text.Name) == "Conversation"
    assert interface.state().readOnly and interface.state().focusable
    text_interface = interface.textInterface()
    count = text_interface.characterCount()
    text = text_interface.text(0, count)
    assert len(text) == count  # one character for each position: offsets are the document's
    assert "Here are the planets:\nPlanet\tMoons\nMars\t2\nJupiter\t95\n" in text
    assert not any(mark in text for mark in PRIVATE)
    assert view.document().toRawText().count("\ufdd0") == 6  # what Qt itself would have exposed
    start = text.index("Jupiter")
    assert text_interface.text(start, start + 10) == "Jupiter\t95"
    # The caret and a point on the screen meet the same offsets.
    text_interface.setCursorPosition(start)
    assert text_interface.cursorPosition() == start == view.textCursor().position()
    rect = text_interface.characterRect(start)
    assert rect.width() > 0 and text_interface.offsetAtPoint(rect.center()) in (start, start + 1)


def test_readable_text_of_a_document_with_a_picture_a_line_break_and_two_tables(qtbot: Any) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.setHtml("<p>Before<br>after</p><table><tr><td>a</td><td>b</td><td>c</td></tr></table>"
                 "<p><img src='x.png' width='4' height='4'> a picture</p>"
                 "<table><tr><td>1</td></tr><tr><td>2</td></tr></table><p>End</p>")
    document = view.document()
    assert readable_text(document) == "Before\nafter\na\tb\tc\n\n  a picture\n1\n2\n\nEnd"
    assert len(readable_text(document)) == document.characterCount() - 1
    whole = readable_text(document)
    for start in range(len(whole)):  # any slice reads as the same slice of the whole
        assert readable_text(document, start, start + 5) == whole[start:start + 5]
    assert readable_text(document, 5, 1000) == whole[5:] and readable_text(document, -3, 2) == whole[:2]


def answer(text: str, status: Status = Status.COMPLETE, **fields: Any) -> Message:
    return Message(id=2, chat_id=1, role=Role.MODEL, text=text, status=status, created_at="2026-12-01T10:00:00Z",
                   **fields)


def test_what_a_screen_reader_is_told_when_an_answer_ends() -> None:
    assert announcement(answer("## Lisbon\n\nThree **days**: *Alfama*, `Belém`.")) == \
        "Gemini answered: Lisbon\nThree days: Alfama, Belém."
    assert announcement(answer(TABLE)) == \
        "Gemini answered: Here are the planets:\nPlanet\tMoons\nMars\t2\nJupiter\t95\nBoth are outer."
    long = announcement(answer("word " * 400))
    assert long is not None and long.endswith("word… The rest is in the conversation.")
    assert len(long) < ANNOUNCED_CHARS + 60
    assert announcement(answer("", Status.ERROR, error="Quota exceeded.\nDetails follow.")) == \
        "The answer failed: Quota exceeded."
    assert announcement(answer("Half an ans", Status.INTERRUPTED)) is None  # the user stopped it: they know
    assert announcement(answer("Half an ans", Status.INTERRUPTED, finish_reason="MAX_TOKENS")) == \
        "Gemini's answer was cut off: Half an ans"


def test_the_end_of_an_answer_is_announced_once_and_its_pieces_are_not_reported_as_they_stream(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any) -> None:
    view = live.window.view
    said: list[str] = []
    view.announced.connect(said.append)
    gemini.enqueue(Reply.text(["One ", "piece ", "at a ", "time."], chunk_delay=0.05))
    type_and_send(qtbot, live, "Stream it")
    wait_answer_done(qloop, live)
    assert said == ["Gemini answered: One piece at a time."]
    # Out of sight (another application in front), the end is the desktop notification's to tell: said once.
    elsewhere = QWidget()
    qtbot.addWidget(elsewhere)
    elsewhere.show()
    elsewhere.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is elsewhere, timeout=3000)
    gemini.enqueue(Reply.text(["Unseen."]))
    live.session.send("And again")
    run(qloop, until(lambda: live.session.chat is not None and not live.session.is_generating()
                     and "Unseen." in view.toPlainText(), what="the second answer shown"))
    assert said == ["Gemini answered: One piece at a time."]
    elsewhere.close()
    live.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is live.window, timeout=3000)
    # Qt's report of each edit stays off, however the document was made: a new chat, a theme change.
    reporters = (SIGNAL("contentsChange(int,int,int)"), SIGNAL("cursorPositionChanged(QTextCursor)"))
    assert [view.document().receivers(signal) for signal in reporters] == [0, 0]
    assert not view.textCursor().hasSelection()  # nothing selected behind the user's back
    press(qtbot, live, "Ctrl+N")
    run(qloop, until(lambda: live.session.chat is None, what="a new chat"))
    assert [view.document().receivers(signal) for signal in reporters] == [0, 0]
