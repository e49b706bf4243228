"""Bad input: blank and huge messages, and every kind of Unicode, from the box to the database and back.

Through the whole app and the command line, against the fake server.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextOption
from PySide6.QtWidgets import QApplication

from gemchat.app import GemchatApp
from gemchat.ui.composer import MAX_MESSAGE_CHARS, Composer
from tests.driving import last_stream, problems_reported, rows, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, Reply, last_user_text
from tests.test_faults import answer_rows, next_message_is_answered, start, stop
from tests.test_gemchat_process import ROOT, answer_row, app_env, wait_for


@pytest.fixture
def app(qloop: Any, gemini_env: FakeGemini, data_dir: Path, qtbot: Any) -> Iterator[GemchatApp]:
    gemchat, task = start(qloop, qtbot, data_dir)
    yield gemchat
    stop(qloop, gemchat, task)


def stored(text: str) -> str:
    """What gemchat keeps of a text: everything, a lone surrogate as U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


# -- blank and huge messages -------------------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(edits=st.lists(st.tuples(st.sampled_from(["type", "delete", "replace all"]), st.integers(0, 10_000),
                                st.integers(0, 40),
                                st.text(st.sampled_from(" \t\n\u00a0\u2028\u3000\x1cab.é"), max_size=80)),
                      max_size=15))
def test_send_is_enabled_exactly_when_the_box_holds_more_than_whitespace(qapp: Any, edits: list) -> None:
    """The composer tracks blankness from each change alone; it must agree with `str.strip`, as `send` does.

    "replace all" is how a starter, a question to edit, a chat's draft or a launch's prompt is put in the box
    (`setPlainText`): while Qt replaces the text, the box's own cursor is a null one."""
    box = Composer()
    states: list[bool] = []
    box.emptied.connect(states.append)
    for kind, where, length, text in edits:
        cursor = box.textCursor()
        size = box.document().characterCount() - 1
        cursor.setPosition(min(where, size))
        if kind == "replace all":
            box.put_text(text)
        elif kind == "type":
            cursor.insertText(text)
        else:
            cursor.setPosition(min(where + length, size), cursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
        expected = not box.toPlainText().strip()
        assert box.is_blank() == expected
        assert (states[-1] if states else True) == expected  # what the Send button follows
    box.deleteLater()


def test_whitespace_only_paste_leaves_send_disabled(app: GemchatApp, gemini: FakeGemini, qloop: Any,
                                                     qtbot: Any, data_dir: Path) -> None:
    """In a chat with history, Enter on pasted blanks sends nothing, saves nothing and breaks nothing.

    A refused send leaves no event to wait for, so the next question is the proof:
    sends are handled in order, and once it is answered it must be the only new
    question on the wire (its history included) and in the database.
    """
    problems = problems_reported(app)
    type_and_send(qtbot, app, "first question")
    wait_answer_done(qloop, app)
    blanks = " \n\t\u3000\n   "
    QApplication.clipboard().setText(blanks)
    qtbot.keyClick(app.window.composer, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert app.window.composer.toPlainText() == blanks
    assert not app.window.send_button.isEnabled()
    qtbot.keyClick(app.window.composer, Qt.Key.Key_Return)
    assert app.window.composer.toPlainText() == blanks  # refused, not sent and cleared
    assert not app.session.send(blanks)  # the session's own door (a command-line prompt) refuses them too
    app.window.composer.selectAll()
    type_and_send(qtbot, app, "second question")
    wait_answer_done(qloop, app)
    assert [last_user_text(r) for r in gemini.requests if r.kind == "stream"] == ["first question", "second question"]
    assert [(c["role"], next(p["text"] for p in c["parts"] if not p.get("thought")))
            for c in last_stream(gemini).body["contents"]] == [
        ("user", "first question"), ("model", "You said: first question"), ("user", "second question")]
    assert rows(data_dir, "select text from messages where role = 'user' order by id") == [
        ("first question",), ("second question",)]
    assert problems == []


def test_a_5_mb_paste_is_refused_at_once_with_the_reason(app: GemchatApp, qloop: Any, qtbot: Any) -> None:
    line = "A line of a very long log file, pasted by mistake or on purpose.\n"
    QApplication.clipboard().setText((line * (5_000_000 // len(line) + 1))[:5_000_000])
    refused: list[str] = []
    app.window.composer.refused.connect(refused.append)
    added: list[int] = []
    app.window.composer.document().contentsChange.connect(lambda _at, _removed, count: added.append(count))
    qtbot.keyClick(app.window.composer, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    # At once: refused inside the key press, before any of it reached the box for Qt to lay out (how
    # long that takes, beside a plain QPlainTextEdit, is benchmarks/paste.py's first row).
    assert added == []
    assert app.window.composer.toPlainText() == "" and not app.window.send_button.isEnabled()
    assert refused == [f"Not pasted: that text has 5,000,000 characters and a message can have at most "
                       f"{MAX_MESSAGE_CHARS:,}. Paste a shorter part."]
    assert app.window.statusBar().currentMessage() == refused[0]


def test_a_large_paste_under_the_limit_is_accepted_can_be_typed_into_and_is_sent_whole(
    app: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path
) -> None:
    """What a keystroke costs with such a text in the box is timed by benchmarks/paste.py, beside Qt's own box."""
    line = "0123456789 abcdefghij ÄÖÜ äöü — 👍\n"
    big = (line * (400_000 // len(line) + 1))[:400_000]
    QApplication.clipboard().setText(big)
    composer = app.window.composer
    qtbot.keyClick(composer, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert composer.toPlainText() == big and app.window.send_button.isEnabled()
    qtbot.keyClicks(composer, " and more")
    assert composer.toPlainText() == big + " and more"
    for _ in range(9):
        qtbot.keyClick(composer, Qt.Key.Key_Backspace)
    assert composer.toPlainText() == big
    gemini.enqueue(Reply.text(["Got all of it."]))
    app._expected_answers = 1  # type: ignore[attr-defined]
    qtbot.keyClick(composer, Qt.Key.Key_Return)
    wait_answer_done(qloop, app, timeout=30)
    assert rows(data_dir, "select text from messages where role = 'user'") == [(big,)]
    assert last_user_text(last_stream(gemini)) == big
    next_message_is_answered(qloop, qtbot, app, data_dir)


def test_a_long_line_without_spaces_is_wrapped_anywhere_so_pasting_and_typing_stay_quick(
    app: GemchatApp, qloop: Any, qtbot: Any
) -> None:
    """Minified JSON or base64: Qt's word-break search is quadratic in such a line (0.4 s for this one).

    Wrapping anywhere is what keeps it quick; the times, beside a plain QPlainTextEdit, are
    benchmarks/paste.py's "100,000 characters on one line" rows.
    """
    composer = app.window.composer
    QApplication.clipboard().setText("eyJhbGciOiJIUzI1NiJ9" * 5_000)  # 100,000 characters, no space
    qtbot.keyClick(composer, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert len(composer.toPlainText()) == 100_000
    assert composer.wordWrapMode() == QTextOption.WrapMode.WrapAnywhere
    qtbot.keyClicks(composer, "abc")
    assert composer.toPlainText().endswith("J9abc") and composer.wordWrapMode() == QTextOption.WrapMode.WrapAnywhere
    composer.clear()
    assert composer.wordWrapMode() == QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere  # words again


# -- every kind of Unicode ---------------------------------------------------------------------------

PIECES = {
    "NUL": "before\x00after",
    "right-to-left": "שלום עולם · مرحبا بالعالم",
    "mixed direction": "abc \u202eRLO override\u202c def \u2067isolate\u2069",
    "combining": "e\u0301 a\u0308\u0301 Z\u0351\u0324\u0358",
    "emoji": "👩🏽‍💻 🇫🇷 👍🏿 1️⃣ 🏳️‍🌈",
    "astral and CJK": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 漢字 かな",
    "control and format": "tab\there zero\u200bwidth soft\u00adhyphen bell\x07",
}
TYPED = " | ".join(f"{name}: {text}" for name, text in PIECES.items())
LONE = "lone \ud800 and \udcff surrogates"  # what a bad clipboard or a non-UTF-8 argv hands over


def gemchat_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "gemchat", *args], env=env, cwd=ROOT, input=stdin,
                          capture_output=True, text=True, encoding="utf-8", timeout=60)


def test_any_unicode_round_trips_through_send_storage_the_wire_export_and_import(
    app: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path, tmp_path: Path
) -> None:
    composer = app.window.composer
    composer.setPlainText(TYPED)  # typed or pasted: the box keeps NUL, marks and emoji as they are
    app._expected_answers = 1  # type: ignore[attr-defined]
    qtbot.keyClick(composer, Qt.Key.Key_Return)
    wait_answer_done(qloop, app)
    assert app.session.send(TYPED + " " + LONE)  # the session's own door: the CLI prompt, an edit
    app._expected_answers = 2  # type: ignore[attr-defined]
    wait_answer_done(qloop, app)

    questions = [TYPED, stored(TYPED + " " + LONE)]
    assert rows(data_dir, "select text from messages where role = 'user' order by id") == [(q,) for q in questions]
    assert last_user_text(last_stream(gemini)) == questions[1]  # what went over the wire
    assert [a[:2] for a in answer_rows(data_dir)] == [(f"You said: {q}", "complete") for q in questions]
    shown = app.window.view.toPlainText()
    for name in ("right-to-left", "emoji", "astral and CJK"):
        assert PIECES[name] in shown
    next_message_is_answered(qloop, qtbot, app, data_dir)

    # The command line reads the same file while the window still runs (WAL lets both in).
    exported = gemchat_cli("export", "--data-dir", str(data_dir))
    assert exported.returncode == 0, exported.stderr
    chats = json.loads(exported.stdout)
    texts = [m["text"] for m in chats[0]["messages"]]
    assert texts[:4] == [questions[0], f"You said: {questions[0]}", questions[1], f"You said: {questions[1]}"]
    markdown = gemchat_cli("export", "--format", "markdown", "--data-dir", str(data_dir))
    assert markdown.returncode == 0 and PIECES["right-to-left"] in markdown.stdout and "\x00" in markdown.stdout

    file = tmp_path / "export.json"
    file.write_text(exported.stdout, encoding="utf-8")
    other = tmp_path / "other"
    imported = gemchat_cli("import", "--data-dir", str(other), str(file))
    assert imported.returncode == 0, imported.stderr
    again = json.loads(gemchat_cli("export", "--data-dir", str(other)).stdout)
    assert [m["text"] for m in again[0]["messages"]] == texts
    assert again[0]["title"] == chats[0]["title"]


def test_a_prompt_with_bytes_that_are_not_utf8_on_the_command_line_is_kept_not_a_crash(
    gemini: FakeGemini, tmp_path: Path
) -> None:
    """A shell can pass any bytes; Python turns the bad ones into lone surrogates (surrogateescape)."""
    data_dir = tmp_path / "data"
    env = app_env(gemini, QT_QPA_PLATFORM="offscreen")
    with subprocess.Popen([sys.executable.encode(), b"-m", b"gemchat", b"--data-dir", str(data_dir).encode(),
                           b"caf\xe9 \xff na\xc3\xafve"], env=env, cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        try:
            wait_for(lambda: (r := answer_row(data_dir)) and r[1] == "complete", 30, "the answer")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    assert "Traceback" not in output, output
    question = "caf\ufffd \ufffd naïve"
    assert rows(data_dir, "select text from messages where role = 'user'") == [(question,)]
    assert answer_row(data_dir) == (f"You said: {question}", "complete")
