"""The search dialog's results: what each row shows, what a screen reader reads of it, and the keys."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QColor, QImage, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from gemchat.core.messages import MATCH_END, MATCH_START, Role, SearchHit
from gemchat.ui.search_dialog import SearchDialog
from gemchat.ui.search_results import SNIPPET_LINES, heading, marked


def hit(n: int, snippet: str, role: Role | None = Role.USER, title: str = "Trip to Lisbon") -> SearchHit:
    return SearchHit(n, title, None if role is None else n, role, snippet, "2026-01-01T00:00:00.000Z")


def words(text: str) -> str:
    return text.replace("[", MATCH_START).replace("]", MATCH_END)


def dialog_with(qtbot: Any, hits: list[SearchHit]) -> SearchDialog:
    dialog = SearchDialog(search=lambda _text: None, tasks=None)  # type: ignore[arg-type,return-value]
    qtbot.addWidget(dialog)
    dialog.show()
    dialog._show("lisbon", hits)
    return dialog


def test_a_result_says_its_chat_and_who_wrote_it_and_a_title_match_says_chat() -> None:
    assert heading(hit(1, "x", Role.USER)) == "Trip to Lisbon · You"
    assert heading(hit(1, "x", Role.MODEL, title="")) == "New chat · Gemini"
    assert heading(hit(1, "x", None)) == "Chat"


def test_the_matched_words_are_found_without_their_markers_and_spaces_are_evened_out() -> None:
    text, matches = marked(words("…the  [tram]\n28 goes to [Alfama] and [back]"))
    assert text == "…the tram 28 goes to Alfama and back"
    assert [text[start:start + length] for start, length in matches] == ["tram", "Alfama", "back"]


def test_a_screen_reader_reads_each_result_as_one_line_without_private_characters(qtbot: Any) -> None:
    dialog = dialog_with(qtbot, [hit(1, words("the [tram] to Belém")), hit(2, words("[Lisbon]"), None)])
    rows = [dialog.results.item(r).text() for r in range(dialog.results.count())]
    assert rows == ["Trip to Lisbon · You: the tram to Belém", "Chat: Lisbon"]
    view = QAccessible.queryAccessibleInterface(dialog.results)
    assert view is not None
    assert "Trip to Lisbon · You: the tram to Belém" in [view.child(n).text(QAccessible.Text.Name)
                                                          for n in range(view.childCount())]


def test_fifty_results_make_no_widget_per_row_and_the_first_is_chosen(qtbot: Any) -> None:
    dialog = dialog_with(qtbot, [hit(n, words(f"message [{n}] about Lisbon")) for n in range(1, 51)])
    assert dialog.status.text() == "50 results"
    assert dialog.results.currentRow() == 0
    assert all(dialog.results.itemWidget(dialog.results.item(r)) is None for r in range(50))
    qtbot.keyClick(dialog.query, Qt.Key.Key_PageDown)
    assert dialog.results.currentRow() == 5
    with qtbot.waitSignal(dialog.hit_chosen) as chosen:
        qtbot.keyClick(dialog.query, Qt.Key.Key_Return)
    assert chosen.args[0].message_id == 6


def test_a_row_holds_its_heading_and_two_lines_of_snippet_and_a_longer_snippet_stays_inside_it(qtbot: Any) -> None:
    long = " ".join(f"word{n}" for n in range(200))
    dialog = dialog_with(qtbot, [hit(1, words(f"[{long}]"))])
    delegate = dialog.results.itemDelegate()
    option = QStyleOptionViewItem()
    option.font = dialog.results.font()
    option.palette = dialog.results.palette()
    option.rect = dialog.results.visualRect(dialog.results.model().index(0, 0))
    line = dialog.results.fontMetrics().lineSpacing()
    assert option.rect.height() >= SNIPPET_LINES * line + line * 0.85
    image = QImage(option.rect.width(), option.rect.height() * 3, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    option.rect = option.rect.translated(-option.rect.topLeft())
    delegate.paint(painter, option, dialog.results.model().index(0, 0))
    painter.end()
    inked = [y for y in range(image.height())
             if any(image.pixelColor(x, y) != QColor("white") for x in range(0, image.width(), 2))]
    assert inked and max(inked) < option.rect.height()  # nothing drawn below its own row
