"""Driving the real app as a user does: type, press Enter, wait for the answer, read the database.

Shared by the window tests; the `live` fixture in conftest.py starts the app.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from gemchat.app import GemchatApp
from gemchat.paths import database_path
from gemchat.ui.chat_view import ChatView
from tests.conftest import run, until
from tests.fakes.gemini_server import FakeGemini, RecordedRequest


def rows(data_dir: Path, sql: str, params: tuple = ()) -> list[tuple]:
    with sqlite3.connect(database_path(data_dir)) as conn:
        return conn.execute(sql, params).fetchall()


def last_stream(gemini: FakeGemini) -> RecordedRequest:
    """The last streamed request (chat titles are asked for with separate, non-streaming calls)."""
    return [r for r in gemini.requests if r.kind == "stream"][-1]


def answers_ended(app: GemchatApp) -> list[object]:
    """Every answer that has ended since the app started, from the session's own signal."""
    if not hasattr(app, "_ended"):
        ended: list[object] = []
        app._ended = ended  # type: ignore[attr-defined]
        app.session.answer_ended.connect(ended.append)
    return app._ended  # type: ignore[attr-defined]


def problems_reported(app: GemchatApp) -> list[str]:
    """Every problem the session reported for the status bar (a failed action, a crashed task)
    since the first call; call it before acting, so nothing goes unseen."""
    if not hasattr(app, "_problems"):
        problems: list[str] = []
        app._problems = problems  # type: ignore[attr-defined]
        app.session.problem.connect(problems.append)
    return app._problems  # type: ignore[attr-defined]


def expect_answer(app: GemchatApp) -> None:
    """The next `wait_answer_done` waits for one more answer than has ended so far."""
    app._expected_answers = len(answers_ended(app)) + 1  # type: ignore[attr-defined]


def press(qtbot, app: GemchatApp, sequence: str) -> None:
    """Presses a key sequence as a user would, on whatever has the focus in the window."""
    combo = QKeySequence(sequence)[0]
    target = QApplication.focusWidget() or app.window
    qtbot.keyClick(target, combo.key(), combo.keyboardModifiers())


def type_and_send(qtbot, app: GemchatApp, text: str) -> None:
    """Types `text` and presses Enter; `wait_answer_done` then waits for the answer it asks for."""
    expect_answer(app)
    if text.isascii():
        qtbot.keyClicks(app.window.composer, text)
    else:  # QTest cannot synthesize keys for every character; it arrives as an input method would
        app.window.composer.insertPlainText(text)
    qtbot.keyClick(app.window.composer, Qt.Key.Key_Return)


def wait_answer_done(qloop, app: GemchatApp, timeout: float = 10) -> None:
    expected = getattr(app, "_expected_answers", 1)
    ended = answers_ended(app)
    run(qloop, until(lambda: len(ended) >= expected and app.window.view.answer_id is None,
                     timeout, "answer finished"), timeout + 5)


def in_viewport(view: ChatView, text: str) -> bool:
    """Whether the first paragraph of the view whose text is exactly `text` is wholly in sight.

    What a user sees is the viewport, not the document: a message rendered but
    scrolled away does not count.
    """
    layout = view.document().documentLayout()
    scrolled = view.verticalScrollBar().value()
    block = view.document().begin()
    while block.isValid():
        if block.text() == text:
            rect = layout.blockBoundingRect(block)
            top = rect.top() - scrolled
            return top >= 0 and top + rect.height() <= view.viewport().height()
        block = block.next()
    return False
