"""The conversation view: incremental appends, safe text, links, following the stream."""

from __future__ import annotations

import sys

from PySide6.QtCore import QUrl

from gemchat.core.messages import Message, Role, Status
from gemchat.ui.chat_view import ChatView


def message(mid: int, role: Role, text: str, status: Status = Status.COMPLETE, error: str | None = None) -> Message:
    return Message(id=mid, chat_id=1, role=role, text=text, status=status, created_at="", error=error)


def test_twenty_thousand_chunks_keep_none_alive(qtbot) -> None:
    """PySide6 6.12.0 dropped a reference to None per void call and aborted mid-stream.

    This is the guard for the <6.12 pin: lift the pin only when this passes.
    Rendering is coalesced to once a frame, so each batch waits for a frame:
    the void calls of rendering (insertFragment, removeSelectedText, ...) count too.
    """
    view = ChatView()
    qtbot.addWidget(view)
    view.begin_answer(1)
    for _ in range(200):  # warm up caches so they do not count
        view.append_to_answer("w")
    before = sys.getrefcount(None)
    for batch in range(40):  # checked in batches so a leak fails the test before it aborts Python
        for i in range(500):
            view.append_to_answer(f"{i % 10}")
            view.verticalScrollBar().setValue(0)
        lost = before - sys.getrefcount(None)
        assert lost < 50, f"None lost {lost} references after {(batch + 1) * 500} chunks"
    qtbot.waitUntil(lambda: view.toPlainText().endswith("0123456789"), timeout=2000)


def test_streamed_text_is_appended_where_the_answer_is(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.show_messages([message(1, Role.USER, "Hi?")])
    view.begin_answer(2)
    for piece in ["Hel", "lo ", "there"]:
        view.append_to_answer(piece)
    view.end_answer(message(2, Role.MODEL, "Hello there"))
    assert view.toPlainText() == "You\nHi?\nGemini\nHello there"


def test_html_in_an_answer_is_shown_as_text(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.begin_answer(1)
    evil = '<script>alert(1)</script><img src="http://example.invalid/x.png"><a href="javascript:x">y</a>'
    view.append_to_answer(evil)
    assert evil in view.toPlainText()
    assert "<img" not in view.toHtml().replace("&lt;img", "")


def test_error_answer_shows_reason_and_a_retry_link(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.show_messages([
        message(1, Role.USER, "Q"),
        message(2, Role.MODEL, "partial", Status.ERROR, "The connection to Gemini was lost."),
    ])
    assert "partial" in view.toPlainText()
    assert "The connection to Gemini was lost." in view.toPlainText()
    with qtbot.waitSignal(view.retry_requested) as blocker:
        view.anchorClicked.emit(QUrl("gemchat:retry/2"))
    assert blocker.args == [2]


def test_interrupted_answer_says_it_was_stopped(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.show_messages([message(1, Role.USER, "Q"), message(2, Role.MODEL, "half", Status.INTERRUPTED)])
    assert "Stopped" in view.toPlainText()


def test_unsafe_link_schemes_are_not_opened(qtbot, monkeypatch) -> None:
    from PySide6.QtGui import QDesktopServices

    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toString())))
    view = ChatView()
    qtbot.addWidget(view)
    for url in ("javascript:alert(1)", "file:///etc/passwd", "https://ai.google.dev/", "mailto:a@b.c"):
        view.anchorClicked.emit(QUrl(url))
    assert opened == ["https://ai.google.dev/", "mailto:a@b.c"]


def test_view_follows_the_stream_until_the_user_scrolls_up(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    view.begin_answer(1)
    for i in range(200):
        view.append_to_answer(f"line {i}\n\n")
    bar = view.verticalScrollBar()
    qtbot.waitUntil(lambda: "line 199" in view.toPlainText())
    assert bar.maximum() > 0 and bar.value() == bar.maximum()
    bar.triggerAction(bar.SliderAction.SliderPageStepSub)
    held = bar.value()
    assert not view.following
    for i in range(100):
        view.append_to_answer(f"more {i}\n\n")
    qtbot.waitUntil(lambda: "more 99" in view.toPlainText())
    assert bar.value() == held
    view.scroll_to_bottom()
    view.append_to_answer("end\n")
    qtbot.waitUntil(lambda: "end" in view.toPlainText())
    assert bar.value() == bar.maximum()
