"""The window as a user drives it: keys in, streamed text out, against the fake server.

Everything below the widgets is real: the session, the SQLite store, the
google-genai SDK and HTTP to the loopback server.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from gemchat.app import GemchatApp, build_app, run_app
from gemchat.core.gemini import GeminiBackend
from gemchat.paths import database_path
from gemchat.ui.api_key_dialog import ApiKeyDialog
from tests.conftest import TEST_KEY, run, until
from tests.driving import last_stream, problems_reported, rows, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, Reply, last_user_text


def key_dialog(app: GemchatApp) -> ApiKeyDialog | None:
    """The API key dialog of this app's window, if shown (not one another test left behind)."""
    return next((w for w in app.window.findChildren(ApiKeyDialog) if w.isVisible()), None)


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
    live.window.presenter.typing.revealed.connect(lambda _t: states.append(live.window.view.toPlainText()))
    type_and_send(qtbot, live, "Tell me forty words")
    assert live.window.composer.toPlainText() == ""
    wait_answer_done(qloop, live)
    text = live.window.view.toPlainText()
    body, facts = text.rsplit("\n", 1)
    # Shown as Markdown: a paragraph's trailing space is not rendered (the saved text keeps it).
    assert body == "You\nTell me forty words\nGemini 3.6 Flash\n" + "".join(chunks).rstrip()  # the model that answers
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


def test_whitespace_only_message_is_not_sent(live: GemchatApp, gemini: FakeGemini, qloop, qtbot, data_dir: Path) -> None:
    """Enter on blanks does nothing: the blanks stay in the box and nothing is sent, saved or broken.

    Nothing happening cannot be waited for, so a real question is sent next: once
    it is answered, anything the blank Enter set off has run (sends are handled in
    order), and the real question must be the only one on the wire and on disk.
    """
    problems = problems_reported(live)
    qtbot.keyClicks(live.window.composer, "   ")
    assert not live.window.send_button.isEnabled()
    qtbot.keyClick(live.window.composer, Qt.Key.Key_Return)
    assert live.window.composer.toPlainText() == "   "
    live.window.composer.selectAll()
    type_and_send(qtbot, live, "a real question")
    wait_answer_done(qloop, live)
    assert [c["parts"][0]["text"] for c in last_stream(gemini).body["contents"]] == ["a real question"]
    assert [last_user_text(r) for r in gemini.requests if r.kind == "stream"] == ["a real question"]
    assert rows(data_dir, "select role, text from messages order by id") == [
        ("user", "a real question"), ("model", "You said: a real question")]
    assert problems == []


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


def test_a_429_asking_to_wait_an_hour_shows_the_quota_message_at_once_without_retrying(
    live: GemchatApp, gemini: FakeGemini, qloop, qtbot, data_dir: Path
) -> None:
    """The backend's sleep (a constructor parameter) only records here: were the hour waited
    for, the test would see the wait and the second request, not sit through it."""
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    live.backend = GeminiBackend(api_key=TEST_KEY, sleep=sleep)
    gemini.enqueue(Reply.quota(retry_delay="3600s"), Reply.text(["answered after the wait"]))
    type_and_send(qtbot, live, "one more question")
    wait_answer_done(qloop, live)
    shown = live.window.view.toPlainText()
    assert "quota for this key is used up" in shown and "Gemini asked to wait 3600 s" in shown
    assert "Retry" in shown and "answered after the wait" not in shown
    assert waits == []
    assert len([r for r in gemini.requests if r.kind == "stream"]) == 1
    assert rows(data_dir, "select status from messages where role='model'") == [("error",)]


def test_typing_effect_off_shows_chunks_as_they_arrive(live: GemchatApp, gemini: FakeGemini, qloop, qtbot) -> None:
    """Off means no pacing: each chunk is shown whole the moment it arrives.

    The server holds the stream after the first chunk, so the first chunk is on
    screen while nothing else has come. Paced (the switch ignored), the 3,000
    characters would be revealed a frame's worth at a time, in dozens of pieces.
    """
    live.window.actions_by_name["typing_effect"].trigger()
    assert live.settings.typing_effect is False
    first, second = "x" * 3000, "y" * 2000
    gemini.enqueue(Reply.text([first, second], stall_after=1))
    revealed: list[str] = []
    live.window.presenter.typing.revealed.connect(revealed.append)
    type_and_send(qtbot, live, "instant")
    run(qloop, until(lambda: "".join(revealed) == first, 5, "the first chunk revealed"))
    assert revealed == [first], f"revealed in {len(revealed)} pieces: {[len(r) for r in revealed][:10]}"
    run(qloop, until(lambda: first in live.window.view.toPlainText(), 5, "the first chunk shown"))
    assert second[:10] not in live.window.view.toPlainText()  # the rest is still held by the server
    gemini.release()
    wait_answer_done(qloop, live)
    assert revealed == [first, second]
    assert first + second in live.window.view.toPlainText()


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

    task = qloop.create_task(run_app(app))
    run(qloop, until(lambda: key_dialog(app), 5, "asked for a key"))
    dialog = key_dialog(app)
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
    assert key_dialog(app) is None
    type_and_send(qtbot, app, "hello")
    wait_answer_done(qloop, app)
    assert "You said: hello" in app.window.view.toPlainText()
    app.window.close()
    run(qloop, task)


def test_shortcuts_with_nothing_to_act_on_say_so_in_the_status_bar(live: GemchatApp, gemini: FakeGemini, qtbot) -> None:
    """In a new, empty chat every key that needs an answer or a question explains why nothing happened."""
    ctrl, shift, alt = (Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier,
                        Qt.KeyboardModifier.AltModifier)
    expected = [
        ((Qt.Key.Key_R, ctrl), "Nothing to retry."),
        ((Qt.Key.Key_C, ctrl | shift), "No answer to copy yet."),
        ((Qt.Key.Key_Semicolon, ctrl | shift), "No code block in the answers yet."),
        ((Qt.Key.Key_E, ctrl | shift), "No question to edit yet."),
        ((Qt.Key.Key_Left, alt), "No other version of the last answer."),
    ]
    for (key, modifiers), message in expected:
        live.window.statusBar().clearMessage()
        qtbot.keyClick(live.window, key, modifiers)
        assert live.window.statusBar().currentMessage() == message
    assert gemini.requests == []


def test_exporting_a_chat_with_no_messages_says_there_is_nothing_to_export(live: GemchatApp, qtbot) -> None:
    qtbot.keyClick(live.window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert live.window.statusBar().currentMessage() == "This chat has no messages to export yet."


def test_a_new_chat_keeps_markdown_unloaded_until_a_question_is_typed_then_prepares_it_once(
        live: GemchatApp, qloop: Any, qtbot: Any, monkeypatch: Any) -> None:
    import gemchat.ui.chat_view.markdown_warm_up as warm_up_module

    prepared: list[bool] = []
    monkeypatch.setattr(warm_up_module, "_prepare", prepared.append)
    window = live.window
    window.view.repaint()
    run(qloop, asyncio.sleep(2 * warm_up_module.WARM_AFTER_MS / 1000))
    assert prepared == []  # an empty chat at rest: nothing to render, nothing prepared (memory)
    qtbot.keyClicks(window.composer, "Hello")
    qtbot.waitUntil(lambda: len(prepared) == 1, timeout=2000)
    type_and_send(qtbot, live, " there")
    wait_answer_done(qloop, live)
    assert len(prepared) == 1


def test_the_sdk_starts_loading_once_a_question_is_begun_with_a_starter_not_at_rest(
        live: GemchatApp, qloop: Any, qtbot: Any, monkeypatch: Any) -> None:
    """Clicking a starter is beginning a question, as a key is: its answer should not wait for the SDK's imports."""
    begun: list[str] = []

    async def warm_up() -> None:
        begun.append("SDK")

    monkeypatch.setattr(live.access, "warm_up", warm_up)
    run(qloop, asyncio.sleep(0.1))
    assert begun == []  # a window left open loads nothing more
    qtbot.mouseClick(live.window.empty_state.starters[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: begun == ["SDK"], timeout=2000)
    qtbot.keyClicks(live.window.composer, " please")
    run(qloop, asyncio.sleep(0.1))
    assert begun == ["SDK"]  # once
