"""An answer's thoughts: one collapsed line above it, opened on click."""

from __future__ import annotations

from PySide6.QtCore import QUrl

from gemchat.core.messages import Role
from gemchat.ui.chat_view import ChatView
from tests.ui.chat_view.helpers import message


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
