"""Continuing an answer whose saving failed part-way: the whole app shows its text once.

The real window, session, SQLite store and SDK against the loopback fake
server. The answer's first piece is saved as a part; the database then turns
read-only (as SQLite reports it, on the app's own connection), so the next
piece cannot be saved; it is writable again before the answer ends, so the end
saves the whole text instead of the parts. Continue must then show and keep
that text once: parts left behind would be shown again after it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gemchat.app import GemchatApp
from tests.conftest import run, until
from tests.driving import expect_answer, rows, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, Reply


def on_app_connection(qloop: Any, app: GemchatApp, pragma: str) -> None:
    """Runs `pragma` on the app's one connection, on the one thread that uses it."""
    run(qloop, app.db.run(lambda: app.db.store._conn.execute(pragma)))


def test_continuing_an_answer_whose_saving_failed_part_way_shows_its_text_once(
    live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path
) -> None:
    said: list[str] = []
    live.session.problem.connect(said.append)
    # "ab", then a pause until released; "cd" and "ef" 1.5 s apart, long enough to make the
    # database writable again before the answer ends. Cut at MAX_TOKENS, so it can be continued.
    gemini.enqueue(Reply.text(["ab", "cd", "ef"], stall_after=1, chunk_delay=1.5, finish_reason="MAX_TOKENS"),
                   Reply.text(["gh"]))
    type_and_send(qtbot, live, "Four letters, then more")
    run(qloop, until(lambda: rows(data_dir, "select text from message_parts") == [("ab",)], 5, "'ab' saved"))
    on_app_connection(qloop, live, "PRAGMA query_only = 1")
    gemini.release()
    run(qloop, until(lambda: said, 5, "the failed save reported"))
    assert "answer could not be saved" in said[0]
    on_app_connection(qloop, live, "PRAGMA query_only = 0")
    wait_answer_done(qloop, live)
    assert rows(data_dir, "select text, status from messages where role = 'model'") == [("abcdef", "interrupted")], (
        "the end was not saved: was the database writable again before the answer ended?")

    expect_answer(live)
    qtbot.keyClick(QApplication.focusWidget() or live.window, Qt.Key.Key_Return,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)  # Continue
    wait_answer_done(qloop, live)
    assert rows(data_dir, "select text, status from messages where role = 'model'") == [("abcdefgh", "complete")]
    assert rows(data_dir, "select count(*) from message_parts") == [(0,)]
    shown = live.window.view.toPlainText()
    assert "abcdefgh" in shown and "abcdefab" not in shown


def test_an_answer_whose_stream_ends_without_a_finish_reason_is_kept_as_cut_off_with_continue(
    live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path
) -> None:
    gemini.enqueue(Reply.text(["The first half, "], finish_reason=None), Reply.text(["and the rest."]))
    type_and_send(qtbot, live, "Tell me everything")
    wait_answer_done(qloop, live)
    assert rows(data_dir, "select text, status, finish_reason from messages where role = 'model'") == [
        ("The first half, ", "interrupted", "UNFINISHED")]
    assert "Cut off: the answer ended before Gemini said it was finished.  Continue" in live.window.view.toPlainText()

    expect_answer(live)
    live.window.view.continue_requested.emit(live.window.view.messages[-1].id)  # its Continue link
    wait_answer_done(qloop, live)
    assert rows(data_dir, "select text, status from messages where role = 'model'") == [
        ("The first half, and the rest.", "complete")]


def test_an_answer_stopped_by_a_safety_filter_keeps_its_token_usage(
    live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path
) -> None:
    gemini.enqueue(Reply.text(["Some words"], finish_reason="SAFETY"))
    type_and_send(qtbot, live, "Something risky")
    wait_answer_done(qloop, live)
    [(status, finish, usage)] = rows(data_dir, "select status, finish_reason, usage from messages where role = 'model'")
    assert (status, finish) == ("error", "SAFETY")
    assert usage is not None and '"total_token_count"' in usage
