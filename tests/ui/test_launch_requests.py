"""What the window does with a later launch's request: it comes back to the front, attaches the FILEs and sends
the PROMPT in a new chat.

The window runs here, as `gemchat --data-dir DIR` runs it (the data directory's
lock held, listening for launches); the later launch is a real `python -m
gemchat` process, so the request goes over the real socket.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from gemchat.app import GemchatApp, build_app, run_app
from gemchat.instance import LaunchRequest
from gemchat.launch_listener import LaunchListener
from tests.conftest import run, until
from tests.driving import rows, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, RecordedRequest, attached_parts, last_user_text
from tests.ui.conftest import launch_again


def prompts_streamed(gemini: FakeGemini) -> list[str]:
    return [last_user_text(r) for r in gemini.requests if r.kind == "stream"]


def streamed(gemini: FakeGemini, prompt: str) -> RecordedRequest | None:
    return next((r for r in gemini.requests if r.kind == "stream" and last_user_text(r) == prompt), None)


def test_a_later_launch_brings_the_window_back_and_sends_its_prompt_in_a_new_chat_with_its_files(
        running: tuple[GemchatApp, LaunchListener], qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path,
        tmp_path: Path) -> None:
    app, _listener = running
    type_and_send(qtbot, app, "An earlier question")
    wait_answer_done(qloop, app)
    earlier_chat = app.session.chat
    app.window.showMinimized()
    qtbot.waitUntil(app.window.isMinimized)
    (tmp_path / "notes.txt").write_text("Meeting at noon, room 4.", encoding="utf-8")

    later = launch_again(qloop, gemini_env, data_dir, "What do my notes say?", "notes.txt", cwd=tmp_path)

    assert later.returncode == 0, later.stderr
    run(qloop, until(lambda: streamed(gemini_env, "What do my notes say?"), what="the prompt sent"))
    assert attached_parts(streamed(gemini_env, "What do my notes say?")) == [("inline", "text/plain")]
    assert not app.window.isMinimized()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is app.window)
    assert app.session.chat is not None and earlier_chat is not None and app.session.chat.id != earlier_chat.id
    assert rows(data_dir, "select role, text from messages where chat_id = ? order by id", (app.session.chat.id,))[0] \
        == ("user", "What do my notes say?")
    assert app.window.tray.attachments() == []  # they went with the prompt


def test_files_from_a_later_launch_wait_in_the_message_box_of_the_chat_that_is_open(
        running: tuple[GemchatApp, LaunchListener], qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path,
        tmp_path: Path) -> None:
    app, _listener = running
    type_and_send(qtbot, app, "An earlier question")
    wait_answer_done(qloop, app)
    chat, sent = app.session.chat, len(prompts_streamed(gemini_env))
    qtbot.keyClicks(app.window.composer, "I was typing this")
    (tmp_path / "one.txt").write_text("one", encoding="utf-8")
    (tmp_path / "two.txt").write_text("two", encoding="utf-8")

    later = launch_again(qloop, gemini_env, data_dir, "one.txt", "two.txt", cwd=tmp_path)

    assert later.returncode == 0, later.stderr
    run(qloop, until(lambda: len(app.window.tray.attachments()) == 2, what="the files in the tray"))
    assert [a.name for a in app.window.tray.attachments()] == ["one.txt", "two.txt"]
    assert app.session.chat == chat and app.window.composer.toPlainText() == "I was typing this"
    assert len(prompts_streamed(gemini_env)) == sent  # nothing sent until the user sends


def test_requests_that_come_while_the_window_starts_are_taken_once_it_has_in_order(
        qloop: Any, gemini_env: FakeGemini, data_dir: Path, qtbot: Any) -> None:
    app = build_app(data_dir)
    listener = LaunchListener("not listening: its requests are given here")

    def two_launches_at_once(*_: object) -> None:
        app.session.chat_opened.disconnect(two_launches_at_once)
        listener.request_received.emit(LaunchRequest("First of two"))
        listener.request_received.emit(LaunchRequest("Second of two"))

    # While the window starts: its first chat is being shown, the chat list and the key are still to come.
    app.session.chat_opened.connect(two_launches_at_once)
    task = qloop.create_task(run_app(app, launches=listener))
    try:
        run(qloop, until(lambda: len(rows(data_dir, "select id from messages where role = 'model' and status = 'complete'"))
                         == 2, what="both answered"))
        # Each in a chat of its own, in the order they came (their requests then race to the server).
        assert sorted(prompts_streamed(gemini_env)) == ["First of two", "Second of two"]
        assert rows(data_dir, "select c.id, m.text from chats c join messages m on m.chat_id = c.id "
                              "where m.role = 'user' order by c.id") == [(1, "First of two"), (2, "Second of two")]
    finally:
        if not task.done():
            app.window.close()
            run(qloop, task)
