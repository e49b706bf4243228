"""A streaming answer: where its text goes, and that it ends exactly as the same answer opened whole."""

from __future__ import annotations

import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemchat.core.messages import Role
from gemchat.ui.chat_view import ChatView
from gemchat.ui.chat_view.blocks import CODE
from tests.core.test_markdown import markdown_text
from tests.ui.chat_view.helpers import blocks_of, message, one_shot, streamed, structure


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


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_a_streamed_answer_ends_exactly_as_the_same_answer_opened_whole(qtbot, data: st.DataObject) -> None:
    text = data.draw(markdown_text)
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=12))))
    whole, pieces = one_shot(qtbot, text), streamed(qtbot, text, cuts)
    assert pieces.toPlainText() == whole.toPlainText()
    assert structure(pieces.document()) == structure(whole.document())


def test_a_long_answer_in_forty_character_chunks_matches_the_one_shot_render(qtbot) -> None:
    sys.path.insert(0, "benchmarks")
    from _corpus import answer

    text = answer(20_000, seed=2)
    cuts = list(range(40, len(text), 40))
    assert structure(streamed(qtbot, text, cuts).document()) == structure(one_shot(qtbot, text).document())


def test_a_code_fence_is_code_while_it_streams_and_after_it_closes(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.begin_answer(1)
    view.append_to_answer("Run this:\n\n```python\nprint('hi')\n")
    view.render_pending()
    code = next(b for b in blocks_of(view) if b.text() == "print('hi')")
    assert code.blockFormat().hasProperty(CODE)  # already a code card's line, before the fence closes
    view.append_to_answer("x = 1\n``")
    view.render_pending()
    view.append_to_answer("`\n\nDone.")
    view.end_answer(message(1, Role.MODEL, "Run this:\n\n```python\nprint('hi')\nx = 1\n```\n\nDone."))
    text = view.toPlainText()
    assert "print('hi')\nx = 1\nDone." in text and "```" not in text
    assert not next(b for b in blocks_of(view) if b.text() == "Done.").blockFormat().hasProperty(CODE)
