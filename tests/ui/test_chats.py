"""Living in many chats: versions, edits, Continue, search, copy, switching, export and import.

Each test drives the real window with keys against the loopback Gemini server.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog

from gemchat.app import GemchatApp
from gemchat.core.messages import Role, SearchHit
from gemchat.paths import database_path
from gemchat.storage.store import ChatStore
from gemchat.ui.cheat_sheet import cheat_sheet_html
from gemchat.ui.keymap import KEYMAP, QUICK_KEYMAP
from gemchat.ui.search_dialog import SearchDialog
from tests.conftest import run, until
from tests.driving import expect_answer, in_viewport, last_stream, press, rows, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, Reply, camel_case

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier


def shown(app: GemchatApp) -> str:
    return app.window.view.toPlainText()


def test_ctrl_r_makes_a_new_version_and_alt_left_shows_the_old_one(live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    gemini.enqueue(Reply.text(["First try."]), Reply.text(["Second try."]))
    type_and_send(qtbot, live, "Say something")
    wait_answer_done(qloop, live)
    expect_answer(live)
    press(qtbot, live, "Ctrl+R")
    wait_answer_done(qloop, live)
    assert "Second try." in shown(live) and "First try." not in shown(live)
    assert [c["role"] for c in last_stream(gemini).body["contents"]] == ["user"]
    press(qtbot, live, "Alt+Left")
    run(qloop, until(lambda: "First try." in shown(live), 3, "old version shown"))
    assert "Second try." not in shown(live)
    press(qtbot, live, "Alt+Right")
    run(qloop, until(lambda: "Second try." in shown(live), 3, "new version shown"))
    assert rows(data_dir, "select text from messages where role='model' order by id") == [
        ("First try.",), ("Second try.",)]


def test_up_in_the_empty_box_edits_the_last_question_and_keeps_the_old_branch(
        live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    gemini.enqueue(Reply.text(["Answer to cats."]), Reply.text(["Answer to dogs."]))
    type_and_send(qtbot, live, "Tell me about cats")
    wait_answer_done(qloop, live)
    qtbot.keyClick(live.window.composer, Qt.Key.Key_Up)
    assert live.window.composer.toPlainText() == "Tell me about cats"
    assert live.window.editing_banner.isVisible()
    live.window.composer.selectAll()
    expect_answer(live)
    qtbot.keyClicks(live.window.composer, "Tell me about dogs")
    qtbot.keyClick(live.window.composer, Qt.Key.Key_Return)
    wait_answer_done(qloop, live)
    assert "Tell me about dogs" in shown(live) and "Answer to dogs." in shown(live)
    assert "cats" not in shown(live)
    assert not live.window.editing_banner.isVisible()
    assert [c["parts"][0]["text"] for c in last_stream(gemini).body["contents"]] == ["Tell me about dogs"]
    assert rows(data_dir, "select text from messages where role='user' order by id") == [
        ("Tell me about cats",), ("Tell me about dogs",)]
    press(qtbot, live, "Ctrl+Shift+E")  # the same edit from the menu's shortcut, then Esc cancels it
    assert live.window.composer.editing is not None
    qtbot.keyClick(live.window.composer, Qt.Key.Key_Escape)
    assert live.window.composer.editing is None and live.window.composer.toPlainText() == ""


def test_continue_after_stop_appends_to_the_same_answer(live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    gemini.enqueue(Reply.text([f"w{i} " for i in range(300)], chunk_delay=0.03), Reply.text(["and the rest."]))
    type_and_send(qtbot, live, "Long please")
    run(qloop, until(lambda: "w3 " in shown(live), 5, "some text"))
    qtbot.keyClick(live.window, Qt.Key.Key_Escape)
    wait_answer_done(qloop, live)
    (partial,), = rows(data_dir, "select text from messages where role='model'")
    expect_answer(live)
    press(qtbot, live, "Ctrl+Shift+Return")
    wait_answer_done(qloop, live)
    assert rows(data_dir, "select text, status from messages where role='model'") == [
        (partial + "and the rest.", "complete")]
    contents = last_stream(gemini).body["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[1]["parts"][0]["text"] == partial
    assert "Continue" in contents[2]["parts"][0]["text"]
    assert partial + "and the rest." in shown(live)


def test_answer_cut_at_max_tokens_says_so_and_can_be_continued(live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    gemini.enqueue(Reply.text(["Half of it"], finish_reason="MAX_TOKENS"), Reply.text([", other half."]))
    type_and_send(qtbot, live, "q")
    wait_answer_done(qloop, live)
    assert rows(data_dir, "select status, finish_reason from messages where role='model'") == [
        ("interrupted", "MAX_TOKENS")]
    assert "maximum length" in shown(live)
    expect_answer(live)
    press(qtbot, live, "Ctrl+Shift+Return")
    wait_answer_done(qloop, live)
    assert rows(data_dir, "select text, status from messages where role='model'") == [
        ("Half of it, other half.", "complete")]


def test_each_answer_keeps_its_token_usage_and_timing(live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    gemini.enqueue(Reply.text(["Counted answer"], usage={"promptTokenCount": 7, "candidatesTokenCount": 3,
                                                       "totalTokenCount": 10}))
    type_and_send(qtbot, live, "count me")
    wait_answer_done(qloop, live)
    (usage, first, duration), = rows(
        data_dir, "select usage, first_token_ms, duration_ms from messages where role='model'")
    assert json.loads(usage)["candidates_token_count"] == 3
    assert first is not None and duration is not None and 0 <= first <= duration
    assert "3 tokens" in shown(live)


def test_ctrl_k_finds_words_across_chats_and_enter_jumps_to_the_message(
        live, gemini: FakeGemini, qloop, qtbot) -> None:
    type_and_send(qtbot, live, "Where is the café in Zürich?")
    wait_answer_done(qloop, live)
    press(qtbot, live, "Ctrl+N")
    run(qloop, until(lambda: live.session.chat is None, 3))
    type_and_send(qtbot, live, "Something else entirely")
    wait_answer_done(qloop, live)
    press(qtbot, live, "Ctrl+K")
    dialog = live.window.dialogs.search_dialog
    assert isinstance(dialog, SearchDialog) and dialog.isVisible()
    qtbot.keyClicks(dialog.query, "zurich cafe")
    run(qloop, until(lambda: dialog.hits(), 3, "search results"))
    hit = dialog.hits()[0]
    assert hit.message_id is not None and "Zürich" in hit.snippet
    qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    run(qloop, until(lambda: "café in Zürich" in shown(live), 3, "chat opened"))
    assert live.window.dialogs.search_dialog is None


def seed_chat(data_dir: Path, title: str, messages: list[tuple[Role, str]]) -> list[int]:
    """A chat saved before the app starts, as an earlier session left it; its message ids."""
    store = ChatStore.open(database_path(data_dir))
    try:
        chat = store.create_chat("gemini-3.6-flash", title)
        return [store.add_message(chat.id, role, text).id for role, text in messages]
    finally:
        store.close()


def search_for(qloop, qtbot, dialog: SearchDialog, text: str) -> list[SearchHit]:
    """Types `text` into an empty search box and returns the results shown for exactly that text."""
    dialog.query.clear()
    run(qloop, until(lambda: dialog.status.text() == "Type to search.", 3, "the box emptied"))
    qtbot.keyClicks(dialog.query, text)
    run(qloop, until(lambda: dialog.status.text() != "Type to search.", 3, f"results for {text!r}"))
    return dialog.hits()


ODD_WORDS = [
    (Role.USER, 'He said "quoted" twice'),
    (Role.MODEL, "A star* in the text"),
    (Role.USER, "NEAR(apple, pear) is FTS syntax"),
    (Role.MODEL, "apple alone"),
    (Role.USER, "pear alone"),
    (Role.MODEL, "apple OR pear, says the menu"),
    (Role.USER, "a -minus sign"),
    (Role.MODEL, "col:val pairs"),
    (Role.USER, "(paren) opens"),
    (Role.MODEL, "it's mine"),
]


def test_search_finds_words_typed_with_fts_syntax_characters_as_plain_words_and_never_fails(
        request, data_dir: Path, qloop, qtbot) -> None:
    """Quotes, `*`, `NEAR(`, `OR`, `-`, `col:` and brackets are FTS5 syntax; typed into the search box
    they are only text: each word must be found as a word, and no input may make the search fail."""
    ids = dict(zip((text for _role, text in ODD_WORDS), seed_chat(data_dir, "Odd words", ODD_WORDS)))
    live = request.getfixturevalue("live")
    problems: list[str] = []
    live.session.problem.connect(problems.append)
    press(qtbot, live, "Ctrl+K")
    dialog = live.window.dialogs.search_dialog
    assert isinstance(dialog, SearchDialog)
    expected = {
        '"quoted': ['He said "quoted" twice'],
        "star*": ["A star* in the text"],
        "NEAR(apple": ["NEAR(apple, pear) is FTS syntax"],
        "NEAR(": ["NEAR(apple, pear) is FTS syntax"],
        "apple OR pear": ["apple OR pear, says the menu"],  # every word, OR too; not either word
        "-minus": ["a -minus sign"],
        "col:val": ["col:val pairs"],
        "(paren": ["(paren) opens"],
        "it's": ["it's mine"],
        '"': [], "*": [], "(": [], "'": [], "-": [], "'; drop table chats; --": [],
    }
    found = {}
    for typed in expected:
        hits = search_for(qloop, qtbot, dialog, typed)
        by_id = {v: k for k, v in ids.items()}
        found[typed] = sorted(by_id[h.message_id] for h in hits if h.message_id is not None)
        assert [h for h in hits if h.message_id is None] == []  # the title "Odd words" matches none of them
    assert found == {typed: sorted(texts) for typed, texts in expected.items()}
    assert problems == [], problems
    assert "failed" not in live.window.statusBar().currentMessage()


def test_opening_a_search_hit_deep_in_a_long_chat_shows_that_message(
        request, data_dir: Path, qloop, qtbot) -> None:
    """The hit is the 101st of 300 messages, far above what opening the chat renders and shows."""
    long_chat = [(Role.USER if n % 2 else Role.MODEL, f"message number {n}") for n in range(1, 301)]
    long_chat[100] = (Role.USER, "message number 101 about the xylophone")
    target = seed_chat(data_dir, "A long chat", long_chat)[100]
    seed_chat(data_dir, "A newer chat", [(Role.USER, "hello"), (Role.MODEL, "hi")])  # the one opened at start
    live = request.getfixturevalue("live")
    assert "hello" in shown(live)
    press(qtbot, live, "Ctrl+K")
    dialog = live.window.dialogs.search_dialog
    assert isinstance(dialog, SearchDialog)
    hits = search_for(qloop, qtbot, dialog, "xylophone")
    assert [h.message_id for h in hits] == [target]
    qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    view = live.window.view
    run(qloop, until(lambda: in_viewport(view, "message number 101 about the xylophone"), 5,
                     "the hit's message in sight"))
    assert view.message_at(QPoint(30, 30)) == (target, Role.USER)  # at the top, not merely somewhere on screen
    assert not in_viewport(view, "message number 300") and not in_viewport(view, "message number 1")
    assert live.session.chat.title == "A long chat"


def test_copy_shortcuts_put_the_last_answer_and_its_last_code_block_on_the_clipboard(
        live, gemini: FakeGemini, qloop, qtbot) -> None:
    answer = "Here:\n\n```python\nprint('one')\n```\n\nand\n\n```sh\necho two\n```\n"
    gemini.enqueue(Reply.text([answer]))
    type_and_send(qtbot, live, "code please")
    wait_answer_done(qloop, live)
    press(qtbot, live, "Ctrl+Shift+C")
    assert QGuiApplication.clipboard().text() == answer
    press(qtbot, live, "Ctrl+Shift+;")
    assert QGuiApplication.clipboard().text() == "echo two\n"


def test_switching_chats_with_keys_never_mixes_two_streaming_answers(
        live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    gemini.enqueue(Reply.text([f"a{i} " for i in range(60)], chunk_delay=0.02),
                   Reply.text([f"b{i} " for i in range(60)], chunk_delay=0.02))
    type_and_send(qtbot, live, "first")
    run(qloop, until(lambda: "a2 " in shown(live), 5))
    press(qtbot, live, "Ctrl+N")
    run(qloop, until(lambda: live.session.chat is None, 3))
    type_and_send(qtbot, live, "second")
    run(qloop, until(lambda: "b2 " in shown(live), 5))
    press(qtbot, live, "Ctrl+Tab")  # to the other chat while both stream
    run(qloop, until(lambda: "first" in shown(live), 3))
    press(qtbot, live, "Ctrl+1")
    run(qloop, until(lambda: "second" in shown(live) and "first" not in shown(live), 3))
    run(qloop, until(lambda: not live.session.streams, 10, "both answers ended"))
    # Each question's chat holds that question's own answer (a swap would keep the same two texts).
    assert rows(data_dir, "select q.text, a.text from messages q join messages a on a.chat_id = q.chat_id "
                          "where q.role = 'user' and a.role = 'model' order by q.id") == [
        ("first", "".join(f"a{i} " for i in range(60))), ("second", "".join(f"b{i} " for i in range(60)))]
    assert "a1 " not in shown(live)


def test_sidebar_lists_newest_first_and_f2_renames_and_delete_can_be_undone(
        live, gemini: FakeGemini, qloop, qtbot) -> None:
    for text in ("older chat", "newer chat"):
        press(qtbot, live, "Ctrl+N")
        run(qloop, until(lambda: live.session.chat is None, 3))
        type_and_send(qtbot, live, text)
        wait_answer_done(qloop, live)
    run(qloop, until(lambda: len(live.window.sidebar.chat_ids()) == 2, 3))
    ids = live.window.sidebar.chat_ids()
    titles = [live.window.sidebar.item(r).text() for r in range(live.window.sidebar.count())]
    assert titles[0] == "Today"
    assert ids[0] == live.session.chat.id
    press(qtbot, live, "F2")
    editor = QApplication.focusWidget()
    qtbot.keyClicks(editor, "Renamed by me")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    run(qloop, until(lambda: live.session.chat.title == "Renamed by me", 3, "renamed"))
    assert "Renamed by me" in live.window.windowTitle()
    press(qtbot, live, "Ctrl+Shift+Backspace")
    run(qloop, until(lambda: len(live.window.sidebar.chat_ids()) == 1, 3, "deleted"))
    assert live.window.undo_button.isVisible()
    press(qtbot, live, "Ctrl+Alt+Z")
    run(qloop, until(lambda: len(live.window.sidebar.chat_ids()) == 2, 3, "restored"))


def test_a_deleted_chat_is_removed_from_disk_when_the_undo_time_is_over_and_stays_gone_after_restart(
        qloop, gemini_env: FakeGemini, data_dir: Path, qtbot) -> None:
    """The undo time is the session's `undo_seconds` (eight by default), shortened here so the
    test sees the real timer fire without waiting eight seconds."""
    from gemchat.app import build_app, run_app

    app = build_app(data_dir)
    app.session.undo_seconds = 0.3
    task = qloop.create_task(run_app(app))
    run(qloop, until(lambda: app.window.isVisible() and app.window.ready, 5, "window ready"))
    app.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is app.window, timeout=3000)
    for text in ("keep me", "delete me"):
        app.window.actions_by_name["new_chat"].trigger()
        run(qloop, until(lambda: app.session.chat is None, 3))
        type_and_send(qtbot, app, text)
        wait_answer_done(qloop, app)
    kept, doomed = (chat_id for (chat_id,) in rows(data_dir, "select id from chats order by id"))
    assert app.session.chat.id == doomed
    press(qtbot, app, "Ctrl+Shift+Backspace")
    run(qloop, until(lambda: app.window.sidebar.chat_ids() == [kept], 3, "hidden at once"))
    assert app.window.undo_button.isVisible()
    run(qloop, until(lambda: rows(data_dir, "select id from chats") == [(kept,)], 5, "deleted from disk"))
    assert rows(data_dir, "select count(*) from messages where chat_id = ?", (doomed,)) == [(0,)]
    run(qloop, until(lambda: not app.window.undo_button.isVisible(), 3, "the Undo offer withdrawn"))
    assert not app.session.undo_delete()  # too late: nothing to bring back
    app.window.close()
    run(qloop, task)

    again = build_app(data_dir)
    task = qloop.create_task(run_app(again))
    run(qloop, until(lambda: again.window.ready and again.window.sidebar.chat_ids(), 5, "chats listed"))
    assert again.window.sidebar.chat_ids() == [kept] and [c.id for c in again.session.chats] == [kept]
    assert "delete me" not in again.window.view.toPlainText()
    again.window.close()
    run(qloop, task)


def test_title_comes_from_the_model_after_the_first_answer(live, gemini: FakeGemini, qloop, qtbot) -> None:
    type_and_send(qtbot, live, "please explain how tides work on earth")
    wait_answer_done(qloop, live)
    run(qloop, until(lambda: live.session.chat.title == "Please explain how tides work", 5, "model title"))
    assert any(r.kind == "generate" for r in gemini.requests)


def test_a_name_given_while_the_models_title_is_on_its_way_is_kept(live, gemini: FakeGemini, qloop, qtbot,
                                                                  data_dir) -> None:
    gemini.enqueue_unary(Reply.text(["A title from the model"], first_byte_delay=1.0))
    type_and_send(qtbot, live, "please explain how tides work on earth")
    wait_answer_done(qloop, live)
    run(qloop, until(lambda: any(r.kind == "generate" for r in gemini.requests), 5, "the title asked for"))
    live.session.rename_chat(live.session.chat.id, "My own name")
    run(qloop, until(lambda: len(live.session.tasks) == 0, 10, "the title request and the rename done"))
    assert live.session.chat.title == "My own name"
    assert rows(data_dir, "select title from chats") == [("My own name",)]


def test_chat_model_and_instruction_apply_to_that_chat_only(live, gemini: FakeGemini, qloop, qtbot) -> None:
    type_and_send(qtbot, live, "hello")
    wait_answer_done(qloop, live)
    live.session.set_chat_options("gemini-3.6-pro", "Answer in French.")
    run(qloop, until(lambda: live.session.chat.model == "gemini-3.6-pro", 3))
    type_and_send(qtbot, live, "again")
    wait_answer_done(qloop, live)
    request = last_stream(gemini)
    assert request.model == "gemini-3.6-pro"
    assert request.body["systemInstruction"]["parts"][0]["text"] == "Answer in French."
    press(qtbot, live, "Ctrl+N")
    run(qloop, until(lambda: live.session.chat is None, 3))
    type_and_send(qtbot, live, "new chat")
    wait_answer_done(qloop, live)
    assert last_stream(gemini).model == live.settings.model


def test_ctrl_shift_m_sets_the_chats_model_and_instruction_and_cancel_changes_nothing(
        live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from gemchat.ui.chat_options_dialog import ChatOptionsDialog

    def open_dialog() -> ChatOptionsDialog:
        live.window.activateWindow()  # back from a dialog, as a window manager does
        qtbot.waitUntil(lambda: QApplication.activeWindow() is live.window, timeout=3000)
        press(qtbot, live, "Ctrl+Shift+M")
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, ChatOptionsDialog) and w.isVisible())
        run(qloop, until(lambda: dialog.model.count() > 1, 3, "models listed"))  # the list comes from the API
        return dialog

    def click(dialog: ChatOptionsDialog, button: QDialogButtonBox.StandardButton) -> None:
        with qtbot.waitSignal(dialog.finished, timeout=3000):
            qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(button), Qt.MouseButton.LeftButton)

    default = live.settings.model
    type_and_send(qtbot, live, "hello")
    wait_answer_done(qloop, live)
    dialog = open_dialog()
    assert dialog.model.currentText() == default
    dialog.model.setCurrentText("gemini-3.6-pro")
    dialog.system_instruction.setPlainText("Never mind.")
    click(dialog, QDialogButtonBox.StandardButton.Cancel)
    type_and_send(qtbot, live, "after cancel")
    wait_answer_done(qloop, live)
    assert last_stream(gemini).model == default and "systemInstruction" not in last_stream(gemini).body
    # Saved after anything Cancel could have queued (one database thread, in order): still untouched.
    assert rows(data_dir, "select model, system_instruction from chats") == [(default, None)]

    dialog = open_dialog()
    assert dialog.model.findText("gemini-3.6-pro") >= 0
    dialog.model.setCurrentText("gemini-3.6-pro")
    qtbot.keyClicks(dialog.system_instruction, "Answer in French.")
    click(dialog, QDialogButtonBox.StandardButton.Ok)
    run(qloop, until(lambda: live.session.chat.model == "gemini-3.6-pro", 3, "options saved"))
    type_and_send(qtbot, live, "after ok")
    wait_answer_done(qloop, live)
    request = last_stream(gemini)
    assert request.model == "gemini-3.6-pro"
    assert request.body["systemInstruction"]["parts"][0]["text"] == "Answer in French."
    assert rows(data_dir, "select model, system_instruction from chats") == [("gemini-3.6-pro", "Answer in French.")]
    dialog = open_dialog()  # shows what the chat now has
    assert (dialog.model.currentText(), dialog.system_instruction.toPlainText()) == (
        "gemini-3.6-pro", "Answer in French.")
    click(dialog, QDialogButtonBox.StandardButton.Cancel)


def test_file_menu_exports_a_chat_and_imports_it_back(live, gemini: FakeGemini, qloop, qtbot, tmp_path: Path) -> None:
    type_and_send(qtbot, live, "export me")
    wait_answer_done(qloop, live)
    target = tmp_path / "chat.json"

    def choose(path: Path) -> None:
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible())
        dialog.selectFile(str(path))
        dialog.accept()

    live.window.actions_by_name["export_chat"].trigger()
    choose(target)
    run(qloop, until(lambda: target.exists() and target.stat().st_size > 0, 3, "exported"))
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert [m["text"] for m in exported[0]["messages"]] == ["export me", "You said: export me"]
    live.window.actions_by_name["import_chats"].trigger()
    choose(target)
    run(qloop, until(lambda: len(live.session.chats) == 2, 3, "imported"))


def test_cheat_sheet_lists_every_shortcut_of_the_keymap(live, qtbot) -> None:
    page = cheat_sheet_html()
    for entry in KEYMAP:
        if entry.sequences() and not entry.name.startswith("chat_"):
            assert entry.label.replace("&", "").rstrip("…") in page
    assert "Open chat 1 to 8" in page and "Ctrl+9" in page
    for entry in QUICK_KEYMAP:
        assert f"Quick ask window: {entry.label.replace('&', '').lower()}" in page
    assert "<b>Ctrl+.</b>" in page and "<b>Ctrl+O</b>" in page
    assert ">Exit<" not in page and ">Back<" not in page  # dedicated platform keys are left out
    press(qtbot, live, "Ctrl+/")
    qtbot.waitUntil(lambda: any(w.isVisible() and "Keyboard shortcuts" in w.windowTitle()
                                for w in QApplication.topLevelWidgets()), timeout=2000)


def test_versions_survive_a_restart_and_the_store_reports_them(gemini: FakeGemini, data_dir) -> None:
    store = ChatStore.open(database_path(data_dir))
    try:
        chat = store.create_chat("m", "t")
        from gemchat.core.messages import Role

        question = store.add_message(chat.id, Role.USER, "q")
        store.add_message(chat.id, Role.MODEL, "a1")
        store.set_leaf(chat.id, question.id)
        store.add_message(chat.id, Role.MODEL, "a2")
    finally:
        store.close()
    again = ChatStore.open(database_path(data_dir))
    try:
        last = again.messages(chat.id)[-1]
        assert (last.text, last.version, last.versions) == ("a2", 2, 2)
    finally:
        again.close()


def test_settings_list_the_apis_chat_models_and_apply_without_restart(
        live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    from gemchat.ui.settings_dialog import SettingsDialog

    press(qtbot, live, "Ctrl+,")
    dialog = live.window.dialogs.settings_dialog
    assert isinstance(dialog, SettingsDialog) and dialog.isVisible()
    run(qloop, until(lambda: dialog.model.count() > 1, 3, "models listed"))
    models = [dialog.model.itemText(i) for i in range(dialog.model.count())]
    assert "gemini-3.6-pro" in models and not any("embedding" in m for m in models)
    assert "environment" in dialog.key_label.text() and "test-key" not in dialog.key_label.text()
    dialog.model.setCurrentText("gemini-3.6-pro")
    dialog.system_instruction.setPlainText("Be terse.")
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.typing_speed.setValue(900)
    dialog.accept()
    assert live.settings.theme == "dark"  # offscreen Qt ignores colour-scheme requests; the screenshots show it
    assert live.window.presenter.typing._typewriter.chars_per_second == 900
    saved = json.loads((data_dir / "settings.json").read_text())
    assert saved["model"] == "gemini-3.6-pro" and saved["theme"] == "dark"
    type_and_send(qtbot, live, "hi")
    wait_answer_done(qloop, live)
    request = last_stream(gemini)
    assert request.model == "gemini-3.6-pro"
    assert request.body["systemInstruction"]["parts"][0]["text"] == "Be terse."
    assert "generationConfig" not in request.body or "temperature" not in request.body["generationConfig"]


def test_unsent_text_is_kept_per_chat_across_switches_and_restarts(
        qloop, gemini_env: FakeGemini, data_dir, qtbot) -> None:
    from gemchat.app import build_app, run_app

    app = build_app(data_dir)
    task = qloop.create_task(run_app(app))
    run(qloop, until(lambda: app.window.isVisible(), 3))
    type_and_send(qtbot, app, "first chat")
    wait_answer_done(qloop, app)
    qtbot.keyClicks(app.window.composer, "half a thought")
    app.window.actions_by_name["new_chat"].trigger()
    run(qloop, until(lambda: app.session.chat is None, 3))
    assert app.window.composer.toPlainText() == ""
    qtbot.keyClicks(app.window.composer, "draft in a new chat")
    app.window.actions_by_name["chat_1"].trigger()
    run(qloop, until(lambda: app.window.composer.toPlainText() == "half a thought", 3, "draft back"))
    app.window.close()  # quits at once, drafts saved on the way out
    run(qloop, task)
    again = build_app(data_dir)
    task = qloop.create_task(run_app(again))
    run(qloop, until(lambda: again.window.composer.toPlainText() == "half a thought", 3, "draft after restart"))
    again.window.actions_by_name["new_chat"].trigger()
    run(qloop, until(lambda: again.window.composer.toPlainText() == "draft in a new chat", 3))
    again.window.close()
    run(qloop, task)


def test_chat_options_offer_only_the_thinking_levels_the_model_takes_and_the_chats_level_is_sent(
        live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from gemchat.ui.chat_options_dialog import ChatOptionsDialog

    live.settings.thinking_level = "minimal"
    type_and_send(qtbot, live, "hello")
    wait_answer_done(qloop, live)
    assert camel_case(last_stream(gemini).body)["generationConfig"]["thinkingConfig"]["thinkingLevel"] == "MINIMAL"
    live.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is live.window, timeout=3000)
    press(qtbot, live, "Ctrl+Shift+M")
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, ChatOptionsDialog) and w.isVisible())
    offered = lambda: [dialog.thinking.itemText(i) for i in range(dialog.thinking.count())]  # noqa: E731
    assert offered() == ["As in Settings (Minimal)", "Model default", "Minimal", "Low", "Medium", "High"]
    dialog.model.setCurrentText("gemini-3.6-pro")  # Pro takes low and high only
    assert offered() == ["As in Settings (Model default: this model does not take minimal)", "Model default",
                         "Low", "High"]
    dialog.thinking.setCurrentIndex(dialog.thinking.findData("high"))
    with qtbot.waitSignal(dialog.finished, timeout=3000):
        qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok),
                         Qt.MouseButton.LeftButton)
    run(qloop, until(lambda: live.session.chat.thinking_level == "high", 3, "options saved"))
    type_and_send(qtbot, live, "think hard")
    wait_answer_done(qloop, live)
    assert camel_case(last_stream(gemini).body)["generationConfig"]["thinkingConfig"]["thinkingLevel"] == "HIGH"
    assert rows(data_dir, "select model, thinking_level from chats") == [("gemini-3.6-pro", "high")]

    live.session.set_chat_options("gemini-3.6-pro", "", "")  # as in Settings: minimal, which Pro does not take
    run(qloop, until(lambda: live.session.chat.thinking_level == "", 3, "options saved"))
    type_and_send(qtbot, live, "and now")
    wait_answer_done(qloop, live)
    assert "thinkingLevel" not in camel_case(last_stream(gemini).body)["generationConfig"].get("thinkingConfig", {})


def test_a_model_the_list_says_does_not_think_is_sent_no_thinking_settings_and_speech_and_imagen_are_not_offered(
        live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    gemini.models += [
        {"name": "models/gemini-2.0-flash", "supportedGenerationMethods": ["generateContent"], "thinking": False,
         "inputTokenLimit": 1048576},
        {"name": "models/gemini-2.5-flash-preview-tts", "supportedGenerationMethods": ["generateContent"]},
        {"name": "models/gemini-3-pro-image-preview", "supportedGenerationMethods": ["generateContent"]},
        {"name": "models/imagen-4.0-generate-001", "supportedGenerationMethods": ["predict"]},
    ]
    names = run(qloop, live.session.list_models())
    assert sorted(names) == ["gemini-2.0-flash", "gemini-3-pro-image-preview", "gemini-3.6-flash", "gemini-3.6-pro"]
    live.settings.thinking_level = "low"
    live.settings.show_thoughts = True
    type_and_send(qtbot, live, "hello")
    wait_answer_done(qloop, live)
    live.session.set_chat_options("gemini-2.0-flash", "")
    run(qloop, until(lambda: live.session.chat.model == "gemini-2.0-flash", 3, "options saved"))
    type_and_send(qtbot, live, "no thinking here")
    wait_answer_done(qloop, live)
    assert "thinkingConfig" not in camel_case(last_stream(gemini).body).get("generationConfig", {})


def test_chat_options_for_an_image_model_set_the_pictures_shape_and_size_and_hide_for_other_models(
        live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from gemchat.ui.chat_options_dialog import ChatOptionsDialog

    gemini.models += [{"name": "models/gemini-3-pro-image-preview", "supportedGenerationMethods": ["generateContent"]}]
    type_and_send(qtbot, live, "hello")
    wait_answer_done(qloop, live)
    live.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is live.window, timeout=3000)
    press(qtbot, live, "Ctrl+Shift+M")
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, ChatOptionsDialog) and w.isVisible())
    run(qloop, until(lambda: dialog.model.findText("gemini-3-pro-image-preview") >= 0, 3, "models listed"))
    names = [dialog.model.itemText(i) for i in range(dialog.model.count())]
    assert names[-1] == "gemini-3-pro-image-preview" and names[-2] == ""  # last, after a separator
    assert not dialog.pictures.isVisible()
    dialog.model.setCurrentText("gemini-3-pro-image-preview")
    assert dialog.pictures.isVisible()
    dialog.aspect_ratio.setCurrentIndex(dialog.aspect_ratio.findData("16:9"))
    dialog.image_size.setCurrentIndex(dialog.image_size.findData("2K"))
    with qtbot.waitSignal(dialog.finished, timeout=3000):
        qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Ok),
                         Qt.MouseButton.LeftButton)
    run(qloop, until(lambda: live.session.chat.image_options.aspect_ratio == "16:9", 3, "options saved"))
    type_and_send(qtbot, live, "Draw a fox")
    wait_answer_done(qloop, live)
    config = camel_case(last_stream(gemini).body)["generationConfig"]
    assert config["responseModalities"] == ["TEXT", "IMAGE"]
    assert config["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "2K"}
    assert rows(data_dir, "select image_options from chats") == [('{"aspect_ratio": "16:9", "image_size": "2K"}',)]


def test_the_sidebar_pins_chats_first_filters_titles_as_you_type_and_enter_searches_every_message(
        live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    from gemchat.ui.search_dialog import SearchDialog

    for text in ("Tomato soup recipe", "Paris trip", "Soup for a cold"):
        run(qloop, live.session.new_chat())
        type_and_send(qtbot, live, text)
        wait_answer_done(qloop, live)
    run(qloop, until(lambda: len(live.window.sidebar.chat_ids()) == 3, 3, "three chats listed"))
    sidebar = live.window.sidebar
    paris = next(c.id for c in live.session.chats if c.title.startswith("Paris"))
    row = sidebar._item_for(paris)
    menu = sidebar.chat_menu(row)
    assert [a.text() for a in menu.actions() if a.text()] == ["Open", "Rename", "Pin", "Move to Folder", "Delete"]
    next(a for a in menu.actions() if a.text() == "Pin").trigger()
    run(qloop, until(lambda: sidebar.chat_ids()[0] == paris, 3, "pinned chat first"))
    assert sidebar.item(0).text() == "Pinned" and rows(data_dir, "select title from chats where pinned = 1") \
        == [("Paris trip",)]

    panel = live.window.sidebar_panel
    qtbot.keyClicks(panel.filter, "soup")
    shown = [sidebar.item(r).text() for r in range(sidebar.count()) if not sidebar.item(r).isHidden()]
    assert shown == ["Today", "Soup for a cold", "Tomato soup recipe"]  # the Pinned heading hides with its chat
    qtbot.keyClick(panel.filter, Qt.Key.Key_Return)
    dialog = live.window.dialogs.search_dialog
    assert isinstance(dialog, SearchDialog) and dialog.isVisible()
    assert dialog.query.text() == "soup"
    dialog.reject()
    qtbot.keyClick(panel.filter, Qt.Key.Key_Escape)
    assert all(not sidebar.item(r).isHidden() for r in range(sidebar.count()))

    live.window.actions_by_name["pin_chat"].trigger()  # Ctrl+Shift+P on the open chat (Soup for a cold): pinned too
    run(qloop, until(lambda: len(rows(data_dir, "select id from chats where pinned = 1")) == 2, 3, "second pin"))


def test_ctrl_b_hides_and_shows_the_sidebar_and_a_narrow_window_hides_it_on_its_own(live, qtbot) -> None:
    window, panel = live.window, live.window.sidebar_panel
    window.resize(1000, 700)
    qtbot.waitUntil(lambda: panel.isVisible())
    window.actions_by_name["toggle_sidebar"].trigger()
    assert not panel.isVisible() and not window.actions_by_name["toggle_sidebar"].isChecked()
    window.actions_by_name["toggle_sidebar"].trigger()
    assert panel.isVisible()
    window.resize(600, 700)
    qtbot.waitUntil(lambda: not panel.isVisible())
    window.resize(1000, 700)
    qtbot.waitUntil(lambda: panel.isVisible())


def test_the_new_chat_button_starts_a_new_chat(live, gemini: FakeGemini, qloop, qtbot) -> None:
    type_and_send(qtbot, live, "first")
    wait_answer_done(qloop, live)
    qtbot.mouseClick(live.window.sidebar_panel.new_chat, Qt.MouseButton.LeftButton)
    run(qloop, until(lambda: live.session.chat is None, 3, "a new chat"))


def test_folders_hold_chats_moved_by_menu_or_drop_fold_away_remembered_and_deleting_one_keeps_its_chats(
        live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    from PySide6.QtCore import QMimeData, QPointF
    from PySide6.QtGui import QDropEvent
    from PySide6.QtWidgets import QInputDialog

    from gemchat.ui.sidebar import FOLDER_ID

    for text in ("Rome trip", "Tax return", "Lisbon trip"):
        run(qloop, live.session.new_chat())
        type_and_send(qtbot, live, text)
        wait_answer_done(qloop, live)
    run(qloop, until(lambda: len(live.window.sidebar.chat_ids()) == 3, 3, "three chats"))
    sidebar = live.window.sidebar
    ids = {c.title.split()[0]: c.id for c in live.session.chats}

    # Rome's menu: Move to Folder > New Folder…, named "Travel".
    menu = sidebar.chat_menu(sidebar._item_for(ids["Rome"]))
    move = next(a.menu() for a in menu.actions() if a.text() == "Move to Folder")
    next(a for a in move.actions() if a.text() == "New Folder…").trigger()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QInputDialog) and w.isVisible())
    dialog.setTextValue("Travel")
    dialog.accept()
    run(qloop, until(lambda: rows(data_dir, "select name from folders") == [("Travel",)], 3, "folder made"))
    run(qloop, until(lambda: sidebar._item_for(ids["Rome"]) is not None
                     and sidebar.row(sidebar._item_for(ids["Rome"])) == 1, 3, "Rome under the folder"))
    heading = sidebar.item(0)
    assert heading.text() == "▾ Travel" and heading.data(FOLDER_ID) is not None

    # Lisbon dragged onto the folder's heading.
    sidebar.setCurrentItem(sidebar._item_for(ids["Lisbon"]))
    drop = QDropEvent(QPointF(sidebar.visualItemRect(heading).center()), Qt.DropAction.MoveAction, QMimeData(),
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    sidebar.dropEvent(drop)
    run(qloop, until(lambda: len(rows(data_dir, "select id from chats where folder_id is not null")) == 2, 3,
                     "Lisbon in the folder"))
    run(qloop, until(lambda: sorted(sidebar.item(r).text() for r in (1, 2)) == ["Lisbon trip", "Rome trip"], 3,
                     "both under the folder's heading"))
    assert sidebar.item(0).text() == "▾ Travel"

    # A click on the heading folds the folder away, and it stays folded after a restart of the list.
    qtbot.mouseClick(sidebar.viewport(), Qt.MouseButton.LeftButton, pos=sidebar.visualItemRect(sidebar.item(0)).center())
    run(qloop, until(lambda: rows(data_dir, "select collapsed from folders") == [(1,)], 3, "folded"))
    run(qloop, until(lambda: sidebar.item(0).text() == "▸ Travel", 3, "heading shows folded"))
    assert sidebar._item_for(ids["Rome"]).isHidden() and not sidebar._item_for(ids["Tax"]).isHidden()
    run(qloop, live.session.refresh_chats())
    assert sidebar._item_for(ids["Rome"]).isHidden()

    # Deleting the folder keeps its chats, out of folders.
    next(a for a in sidebar.folder_menu(sidebar.item(0)).actions() if a.text().startswith("Delete Folder")).trigger()
    run(qloop, until(lambda: rows(data_dir, "select count(*) from folders") == [(0,)], 3, "folder deleted"))
    assert rows(data_dir, "select count(*) from chats where folder_id is null") == [(3,)]
    run(qloop, until(lambda: all(not sidebar._item_for(i).isHidden() for i in ids.values()), 3, "all shown"))



def test_a_new_chat_greets_with_four_starters_and_a_click_puts_one_in_the_message_box(
        live, gemini: FakeGemini, qloop, qtbot) -> None:
    window = live.window
    run(qloop, live.session.new_chat())
    assert window.empty_state.isVisible() and not window.view.isVisible()
    assert len(window.empty_state.starters) == 4
    qtbot.mouseClick(window.empty_state.starters[3], Qt.MouseButton.LeftButton)
    assert window.composer.toPlainText() == "Plan a three-day trip to Lisbon on a modest budget."
    assert window.composer.hasFocus() and window.send_button.isEnabled()  # Send is ready, not grey
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    wait_answer_done(qloop, live)
    assert window.view.isVisible() and not window.empty_state.isVisible()
    assert "Plan a three-day trip" in window.view.toPlainText()


def test_the_starters_arrows_are_drawn_in_the_accent_colour_and_show_in_the_dark_theme(qtbot) -> None:
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QWidget

    from gemchat.ui.empty_state import EmptyState
    from gemchat.ui.starter_button import ARROW_SIDE, LEFT, TOP
    from gemchat.ui.theme import apply_theme

    def arrow_colours(state: EmptyState) -> list[set[str]]:
        """Each starter's colours where its arrow goes, as painted now."""
        seen = []
        for button in state.starters:
            button.resize(button.sizeHint())
            image = button.grab().toImage()
            seen.append({image.pixelColor(x, y).name() for x in range(LEFT, LEFT + ARROW_SIDE)
                         for y in range(TOP, TOP + ARROW_SIDE)})
        return seen

    conversation = QWidget()
    state = EmptyState(conversation)
    qtbot.addWidget(state)
    qtbot.addWidget(conversation)
    try:
        apply_theme("light")
        qtbot.waitUntil(lambda: state.palette().color(QPalette.ColorRole.Base).lightness() > 128, timeout=2000)
        light = state.palette().color(QPalette.ColorRole.Highlight).name()
        assert all(light in colours for colours in arrow_colours(state))
        apply_theme("dark")
        qtbot.waitUntil(lambda: state.palette().color(QPalette.ColorRole.Base).lightness() < 128, timeout=2000)
        accent = state.palette().color(QPalette.ColorRole.Highlight)
        assert accent.lightness() > 128 and accent.name() != light  # light on dark
        assert all(accent.name() in colours and light not in colours for colours in arrow_colours(state))
    finally:
        apply_theme("light")
        apply_theme("system")
