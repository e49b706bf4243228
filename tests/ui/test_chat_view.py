"""The conversation view: Markdown as it streams, safe text, links, copying, following the stream."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import HealthCheck, given, settings, strategies as st
from PySide6.QtCore import QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QImage, QTextDocument, QWheelEvent

from gemchat.core.markdown import DARK, LIGHT
from gemchat.core.messages import Message, Role, Status
from gemchat.ui.chat_view import ChatView
from gemchat.ui.theme import apply_theme
from tests.core.test_markdown import markdown_text
from tests.driving import in_viewport


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
    qtbot.waitUntil(lambda: evil in view.toPlainText(), timeout=2000)
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


# -- Markdown ------------------------------------------------------------------------------


def structure(document: QTextDocument) -> list[tuple]:
    """What a reader sees of a document: each block's text, layout and list, each fragment's look."""
    blocks = []
    block = document.begin()
    while block.isValid():
        fmt = block.blockFormat()
        text_list = block.textList()
        fragments = []
        it = block.begin()
        while not it.atEnd():
            char = it.fragment().charFormat()
            fragments.append((it.fragment().text(), char.foreground().color().name(), char.fontWeight(),
                              char.fontItalic(), char.anchorHref(), char.background().color().name()))
            it += 1
        blocks.append((
            fmt.topMargin(), fmt.bottomMargin(), fmt.leftMargin(), fmt.indent(), fmt.headingLevel(),
            fmt.nonBreakableLines(), fmt.background().color().name(),
            text_list.format().style() if text_list else None,
            text_list.itemNumber(block) if text_list else None,
            bool(block.document().frameAt(block.position()) is not document.rootFrame()),
            fragments,
        ))
        block = block.next()
    return blocks


def one_shot(qtbot, text: str) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    view.show_messages([message(1, Role.USER, "q"), message(2, Role.MODEL, text)])
    view.load_all()  # a long answer fills the opening budget: the question is rendered on scrolling up
    return view


def streamed(qtbot, text: str, cuts: list[int]) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    view.show_messages([message(1, Role.USER, "q")])
    view.begin_answer(2)
    previous = 0
    for cut in [*cuts, len(text)]:
        view.append_to_answer(text[previous:cut])
        view.render_pending()  # one frame per piece: the most re-rendering a stream can cause
        previous = cut
    view.end_answer(message(2, Role.MODEL, text))
    return view


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


def test_tables_and_nested_lists_are_rendered(qtbot) -> None:
    view = one_shot(qtbot, "| Name | Size |\n|---|--:|\n| a | 1 |\n\n1. one\n   - inner\n2. two\n")
    text = view.toPlainText()
    assert "Name\nSize\na\n1" in text
    tables = [f for f in view.document().rootFrame().childFrames() if f.__class__.__name__ == "QTextTable"]
    assert len(tables) == 1 and (tables[0].rows(), tables[0].columns()) == (2, 2)
    numbered = [b for b in _blocks(view) if b.textList() and b.text() in ("one", "two")]
    assert [b.textList().itemText(b) for b in numbered] == ["1.", "2."]
    inner = next(b for b in _blocks(view) if b.text() == "inner")
    assert inner.textList().format().indent() > numbered[0].textList().format().indent()


def test_a_code_fence_is_code_while_it_streams_and_after_it_closes(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.begin_answer(1)
    view.append_to_answer("Run this:\n\n```python\nprint('hi')\n")
    view.render_pending()
    code = next(b for b in _blocks(view) if b.text() == "print('hi')")
    assert code.blockFormat().nonBreakableLines()  # already shown as code, before the fence closes
    view.append_to_answer("x = 1\n``")
    view.render_pending()
    view.append_to_answer("`\n\nDone.")
    view.end_answer(message(1, Role.MODEL, "Run this:\n\n```python\nprint('hi')\nx = 1\n```\n\nDone."))
    text = view.toPlainText()
    assert "print('hi')\nx = 1\nDone." in text and "```" not in text
    assert not next(b for b in _blocks(view) if b.text() == "Done.").blockFormat().nonBreakableLines()


def test_the_copy_link_of_a_code_block_copies_its_source(qtbot) -> None:
    view = one_shot(qtbot, "```bash\necho one\n```\n\ntext\n\n```\necho two\n```\n")
    links = [f for b in _blocks(view) for f in _fragments(b) if f.charFormat().anchorHref().startswith("gemchat:copy")]
    assert [f.text() for f in links] == ["Copy", "Copy"]
    view.anchorClicked.emit(QUrl(links[1].charFormat().anchorHref()))
    assert QGuiApplication.clipboard().text() == "echo two\n"
    assert view.last_code_block() == "echo two\n"


def test_an_answer_copies_as_its_markdown_source(qtbot) -> None:
    view = one_shot(qtbot, "# Title\n\n*emphasis*")
    assert view.answer_markdown(2) == "# Title\n\n*emphasis*"
    assert view.answer_markdown(1) is None  # a question is not an answer
    view.begin_answer(3)
    view.append_to_answer("**streaming** now")
    assert view.last_answer_markdown() == "**streaming** now"
    point = view.cursorRect(view.textCursor()).center()
    assert view.message_at(QPoint(point.x(), 5)) is not None


def test_user_messages_stay_plain_text(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.show_messages([message(1, Role.USER, "**not bold** <b>x</b>\n# not a heading")])
    assert view.toPlainText() == "You\n**not bold** <b>x</b>\n# not a heading"


def test_images_are_links_and_nothing_is_fetched(qtbot, tmp_path) -> None:
    """An image in an answer could be a tracker or a local file: it is shown as a link, and even
    when painted the view reads nothing, from the network or the disk."""
    picture = tmp_path / "chart.png"
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.red)
    assert image.save(str(picture))
    local = QUrl.fromLocalFile(str(picture))
    view = one_shot(qtbot, f"![a chart](https://example.com/chart.png) and ![a file]({local.toString()})")
    view.show()
    qtbot.waitExposed(view)
    view.grab()  # lays out and paints the whole answer: any image would be loaded now
    fragments = [f for b in _blocks(view) for f in _fragments(b)]
    assert not any(f.charFormat().isImageFormat() for f in fragments)
    link = next(f for f in fragments if f.text() == "a chart")
    assert link.charFormat().anchorHref() == "https://example.com/chart.png"
    # Asked for the picture's bytes outright, as Qt would for an image that slipped in: none.
    for url in (local, QUrl("https://example.com/chart.png")):
        assert not view.document().resource(QTextDocument.ResourceType.ImageResource, url)


def test_thoughts_show_collapsed_above_the_answer_and_expand_on_click(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.begin_answer(5)
    view.add_thought("**Weighing options**\n\nThe user wants a short answer.")
    view.append_to_answer("The answer.")
    view.render_pending()
    assert view.toPlainText() == "Gemini\n▸ Thoughts  Weighing options\nThe answer."
    view.anchorClicked.emit(QUrl("gemchat:toggle-thoughts/5"))
    assert "The user wants a short answer." in view.toPlainText()
    assert view.toPlainText().endswith("The answer.")
    view.end_answer(message(5, Role.MODEL, "The answer."))
    view.anchorClicked.emit(QUrl("gemchat:toggle-thoughts/5"))
    assert view.toPlainText() == "Gemini\n▸ Thoughts  Weighing options\nThe answer."


def test_a_dark_palette_restyles_the_shown_answers(qtbot) -> None:
    view = one_shot(qtbot, "```python\nprint(1)\n```")

    def code_background() -> str:
        block = next(b for b in _blocks(view) if b.text() == "print(1)")
        return block.blockFormat().background().color().name()

    assert code_background() == LIGHT.code_background
    try:
        apply_theme("dark")
        qtbot.waitUntil(lambda: code_background() == DARK.code_background, timeout=2000)
        assert "print(1)" in view.toPlainText()
    finally:
        apply_theme("light")
        qtbot.waitUntil(lambda: code_background() == LIGHT.code_background, timeout=2000)
        apply_theme("system")


def test_the_window_does_not_load_markdown_before_it_is_shown() -> None:
    code = ("import sys, gemchat.ui.main_window; "
            "assert 'markdown_it' not in sys.modules and 'pygments' not in sys.modules, 'loaded early'")
    subprocess.run([sys.executable, "-c", code], check=True)


def _blocks(view: ChatView) -> list:
    blocks, block = [], view.document().begin()
    while block.isValid():
        blocks.append(block)
        block = block.next()
    return blocks


def _fragments(block) -> list:
    out, it = [], block.begin()
    while not it.atEnd():
        out.append(it.fragment())
        it += 1
    return out


# -- opening long chats -----------------------------------------------------------------------


def long_chat(count: int) -> list[Message]:
    return [message(i, Role.USER if i % 2 else Role.MODEL, f"message number {i}\n\nwith a second paragraph")
            for i in range(1, count + 1)]


def test_opening_a_long_chat_shows_the_latest_messages_and_loads_older_ones_on_scrolling_up(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    view.show_messages(long_chat(2000))
    qtbot.wait(20)
    assert "message number 2000" in view.toPlainText()
    assert "message number 1\n" not in view.toPlainText()  # not rendered yet: the first paint is quick
    bar = view.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0
    bar.triggerAction(bar.SliderAction.SliderToMinimum)
    top_text = view.cursorForPosition(QPoint(10, 10)).block().text()
    qtbot.waitUntil(lambda: view.cursorForPosition(QPoint(10, 10)).block().text() != "" and bar.value() > 0)
    assert view.cursorForPosition(QPoint(10, 10)).block().text() == top_text  # what was seen stays in place
    view.scroll_to_message(2)
    assert "message number 2\n" in view.toPlainText()


def test_a_search_hit_in_an_unrendered_part_is_rendered_and_shown(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    view.show_messages(long_chat(300))
    view.scroll_to_message(7)
    assert not view.following
    assert view.message_at(QPoint(30, 30)) == (7, Role.USER)  # message 7 is at the top, not 6 or 9
    assert in_viewport(view, "message number 7")
    qtbot.wait(50)  # older messages rendered above meanwhile must not move it
    assert view.message_at(QPoint(30, 30)) == (7, Role.USER)


# -- following the stream -----------------------------------------------------------------------


def streaming_view(qtbot, lines: int = 120) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    view.begin_answer(1)
    view.append_to_answer("".join(f"Paragraph {i}.\n\n" for i in range(lines)))
    view.render_pending()
    qtbot.wait(10)
    return view


def wheel(view: ChatView, steps: int) -> None:
    """Turns the mouse wheel over the view (positive: up, away from the newest text)."""
    center = QPointF(view.viewport().rect().center())
    event = QWheelEvent(center, view.viewport().mapToGlobal(center), QPoint(), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    view.wheelEvent(event)


def test_following_stops_when_the_user_scrolls_up_and_the_jump_button_appears(qtbot) -> None:
    view = streaming_view(qtbot)
    bar = view.verticalScrollBar()
    assert view.following and bar.value() == bar.maximum() and not view.jump_button.isVisible()
    wheel(view, 3)
    assert not view.following and view.jump_button.isVisible()
    held = bar.value()
    for i in range(30):
        view.append_to_answer(f"More {i}. ")  # the same paragraph: the tail is re-rendered each time
        view.render_pending()
    view.append_to_answer("\n\nA new paragraph.")
    view.render_pending()
    qtbot.wait(10)
    assert bar.value() == held  # re-rendering below never yanks the reader
    assert view.jump_button.geometry().bottom() <= view.viewport().geometry().bottom()
    qtbot.mouseClick(view.jump_button, Qt.MouseButton.LeftButton)
    assert view.following and bar.value() == bar.maximum() and not view.jump_button.isVisible()
    view.append_to_answer("\n\nStill following.")
    view.render_pending()
    qtbot.wait(10)
    assert bar.value() == bar.maximum()


def test_scrolling_back_to_the_bottom_or_pressing_end_resumes_following(qtbot) -> None:
    view = streaming_view(qtbot)
    bar = view.verticalScrollBar()
    wheel(view, 2)
    assert not view.following
    wheel(view, -50)
    assert view.following and not view.jump_button.isVisible()
    wheel(view, 2)
    assert not view.following
    qtbot.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert view.following and bar.value() == bar.maximum()
    wheel(view, 2)
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert view.following
