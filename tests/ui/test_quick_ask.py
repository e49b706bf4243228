"""Quick ask: `gemchat --quick` shows a small window above the others, where a question is answered as it types,
in a chat of its own that the main window lists and can continue.

The window runs here as `gemchat --data-dir DIR` runs it; `gemchat --quick` is a
real later launch, so the request goes over the real socket; the start of a
gemchat by `--quick` is a real process too.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gemchat.app import GemchatApp
from gemchat.launch_listener import LaunchListener
from gemchat.ui.quick_ask import QuickAskWindow
from tests.conftest import run, until
from tests.driving import rows, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, Reply, last_user_text
from tests.test_gemchat_process import app_env
from tests.ui.conftest import launch_again
from tests.ui.test_text_size import width_of


def summon(qloop: Any, gemini: FakeGemini, data_dir: Path, app: GemchatApp, tmp_path: Path,
           *prompt: str) -> QuickAskWindow:
    """`gemchat --quick [PROMPT]` run while the window runs; the quick window it shows."""
    later = launch_again(qloop, gemini, data_dir, "--quick", *prompt, cwd=tmp_path)
    assert later.returncode == 0, later.stderr
    run(qloop, until(lambda: app.quick_ask is not None and app.quick_ask.isVisible(), what="quick ask shown"))
    assert app.quick_ask is not None
    return app.quick_ask


def ask(qtbot: Any, quick: QuickAskWindow, text: str) -> None:
    qtbot.keyClicks(quick.composer, text)
    qtbot.keyClick(quick.composer, Qt.Key.Key_Return)


def answer_shown(qloop: Any, quick: QuickAskWindow, text: str) -> None:
    run(qloop, until(lambda: text in quick.view.toPlainText() and not quick.stop_button.isVisible(),
                     what=f"{text!r} shown in the quick window"))


def test_a_quick_question_is_answered_in_its_small_window_in_a_new_saved_chat_and_the_main_window_keeps_its_chat(
        running: tuple[GemchatApp, LaunchListener], qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path,
        tmp_path: Path) -> None:
    app, _listener = running
    type_and_send(qtbot, app, "An earlier question")
    wait_answer_done(qloop, app)
    earlier = app.session.chat
    assert earlier is not None

    quick = summon(qloop, gemini_env, data_dir, app, tmp_path)

    assert quick.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert quick.width() < app.window.width() and not quick.view.isVisible()  # only the prompt, at first
    qtbot.waitUntil(lambda: QApplication.activeWindow() is quick)
    assert quick.composer.hasFocus()
    ask(qtbot, quick, "What is a quick question?")
    answer_shown(qloop, quick, "You said: What is a quick question?")

    assert quick.view.isVisible() and "What is a quick question?" in quick.view.toPlainText()
    assert quick.chat_id is not None and quick.chat_id != earlier.id
    assert rows(data_dir, "select role, text, status from messages where chat_id = ? order by id", (quick.chat_id,)) \
        == [("user", "What is a quick question?", "complete"),
            ("model", "You said: What is a quick question?", "complete")]
    assert app.session.chat is not None and app.session.chat.id == earlier.id  # the main window did not move
    assert "What is a quick question?" not in app.window.view.toPlainText()
    run(qloop, until(lambda: quick.chat_id in [c.id for c in app.session.chats], what="the quick chat listed"))


def test_a_follow_up_in_the_quick_window_stays_in_its_chat_and_ctrl_n_starts_another(
        running: tuple[GemchatApp, LaunchListener], qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path,
        tmp_path: Path) -> None:
    app, _listener = running
    quick = summon(qloop, gemini_env, data_dir, app, tmp_path)
    ask(qtbot, quick, "First quick question")
    answer_shown(qloop, quick, "You said: First quick question")
    first_chat = quick.chat_id

    ask(qtbot, quick, "And a follow-up")
    answer_shown(qloop, quick, "You said: And a follow-up")

    assert quick.chat_id == first_chat
    follow_up = [r for r in gemini_env.requests if r.kind == "stream"][-1]
    said = [p["text"] for c in follow_up.body["contents"] for p in c["parts"] if not p.get("thought")]
    assert said == ["First quick question", "You said: First quick question", "And a follow-up"]
    shown = quick.view.toPlainText()
    assert shown.index("First quick question") < shown.index("And a follow-up")

    qtbot.keyClick(quick.composer, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert quick.chat_id is None and not quick.view.isVisible() and quick.composer.toPlainText() == ""
    ask(qtbot, quick, "A new topic")
    answer_shown(qloop, quick, "You said: A new topic")
    assert quick.chat_id not in (None, first_chat)
    assert "First quick question" not in quick.view.toPlainText()


def test_open_in_gemchat_continues_the_quick_chat_in_the_main_window(
        running: tuple[GemchatApp, LaunchListener], qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path,
        tmp_path: Path) -> None:
    app, _listener = running
    app.window.showMinimized()
    qtbot.waitUntil(app.window.isMinimized)
    quick = summon(qloop, gemini_env, data_dir, app, tmp_path)
    ask(qtbot, quick, "Start here")
    answer_shown(qloop, quick, "You said: Start here")
    chat_id = quick.chat_id

    qtbot.keyClick(quick.composer, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)

    run(qloop, until(lambda: not quick.isVisible(), what="the quick window hidden"))
    assert app.session.chat is not None and app.session.chat.id == chat_id
    assert not app.window.isMinimized()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is app.window)
    assert "You said: Start here" in app.window.view.toPlainText()
    type_and_send(qtbot, app, "Go on in the big window")
    wait_answer_done(qloop, app)
    assert rows(data_dir, "select text from messages where chat_id = ? and role = 'user' order by id", (chat_id,)) \
        == [("Start here",), ("Go on in the big window",)]


def test_esc_hides_the_quick_window_and_the_answer_still_arrives_whole_and_is_saved(
        running: tuple[GemchatApp, LaunchListener], qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path,
        tmp_path: Path) -> None:
    app, _listener = running
    quick = summon(qloop, gemini_env, data_dir, app, tmp_path)
    gemini_env.enqueue(Reply.text(["A slow ", "answer ", "that keeps ", "coming."], chunk_delay=0.2))
    ask(qtbot, quick, "Take your time")
    run(qloop, until(lambda: quick.stop_button.isVisible(), what="the answer coming"))
    chat_id = quick.chat_id

    qtbot.keyClick(quick.composer, Qt.Key.Key_Escape)

    assert not quick.isVisible()
    run(qloop, until(lambda: rows(data_dir, "select status from messages where chat_id = ? and role = 'model'",
                                  (chat_id,)) == [("complete",)], what="the answer saved"))
    assert rows(data_dir, "select text from messages where chat_id = ? and role = 'model'", (chat_id,)) \
        == [("A slow answer that keeps coming.",)]

    summon(qloop, gemini_env, data_dir, app, tmp_path)  # shown again: a fresh start
    assert quick.chat_id is None and quick.composer.toPlainText() == "" and not quick.view.isVisible()


def test_stop_in_the_quick_window_ends_the_answer_and_keeps_what_arrived(
        running: tuple[GemchatApp, LaunchListener], qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path,
        tmp_path: Path) -> None:
    app, _listener = running
    quick = summon(qloop, gemini_env, data_dir, app, tmp_path)
    gemini_env.enqueue(Reply.text(["Kept part. "] + ["more "] * 50, chunk_delay=0.2))
    ask(qtbot, quick, "Say a lot")
    run(qloop, until(lambda: "Kept part." in quick.view.toPlainText(), what="the first words"))

    qtbot.keyClick(quick.composer, Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)

    run(qloop, until(lambda: not quick.stop_button.isVisible(), what="the answer stopped"))
    stored = rows(data_dir, "select text, status from messages where chat_id = ? and role = 'model'", (quick.chat_id,))
    assert stored[0][1] == "interrupted" and stored[0][0].startswith("Kept part.") and stored[0][0].count("more") < 50
    assert quick.isVisible()


def test_the_quick_window_shows_text_at_the_main_windows_size_and_its_zoom_keys_size_both(
        running: tuple[GemchatApp, LaunchListener], qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path,
        tmp_path: Path) -> None:
    app, _listener = running
    words = "Words typed in the message box"
    normal = app.window.composer.fontMetrics().horizontalAdvance(words)
    for _ in range(3):
        qtbot.keyClick(app.window.composer, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    quick = summon(qloop, gemini_env, data_dir, app, tmp_path)
    assert quick.composer.fontMetrics().horizontalAdvance(words) == app.window.composer.fontMetrics().horizontalAdvance(words)
    assert quick.composer.fontMetrics().horizontalAdvance(words) == pytest.approx(normal * 1.3, rel=0.06)
    ask(qtbot, quick, "Is this large?")
    answer_shown(qloop, quick, "You said: Is this large?")
    answer = width_of(quick.view, "You said: Is this large?")
    box = quick.composer.height()

    qtbot.keyClick(quick.composer, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)

    assert width_of(quick.view, "You said: Is this large?") == pytest.approx(answer / 1.3, rel=0.06)
    assert quick.composer.height() < box  # three lines high, in the smaller text
    assert app.window.composer.fontMetrics().horizontalAdvance(words) == normal  # the main window too
    assert app.settings.text_zoom == 100


def test_gemchat_quick_with_a_prompt_asks_it_in_the_quick_window(
        running: tuple[GemchatApp, LaunchListener], qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path,
        tmp_path: Path) -> None:
    app, _listener = running

    quick = summon(qloop, gemini_env, data_dir, app, tmp_path, "Asked from the command line")

    answer_shown(qloop, quick, "You said: Asked from the command line")
    assert quick.composer.toPlainText() == ""
    assert app.session.chat is None or app.session.chat.id != quick.chat_id


def test_gemchat_quick_starts_gemchat_when_none_runs_and_answers_there(
        gemini_env: FakeGemini, data_dir: Path, tmp_path: Path) -> None:
    env = app_env(gemini_env, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-m", "gemchat", "--data-dir", str(data_dir), "--quick",
                             "Hello from a cold start"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        import time

        deadline = time.monotonic() + 40
        answered: list[tuple] = []
        while time.monotonic() < deadline and not answered:
            time.sleep(0.1)
            assert proc.poll() is None, proc.communicate()
            if (data_dir / "gemchat.db").exists():
                try:
                    answered = rows(data_dir, "select text from messages where role = 'model' and status = 'complete'")
                except sqlite3.OperationalError:  # the file is there, its tables not yet
                    continue
        assert answered == [("You said: Hello from a cold start",)]
        assert [last_user_text(r) for r in gemini_env.requests if r.kind == "stream"] == ["Hello from a cold start"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def test_quick_takes_no_files_and_says_where_to_attach_them(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "gemchat", "--data-dir", str(tmp_path / "d"), "--quick", "a.txt"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=30,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 2
    assert "--quick asks a PROMPT and takes no FILEs" in done.stderr


def test_typing_in_the_quick_window_prepares_markdown_before_the_question_is_sent(
        running: tuple[GemchatApp, LaunchListener], qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path,
        tmp_path: Path, monkeypatch: Any) -> None:
    import gemchat.ui.chat_view.markdown_warm_up as warm_up_module

    app, _listener = running
    quick = summon(qloop, gemini_env, data_dir, app, tmp_path)
    prepared: list[bool] = []
    monkeypatch.setattr(warm_up_module, "_prepare", prepared.append)
    qtbot.keyClicks(quick.composer, "What")
    qtbot.waitUntil(lambda: len(prepared) == 1, timeout=2000)  # typing, not sending, began it
    ask(qtbot, quick, " is this?")
    answer_shown(qloop, quick, "You said: What is this?")
    assert len(prepared) == 1
