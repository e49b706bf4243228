"""The window as a user drives it: keys in, streamed text out, against the fake server.

Everything below the widgets is real: the session, the SQLite store, the
google-genai SDK and HTTP to the loopback server.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from gemchat.app import GemchatApp, build_app, run_app
from gemchat.paths import database_path
from gemchat.ui.api_key_dialog import ApiKeyDialog
from tests.conftest import TEST_KEY, run, until
from tests.driving import last_stream, rows, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, Reply, last_user_text


def listed_chats(app: GemchatApp) -> list[str]:
    """The chat titles the sidebar shows, top to bottom, without its date headings."""
    sidebar = app.window.sidebar
    return [sidebar.item(row).text() for row in range(sidebar.count())
            if sidebar.item(row).flags() & Qt.ItemFlag.ItemIsSelectable]


def test_window_title_says_gemchat_and_message_box_has_focus(live: GemchatApp, qtbot) -> None:
    assert "gemchat" in live.window.windowTitle()
    qtbot.waitUntil(lambda: live.window.composer.hasFocus(), timeout=2000)


def test_answer_streams_in_visibly_and_ends_with_exactly_what_was_sent(
    live: GemchatApp, gemini: FakeGemini, qloop, qtbot, data_dir: Path
) -> None:
    chunks = [f"word{i} " for i in range(40)]
    gemini.enqueue(Reply.text(chunks, chunk_delay=0.02))
    states: list[str] = []
    live.window.typing.revealed.connect(lambda _t: states.append(live.window.view.toPlainText()))
    type_and_send(qtbot, live, "Tell me forty words")
    assert live.window.composer.toPlainText() == ""
    wait_answer_done(qloop, live)
    text = live.window.view.toPlainText()
    body, facts = text.rsplit("\n", 1)
    # Shown as Markdown: a paragraph's trailing space is not rendered (the saved text keeps it).
    assert body == "You\nTell me forty words\nGemini\n" + "".join(chunks).rstrip()
    assert "tokens" in facts
    assert len(set(states)) >= 5, "the answer should appear in several steps"
    assert rows(data_dir, "select role, text, status from messages order by id") == [
        ("user", "Tell me forty words", "complete"),
        ("model", "".join(chunks), "complete"),
    ]


def test_thinking_indicator_shows_until_the_first_character(live: GemchatApp, gemini: FakeGemini, qloop, qtbot) -> None:
    gemini.enqueue(Reply.text(["late"], first_byte_delay=0.6))
    type_and_send(qtbot, live, "slow one")
    run(qloop, until(lambda: live.window.activity.isVisible(), 3, "thinking shown"))
    assert "thinking" in live.window.activity.text().lower()
    wait_answer_done(qloop, live)
    assert not live.window.activity.isVisible()


def test_shift_enter_adds_a_line_and_enter_sends_both_lines(live: GemchatApp, gemini: FakeGemini, qloop, qtbot) -> None:
    qtbot.keyClicks(live.window.composer, "line one")
    qtbot.keyClick(live.window.composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(live.window.composer, "line two")
    assert live.window.composer.toPlainText() == "line one\nline two"
    live._expected_answers = 1
    qtbot.keyClick(live.window.composer, Qt.Key.Key_Return)
    wait_answer_done(qloop, live)
    assert last_stream(gemini).body["contents"][-1]["parts"][0]["text"] == "line one\nline two"


def test_whitespace_only_message_is_not_sent(
    live: GemchatApp, gemini: FakeGemini, qloop, qtbot, data_dir: Path
) -> None:
    qtbot.keyClicks(live.window.composer, "   ")
    assert not live.window.send_button.isEnabled()
    qtbot.keyClick(live.window.composer, Qt.Key.Key_Return)
    # Then a real question: once its answer is in, a blank one sent before it would be too.
    live.window.composer.clear()
    type_and_send(qtbot, live, "A real question")
    wait_answer_done(qloop, live)
    assert [last_user_text(r) for r in gemini.requests if r.kind == "stream"] == ["A real question"]
    assert rows(data_dir, "select text from messages where role = 'user'") == [("A real question",)]


def test_esc_stops_the_answer_and_keeps_the_text(live: GemchatApp, gemini: FakeGemini, qloop, qtbot, data_dir: Path) -> None:
    gemini.enqueue(Reply.text([f"piece{i} " for i in range(200)], chunk_delay=0.05))
    type_and_send(qtbot, live, "long answer please")
    run(qloop, until(lambda: "piece3" in live.window.view.toPlainText(), 5, "some text"))
    qtbot.keyClick(live.window, Qt.Key.Key_Escape)
    wait_answer_done(qloop, live)
    shown = live.window.view.toPlainText()
    assert "Stopped" in shown and "piece199" not in shown
    (text, status), = rows(data_dir, "select text, status from messages where role='model'")
    assert status == "interrupted" and text.startswith("piece0 piece1 piece2 piece3")
    assert text.rstrip() in shown  # Markdown shows no trailing space


def test_ctrl_n_opens_a_fresh_chat_and_the_old_one_is_kept(live: GemchatApp, gemini: FakeGemini, qloop, qtbot, data_dir: Path) -> None:
    type_and_send(qtbot, live, "first chat")
    wait_answer_done(qloop, live)
    qtbot.keyClick(live.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    run(qloop, until(lambda: live.session.chat is None and live.window.view.toPlainText() == "", 3))
    assert "New chat" in live.window.windowTitle()
    type_and_send(qtbot, live, "second chat")
    wait_answer_done(qloop, live)
    assert len(last_stream(gemini).body["contents"]) == 1  # no history from the other chat
    # Both are listed, each under the title the model gave it after its first answer (asked for in the
    # background, so waited for: until it comes, a chat is titled with its question's first words).
    run(qloop, until(lambda: sorted(listed_chats(live)) == ["First chat", "Second chat"], 5, "both chats titled"))
    assert rows(data_dir, "select c.title, m.text from messages m join chats c on c.id = m.chat_id "
                          "where m.role = 'user' order by m.id") == [("First chat", "first chat"),
                                                                      ("Second chat", "second chat")]


def test_follow_up_carries_the_history(live: GemchatApp, gemini: FakeGemini, qloop, qtbot) -> None:
    gemini.enqueue(Reply.text(["Paris."]), Reply.text(["About 2 million."]))
    type_and_send(qtbot, live, "Capital of France?")
    wait_answer_done(qloop, live)
    type_and_send(qtbot, live, "Population?")
    wait_answer_done(qloop, live)
    contents = last_stream(gemini).body["contents"]
    assert [(c["role"], c["parts"][0]["text"]) for c in contents] == [
        ("user", "Capital of France?"), ("model", "Paris."), ("user", "Population?"),
    ]


def test_network_drop_shows_an_error_with_retry_and_retry_answers(
    live: GemchatApp, gemini: FakeGemini, qloop, qtbot, data_dir: Path
) -> None:
    gemini.enqueue(Reply.text(["Half an ", "answer"], drop_after=1), Reply.text(["Whole answer"]))
    type_and_send(qtbot, live, "question")
    wait_answer_done(qloop, live)
    shown = live.window.view.toPlainText()
    assert "Half an" in shown and "connection to Gemini was lost" in shown and "Retry" in shown
    assert rows(data_dir, "select text, status from messages where role='model'") == [("Half an ", "error")]
    live._expected_answers += 1
    qtbot.keyClick(live.window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    run(qloop, until(lambda: "Whole answer" in live.window.view.toPlainText(), 5))
    wait_answer_done(qloop, live)
    assert rows(data_dir, "select status from messages where role='model' order by id") == [("error",), ("complete",)]
    assert [c["role"] for c in last_stream(gemini).body["contents"]] == ["user"]


def test_typing_effect_off_shows_chunks_as_they_arrive(live: GemchatApp, gemini: FakeGemini, qloop, qtbot) -> None:
    live.window.actions_by_name["typing_effect"].trigger()
    assert live.settings.typing_effect is False
    gemini.enqueue(Reply.text(["x" * 3000]))
    type_and_send(qtbot, live, "instant")
    run(qloop, until(lambda: "x" * 3000 in live.window.view.toPlainText(), 5))


def test_ctrl_q_quits_and_saves_what_was_streaming(qloop, gemini_env: FakeGemini, data_dir: Path, qtbot) -> None:
    app = build_app(data_dir)
    task = qloop.create_task(run_app(app))
    run(qloop, until(lambda: app.window.isVisible()))
    app.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is app.window, timeout=3000)
    gemini_env.enqueue(Reply.text([f"p{i} " for i in range(500)], chunk_delay=0.03))
    type_and_send(qtbot, app, "go")
    run(qloop, until(lambda: "p5" in app.window.view.toPlainText(), 5))
    qtbot.keyClick(app.window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    run(qloop, task, 10)
    assert not app.window.isVisible()
    (status,), = rows(data_dir, "select status from messages where role='model'")
    assert status == "interrupted"


def test_first_start_without_a_key_asks_for_one_and_keeps_it_in_the_keyring(
    qloop, gemini: FakeGemini, data_dir: Path, qtbot, monkeypatch, memory_keyring
) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini.base_url)
    app = build_app(data_dir)
    assert app.backend is None

    def key_dialog() -> ApiKeyDialog | None:
        return next((w for w in QApplication.topLevelWidgets() if isinstance(w, ApiKeyDialog) and w.isVisible()), None)

    task = qloop.create_task(run_app(app))
    run(qloop, until(lambda: key_dialog() is not None, 5, "the key dialog shown"))
    dialog = key_dialog()
    assert dialog is not None
    dialog.findChild(QLineEdit).setText(TEST_KEY)
    dialog.accept()
    run(qloop, until(lambda: app.backend is not None, 5, "key entered"))
    run(qloop, until(lambda: memory_keyring.passwords, 5, "key saved"))
    assert list(memory_keyring.passwords.values()) == [TEST_KEY]
    type_and_send(qtbot, app, "hello")
    run(qloop, until(lambda: "You said" in app.window.view.toPlainText(), 5))
    wait_answer_done(qloop, app)
    app.window.close()
    run(qloop, task)
    assert TEST_KEY.encode() not in database_path(data_dir).read_bytes()


def test_restart_reopens_the_last_chat(qloop, gemini_env: FakeGemini, data_dir: Path, qtbot) -> None:
    for round_ in range(2):
        app = build_app(data_dir)
        task = qloop.create_task(run_app(app))
        run(qloop, until(lambda: app.window.isVisible()))
        if round_ == 0:
            type_and_send(qtbot, app, "remember me")
            wait_answer_done(qloop, app)
        else:
            run(qloop, until(lambda: "remember me" in app.window.view.toPlainText(), 3))
            assert "You said: remember me" in app.window.view.toPlainText()
        app.window.close()
        run(qloop, task)
    assert rows(data_dir, "select count(*) from chats") == [(1,)]


def test_a_key_kept_in_the_keyring_is_read_after_the_window_shows_and_used(
        qloop, gemini: FakeGemini, data_dir: Path, qtbot, monkeypatch, memory_keyring) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini.base_url)
    memory_keyring.set_password("gemchat", "gemini-api-key", TEST_KEY)
    app = build_app(data_dir)
    assert app.backend is None  # not read on the UI thread while starting
    task = qloop.create_task(run_app(app))
    run(qloop, until(lambda: app.backend is not None, 5, "key read from the keyring"))
    assert not any(isinstance(w, ApiKeyDialog) and w.isVisible() for w in QApplication.topLevelWidgets())
    type_and_send(qtbot, app, "hello")
    wait_answer_done(qloop, app)
    assert "You said: hello" in app.window.view.toPlainText()
    app.window.close()
    run(qloop, task)
