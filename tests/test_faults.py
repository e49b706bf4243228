"""The reliability matrix, seen from the whole app: README's "Reliability" table, row by row.

Each test drives the real window, session, SQLite store and google-genai SDK
against the loopback fake server, injects one fault on the wire or in SQLite,
and checks what a user would: the question and every character that arrived
are in the database with the right status, the view says what happened, and
the next message is answered. Backend-level versions of some of these live in
tests/core/gemini/; these show the whole app copes.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from gemchat.app import GemchatApp, build_app, run_app, run_gui
from gemchat.core.gemini import GeminiBackend
from gemchat.core.messages import Role
from gemchat.data_directory import lock_data_dir
from gemchat.paths import database_path, settings_path
from gemchat.storage import migrations
from gemchat.storage.store import ChatStore
from tests.conftest import TEST_KEY, run, until
from tests.driving import answers_ended, expect_answer, last_stream, rows, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, Reply

MODEL = "gemini-3.6-flash"


def start(qloop: Any, qtbot: Any, data_dir: Path, read_timeout: float = 5.0) -> tuple[GemchatApp, asyncio.Task[None]]:
    """The app as `gemchat --data-dir DIR` starts it, with retry waits of 50 ms instead of seconds.

    The backend is the real one (same class, same code path); only its backoff
    base is shortened, through its constructor, so the suite stays fast.
    """
    app = build_app(data_dir)
    app.settings.read_timeout = read_timeout
    app.backend = GeminiBackend(api_key=TEST_KEY, read_timeout=read_timeout, backoff=0.05)
    task = qloop.create_task(run_app(app))
    run(qloop, until(lambda: app.window.isVisible() and app.window.ready, what="window shown with its chat"))
    app.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is app.window, timeout=3000)
    return app, task


def stop(qloop: Any, app: GemchatApp, task: asyncio.Task[None]) -> None:
    if not task.done():
        app.window.close()
        run(qloop, task)


@pytest.fixture
def app(qloop: Any, gemini_env: FakeGemini, data_dir: Path, qtbot: Any) -> Iterator[GemchatApp]:
    gemchat, task = start(qloop, qtbot, data_dir)
    yield gemchat
    stop(qloop, gemchat, task)


def answer_rows(data_dir: Path) -> list[tuple[str, str, str | None]]:
    """(text with unfolded parts, status, error) of every answer, oldest first, as the file holds them."""
    found = rows(data_dir, "select id, text, status, error from messages where role = 'model' order by id")
    result = []
    for message_id, text, status, error in found:
        parts = rows(data_dir, "select text from message_parts where message_id = ? order by seq", (message_id,))
        result.append((text + "".join(p for (p,) in parts), status, error))
    return result


def streams(gemini: FakeGemini) -> int:
    return len([r for r in gemini.requests if r.kind == "stream"])


def next_message_is_answered(qloop: Any, qtbot: Any, app: GemchatApp, data_dir: Path, text: str = "And now?") -> None:
    """The app keeps working: one more question gets a whole answer (the fake server's echo)."""
    type_and_send(qtbot, app, text)
    wait_answer_done(qloop, app)
    answer, status, _error = answer_rows(data_dir)[-1]
    assert status == "complete" and answer.startswith("You said: ") and text in answer
    assert answer in app.window.view.toPlainText()


def watch_activity(qloop: Any, app: GemchatApp, seconds: float) -> list[str]:
    """The texts the activity line under the chat showed ("thinking", "retrying in…"), sampled."""
    seen: list[str] = []
    ended, expected = answers_ended(app), getattr(app, "_expected_answers", 1)

    async def sample() -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(ended) < expected:
            if app.window.activity.isVisible() and (text := app.window.activity.text()) not in seen:
                seen.append(text)
            await asyncio.sleep(0.01)

    run(qloop, sample(), seconds + 5)
    return seen


# -- network and API faults, one row each ----------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    replies: tuple[Reply, ...]
    says: tuple[str, ...]  # what the view shows about it, besides the text
    kept: str  # the answer's text in the database
    status: str  # the answer's status in the database
    requests: int  # streamed requests made, retries included


FAULTS: dict[str, Fault] = {
    "connection dropped mid-answer": Fault(
        (Reply.text(["Half an ", "answer"], drop_after=1),),
        ("The connection to Gemini was lost", "Retry"), "Half an ", "error", 1),
    "first byte very slow": Fault(
        (Reply.text(["Late, ", "but whole"], first_byte_delay=1.5),), (), "Late, but whole", "complete", 1),
    "429 with RetryInfo, then success": Fault(
        (Reply.quota(retry_delay="0.3s"), Reply.text(["After the wait"])), (), "After the wait", "complete", 2),
    "429 again and again": Fault(
        tuple(Reply.quota(retry_delay="0.05s") for _ in range(4)),
        ("quota for this key is used up", "Retry"), "", "error", 4),
    "500 then success": Fault((Reply.internal(), Reply.text(["Fine now"])), (), "Fine now", "complete", 2),
    "503 twice then success": Fault(
        (Reply.unavailable(), Reply.unavailable(), Reply.text(["Back"])), (), "Back", "complete", 3),
    "503 again and again": Fault(
        tuple(Reply.unavailable() for _ in range(4)), ("Gemini is overloaded", "Retry"), "", "error", 4),
    "400 API_KEY_INVALID": Fault(
        (Reply.invalid_key(),), ("API key was not accepted", "File → API key", "Retry"), "", "error", 1),
    "404 model not found": Fault(
        (Reply.model_not_found(MODEL),), (f"“{MODEL}” was not found", "Choose another model"), "", "error", 1),
    "403 model not allowed": Fault(
        (Reply.permission_denied(),), (f"may not use the model “{MODEL}”",), "", "error", 1),
    "finish reason SAFETY": Fault(
        (Reply.text(["Some text, then "], finish_reason="SAFETY"),),
        ("blocked by safety filters", "Retry"), "Some text, then ", "error", 1),
    "finish reason RECITATION": Fault(
        (Reply.text(["Quoted "], finish_reason="RECITATION"),), ("copyrighted source",), "Quoted ", "error", 1),
    "finish reason OTHER": Fault(
        (Reply.text(["Odd "], finish_reason="OTHER"),), ("stopped this answer early, and gave no reason",), "Odd ", "error", 1),
    "finish reason MAX_TOKENS": Fault(
        (Reply.text(["Long "], finish_reason="MAX_TOKENS"),), ("maximum length", "Continue"), "Long ",
        "interrupted", 1),
    "prompt blocked (promptFeedback.blockReason)": Fault(
        (Reply.blocked("PROHIBITED_CONTENT"),), ("declined to answer this message", "prohibited content"),
        "", "error", 1),
    "malformed event mid-stream": Fault(
        (Reply.text(["Good start ", "never seen"], malformed_after=1),),
        ("could not read", "Retry"), "Good start ", "error", 1),
    "empty answer": Fault((Reply.text([""]),), ("Gemini sent an empty answer", "Retry"), "", "error", 1),
}


@pytest.mark.parametrize("fault", list(FAULTS.values()), ids=list(FAULTS))
def test_network_and_api_faults_keep_the_text_say_why_and_the_next_message_works(
    fault: Fault, app: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path
) -> None:
    gemini.enqueue(*fault.replies)
    type_and_send(qtbot, app, "The question")
    wait_answer_done(qloop, app, timeout=15)
    shown = app.window.view.toPlainText()
    assert "The question" in shown and fault.kept.strip() in shown  # Markdown drops trailing spaces
    for words in fault.says:
        assert words in shown, f"{words!r} not shown in {shown!r}"
    assert rows(data_dir, "select text, status from messages where role = 'user'") == [("The question", "complete")]
    (text, status, error), = answer_rows(data_dir)
    assert (text, status) == (fault.kept, fault.status)
    if status == "error":
        assert error and error in shown  # the reason is saved with the answer, as shown
    assert streams(gemini) == fault.requests
    assert TEST_KEY not in shown
    next_message_is_answered(qloop, qtbot, app, data_dir)


def test_429_shows_that_it_waits_for_the_servers_delay_then_answers(
    app: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path
) -> None:
    gemini.enqueue(Reply.quota(retry_delay="1s"), Reply.text(["Worth the wait"]))
    started = time.monotonic()
    type_and_send(qtbot, app, "Busy?")
    seen = watch_activity(qloop, app, 5)
    wait_answer_done(qloop, app)
    assert time.monotonic() - started >= 1.0
    assert any("quota" in s and "Retrying in 1 s" in s for s in seen), seen
    assert answer_rows(data_dir) == [("Worth the wait", "complete", None)]


def test_stalled_stream_ends_after_the_read_timeout_set_in_settings(
    app: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path
) -> None:
    app.settings.read_timeout = 1.0
    app.window.settings_changed.emit()  # what the settings dialog does on OK
    assert app.backend is not None and app.backend.read_timeout == 1.0
    assert '"read_timeout": 1.0' in settings_path(data_dir).read_text()
    gemini.enqueue(Reply.text(["Before the stall ", "never"], stall_after=1, stall_seconds=30))
    ended_at: list[float] = []
    app.session.answer_ended.connect(lambda _answer: ended_at.append(time.monotonic()))
    type_and_send(qtbot, app, "Stall, please")
    run(qloop, until(lambda: "Before the stall" in app.window.view.toPlainText(), 5))
    wait_answer_done(qloop, app)
    # The one second of the setting, not the app's default of 5 (the message is made from the backend's
    # own value), and not before a second of silence: that began after the server took the request.
    assert "Gemini sent nothing for 1 s" in app.window.view.toPlainText()
    assert ended_at[0] - last_stream(gemini).received_at >= 1.0
    assert answer_rows(data_dir)[0][:2] == ("Before the stall ", "error")
    gemini.release()
    next_message_is_answered(qloop, qtbot, app, data_dir)


@pytest.mark.parametrize("when", ["mid-answer stall", "before the first byte", "waiting to retry a 429"])
def test_esc_stops_a_stalled_or_silent_answer_without_waiting_for_gemini(
    when: str, app: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path
) -> None:
    """Only Esc can end these answers while the test waits: the stall, the first byte and the retry are 20 s
    or more away, and the read timeout is set to a minute. How fast is not measured: a loaded machine
    decides that, not gemchat."""
    app.settings.read_timeout = 60.0
    app.window.settings_changed.emit()  # what the settings dialog does on OK
    if when == "mid-answer stall":
        gemini.enqueue(Reply.text(["Partial ", "never"], stall_after=1, stall_seconds=30))
        expected = "Partial "
    elif when == "before the first byte":
        gemini.enqueue(Reply.text(["never"], first_byte_delay=30))
        expected = ""
    else:
        gemini.enqueue(Reply.quota(retry_delay="20s"))
        expected = ""
    type_and_send(qtbot, app, "Go")
    if expected:
        run(qloop, until(lambda: expected.strip() in app.window.view.toPlainText(), 5))
    else:
        run(qloop, until(lambda: streams(gemini) == 1, 5))
    if when == "waiting to retry a 429":
        run(qloop, until(lambda: "Retrying in 20 s" in app.window.activity.text(), 5, "the wait shown"))
    qtbot.keyClick(app.window, Qt.Key.Key_Escape)
    wait_answer_done(qloop, app)
    assert "Stopped" in app.window.view.toPlainText()
    assert answer_rows(data_dir) == [(expected, "interrupted", None)]
    assert streams(gemini) == 1  # and nothing is retried after the stop
    gemini.release()
    next_message_is_answered(qloop, qtbot, app, data_dir)


# -- storage faults while the app runs ----------------------------------------------------------------
#
# Produced inside SQLite, on the app's own connection (through its database thread), since the tests
# run as root, for whom no file is read-only: `max_page_count` at the file's size is a full disk as
# SQLite reports it (SQLITE_FULL), `query_only` a read-only database (SQLITE_READONLY).

STORAGE_FAULTS = {
    "disk full": ("PRAGMA max_page_count = {pages}", "PRAGMA max_page_count = 1073741823"),
    "read-only": ("PRAGMA query_only = 1", "PRAGMA query_only = 0"),
}


def on_app_connection(qloop: Any, app: GemchatApp, pragma: str) -> None:
    def apply() -> None:
        conn = app.db.store._conn  # the app's one connection, on the one thread that uses it
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(pragma.format(pages=pages))

    run(qloop, app.db.run(apply))


def problems(app: GemchatApp) -> list[str]:
    """Every message the session sent to the status bar, from now on."""
    seen: list[str] = []
    app.session.problem.connect(seen.append)
    return seen


@pytest.mark.parametrize("fault", list(STORAGE_FAULTS), ids=list(STORAGE_FAULTS))
def test_an_answer_that_cannot_be_saved_stays_on_screen_says_so_once_and_leaves_no_gap(
    fault: str, app: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path
) -> None:
    break_it, mend_it = STORAGE_FAULTS[fault]
    type_and_send(qtbot, app, "First")
    wait_answer_done(qloop, app)
    said = problems(app)
    # Each more than a page, so a full disk cannot take it. In words, as answers come: one 10,000-letter
    # word takes the view seconds to lay out on a loaded machine, which is not what this test is about.
    chunks = [(letter * 9 + " ") * 1_000 for letter in "ABC"]
    gemini.enqueue(Reply.text(chunks, chunk_delay=0.3))
    type_and_send(qtbot, app, "Second")
    run(qloop, until(lambda: "AAAA" in app.window.view.toPlainText(), 5))
    on_app_connection(qloop, app, break_it)
    wait_answer_done(qloop, app)

    run(qloop, until(lambda: "could not be saved" in app.window.view.toPlainText(), 5, "the note shown"))
    shown = app.window.view.toPlainText()
    assert "".join(chunks).rstrip() in shown  # Markdown drops the trailing space
    # Once per answer, not per chunk (the chat's title, written in the background, may fail on its own).
    assert len([p for p in said if "answer could not be saved" in p]) == 1, said
    text, status, _error = answer_rows(data_dir)[-1]
    assert "".join(chunks).startswith(text)  # a beginning of the answer, never one with a hole
    assert status == "streaming"  # shown as cut off at the next start
    on_app_connection(qloop, app, mend_it)
    next_message_is_answered(qloop, qtbot, app, data_dir)


@pytest.mark.parametrize("fault", list(STORAGE_FAULTS), ids=list(STORAGE_FAULTS))
def test_a_question_that_cannot_be_saved_is_not_sent_and_comes_back_to_the_box(
    fault: str, app: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path
) -> None:
    break_it, mend_it = STORAGE_FAULTS[fault]
    type_and_send(qtbot, app, "First")
    wait_answer_done(qloop, app)
    # The chat's title is asked for after the first answer; its save must not meet the broken disk.
    run(qloop, until(lambda: len(app.session.tasks) == 0, what="the title saved"))
    before = rows(data_dir, "select id, text, status from messages order by id")
    said = problems(app)
    on_app_connection(qloop, app, break_it)
    question = "A long question " + "q" * 60_000  # too big for the pages left
    app.window.composer.setPlainText(question)
    qtbot.keyClick(app.window.composer, Qt.Key.Key_Return)
    run(qloop, until(lambda: said, 5, "the problem reported"))
    assert "Your message was not sent" in said[0]
    run(qloop, until(lambda: app.window.composer.toPlainText() == question, 5, "the text put back"))
    assert rows(data_dir, "select id, text, status from messages order by id") == before
    assert streams(gemini) == 1  # Gemini was not asked
    on_app_connection(qloop, app, mend_it)
    gemini.enqueue(Reply.text(["Got it."]))  # not an echo of 60,000 characters
    expect_answer(app)
    qtbot.keyClick(app.window.composer, Qt.Key.Key_Return)
    wait_answer_done(qloop, app)
    assert rows(data_dir, "select text from messages where role = 'user' order by id")[-1] == (question,)
    assert answer_rows(data_dir)[-1][1] == "complete"


def hold_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Another process's write transaction on the same file (another gemchat, `gemchat import`)."""
    started = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        started.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    started.wait(5)
    return thread


def test_a_database_briefly_locked_by_another_process_loses_nothing(
    app: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path
) -> None:
    said = problems(app)
    chunks = [f"w{i} " for i in range(30)]
    gemini.enqueue(Reply.text(chunks, chunk_delay=0.05))
    type_and_send(qtbot, app, "While another writer works")
    run(qloop, until(lambda: "w3" in app.window.view.toPlainText(), 5))
    holder = hold_write_lock(database_path(data_dir), 1.0)  # shorter than the 5 s busy timeout
    wait_answer_done(qloop, app)
    holder.join()
    assert said == []
    assert answer_rows(data_dir) == [("".join(chunks), "complete", None)]


def test_a_database_locked_for_longer_than_the_busy_timeout_says_so_and_keeps_the_question(
    app: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path
) -> None:
    on_app_connection(qloop, app, "PRAGMA busy_timeout = 300")  # the app waits 5 s; the same error, sooner
    said = problems(app)
    holder = hold_write_lock(database_path(data_dir), 1.5)
    qtbot.keyClicks(app.window.composer, "Locked out")
    qtbot.keyClick(app.window.composer, Qt.Key.Key_Return)
    run(qloop, until(lambda: said, 5, "the problem reported"))
    assert "not sent" in said[0] and "locked" in said[0]
    run(qloop, until(lambda: app.window.composer.toPlainText() == "Locked out", 5))
    holder.join()
    expect_answer(app)
    qtbot.keyClick(app.window.composer, Qt.Key.Key_Return)
    wait_answer_done(qloop, app)
    assert rows(data_dir, "select text, status from messages where role = 'user'") == [("Locked out", "complete")]


# -- what the app finds at start-up -------------------------------------------------------------------


def random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(7).randbytes(64 * 1024))


def garbage_pages(path: Path) -> None:
    """A real gemchat database whose first pages are intact and whose second half is noise."""
    store = ChatStore.open(path)
    chat = store.create_chat(MODEL, "Old chat")
    for i in range(150):
        store.add_message(chat.id, Role.USER, f"message {i} " * 40)
    store.close()
    data = bytearray(path.read_bytes())
    half = len(data) // 2
    data[half:] = random.Random(8).randbytes(len(data) - half)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [random_bytes, garbage_pages], ids=["random bytes", "valid header, garbage pages"])
def test_a_damaged_database_is_moved_aside_the_user_is_told_where_and_a_fresh_one_works(
    damage: Any, qloop: Any, gemini_env: FakeGemini, data_dir: Path, qtbot: Any
) -> None:
    data_dir.mkdir(parents=True)
    damage(database_path(data_dir))
    original = database_path(data_dir).read_bytes()
    app, task = start(qloop, qtbot, data_dir)
    try:
        aside = app.moved_aside
        assert aside is not None and re.fullmatch(r"gemchat\.db\.damaged-\d{8}-\d{6}", aside.name)
        assert aside.read_bytes() == original  # kept whole, for the user or a recovery tool
        notice = app.window.findChild(QMessageBox, "moved_aside_notice")
        run(qloop, until(lambda: notice.isVisible(), 3, "the notice shown"))
        assert str(aside) in notice.text() and "not deleted" in notice.text()
        assert str(aside) in app.window.statusBar().currentMessage()
        notice.accept()
        next_message_is_answered(qloop, qtbot, app, data_dir)
    finally:
        stop(qloop, app, task)


@pytest.fixture
def gui(qapp: Any, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """`run_gui` as `gemchat --data-dir DIR` calls it; returns (exit code, stderr). Restores logging and the loop."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level

    def start_gui(directory: Path) -> tuple[int, str]:
        code = run_gui(directory, None, None)
        return code, capsys.readouterr().err

    yield start_gui
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    policy = asyncio.get_event_loop_policy()
    loop = getattr(getattr(policy, "_local", None), "_loop", None)  # what run_gui left set, if anything
    if loop is not None:
        loop.close()
    asyncio.set_event_loop(None)


def test_a_database_from_a_newer_gemchat_is_refused_with_a_clear_message(gui: Any, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    ChatStore.open(database_path(data_dir)).close()
    with sqlite3.connect(database_path(data_dir)) as conn:
        conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    before = database_path(data_dir).read_bytes()
    code, err = gui(data_dir)
    assert code == 1
    assert "written by a newer gemchat" in err and "update gemchat" in err and "Traceback" not in err
    assert database_path(data_dir).read_bytes() == before
    assert not list(data_dir.glob("gemchat.db.*"))  # neither upgraded, backed up nor moved aside


def test_a_data_directory_held_by_a_gemchat_that_never_answers_is_refused_with_a_clear_message(
        gui: Any, data_dir: Path) -> None:
    held = lock_data_dir(data_dir)  # what the first gemchat holds while its window is open; nobody listens
    try:
        code, err = gui(data_dir)
    finally:
        assert held is not None
        held.close()
    assert code == 1
    # Nobody listens, and no socket is where this launch looks (a frozen one has its socket: "not responding").
    assert "is running with the data directory" in err and "did not open the socket this launch looks for" in err
    assert str(data_dir) in err and "--data-dir" in err and "Traceback" not in err
