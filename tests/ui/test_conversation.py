"""The conversation view is made after the window's first frame (`gemchat.ui.conversation`): nothing of it shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from gemchat.app import build_window
from gemchat.paths import settings_path
from gemchat.ui.chat_view import ChatView
from gemchat.ui.theme import apply_theme


def test_the_first_frame_painted_before_the_conversation_is_made_looks_as_it_does_once_it_is(
        qtbot: Any, data_dir: Path) -> None:
    """The surface that holds the conversation's place paints what the empty view then paints, in both themes;
    and the message box's card, as wide as the conversation's column, stays as wide (at 150 % it was 800 px
    once the view came, not 1,200: the view took the text size after the card was fitted to it)."""
    def frames(theme: str, text_zoom: int) -> tuple[QImage, QImage]:
        settings_path(data_dir).parent.mkdir(parents=True, exist_ok=True)
        settings_path(data_dir).write_text(json.dumps({"theme": theme, "text_zoom": text_zoom}))
        window = build_window(data_dir)  # in that theme and text size
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(window.composer.hasFocus, timeout=2000)  # its card's border and caret: the same in both
        QApplication.processEvents()  # the status bar's layout
        assert not window.findChildren(ChatView), "made before the first frame"
        before = window.grab().toImage()
        window.build_conversation()
        QApplication.processEvents()
        assert window.view.isVisible() and window.view.document().isEmpty()
        after = window.grab().toImage()
        window.allow_close()
        window.close()
        return before, after

    flash = QApplication.cursorFlashTime()
    QApplication.setCursorFlashTime(0)  # the caret does not blink between the two pictures
    try:
        for theme, text_zoom in (("light", 100), ("dark", 100), ("light", 150), ("dark", 80)):
            before, after = frames(theme, text_zoom)
            dark = before.pixelColor(900, 400).lightness() < 128
            assert dark == (theme == "dark")
            assert before == after, f"the first frame differs once the conversation is made ({theme}, {text_zoom} %)"
    finally:
        QApplication.setCursorFlashTime(flash)
        apply_theme("light")


def test_using_the_conversation_before_the_first_frame_makes_it_once_in_the_surfaces_place(
        qtbot: Any, data_dir: Path) -> None:
    """What tests and later code reach for (`window.view`, `presenter`, ...) is there when asked for."""
    window = build_window(data_dir)
    qtbot.addWidget(window)
    view = window.view
    assert window.presenter is not None and window.view_options is not None and window.message_sender is not None
    assert window.view is view and window.findChildren(ChatView) == [view]
    window.show()
    qtbot.waitExposed(window)
    window.build_conversation()  # a second time: nothing more is made
    assert window.findChildren(ChatView) == [view] and view.isVisible()
    window.allow_close()
    window.close()


def test_typing_before_the_conversation_is_made_leaves_it_to_the_start_up_thread_and_warms_it_up_once_made(
        qtbot: Any, data_dir: Path, monkeypatch: Any) -> None:
    """A key in the first instant does not make the view on the UI thread (its modules would be imported there
    while the start-up thread imports others); Markdown is prepared for the answer once the view is made."""
    import gemchat.ui.chat_view.markdown_warm_up as warm_up_module

    prepared: list[bool] = []
    monkeypatch.setattr(warm_up_module, "_prepare", prepared.append)
    window = build_window(data_dir)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.keyClicks(window.composer, "Hello")
    qtbot.wait(2 * warm_up_module.WARM_AFTER_MS)
    assert window.findChildren(ChatView) == [] and prepared == []
    window.build_conversation()
    qtbot.waitUntil(lambda: prepared == [False], timeout=2000)
    window.allow_close()
    window.close()

