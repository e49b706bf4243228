"""Formulas in answers: their source at once, their typeset picture once the worker process has made it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QColor, QImage, QPalette, QTextCursor, QTextDocument

from gemchat.core.messages import Role
from gemchat.ui.chat_view import ChatView
from gemchat.ui.chat_view.formulas import FORMULA_SOURCE, OBJECT
from gemchat.ui.chat_view.typesetter import Typesetter
from tests.ui.chat_view.helpers import blocks_of, fragments_of, message

WAIT_MS = 40_000  # the worker's start (ziamath's import) and a formula: about a second, much more on a loaded machine


@pytest.fixture
def typesetter() -> Iterator[Typesetter]:
    typesetter = Typesetter()
    yield typesetter
    typesetter.close()


def view_with(qtbot: Any, typesetter: Typesetter | None, text: str | None = None) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(700, 500)
    view.typesetter = typesetter
    if text is not None:
        view.show_messages([message(1, Role.USER, "show me math"), message(2, Role.MODEL, text)])
    return view


def pictures(view: ChatView) -> list[tuple[str, Any]]:
    """Each formula picture in the view: its source, and its image format."""
    found = []
    for block in blocks_of(view):
        for fragment in fragments_of(block):
            fmt = fragment.charFormat()
            if fmt.isImageFormat() and fmt.hasProperty(FORMULA_SOURCE):
                found.append((fmt.stringProperty(FORMULA_SOURCE), fmt.toImageFormat()))
    return found


def wait_for_pictures(qtbot: Any, view: ChatView, count: int) -> None:
    qtbot.waitUntil(lambda: len(pictures(view)) >= count, timeout=WAIT_MS)


def test_each_kind_of_formula_becomes_a_typeset_picture_in_place_of_its_source(qtbot: Any, typesetter: Typesetter) -> None:
    text = ("Inline $x^2 + y_1$ and \\(\\alpha+\\beta\\) here.\n\n$$\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n$$\n\n"
            "\\[\n\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}\n\\]\n")
    view = view_with(qtbot, typesetter, text)
    assert "$x^2 + y_1$" in view.toPlainText()  # the source, until the worker has typeset it
    wait_for_pictures(qtbot, view, 4)
    sources = [source for source, _ in pictures(view)]
    assert sources == ["$x^2 + y_1$", "\\(\\alpha+\\beta\\)", "$$\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n$$",
                       "\\[\n\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}\n\\]"]
    assert view.toPlainText().endswith(f"Inline {OBJECT} and {OBJECT} here.\n{OBJECT}\n{OBJECT}")
    display = [block for block in blocks_of(view) if block.text() == OBJECT]
    assert [block.blockFormat().alignment() & Qt.AlignmentFlag.AlignHCenter for block in display] == \
        [Qt.AlignmentFlag.AlignHCenter] * 2  # set apart, centred
    for source, image in pictures(view):
        assert image.toolTip() == source  # hovering a formula shows what was written
        drawn = view.document().resource(QTextDocument.ResourceType.ImageResource.value, QUrl(image.name()))
        assert isinstance(drawn, QImage) and not drawn.isNull()


def test_a_formula_streamed_in_pieces_shows_its_source_then_its_picture_and_the_answer_goes_on(
        qtbot: Any, typesetter: Typesetter) -> None:
    view = view_with(qtbot, typesetter)
    view.show_messages([message(1, Role.USER, "q")])
    view.begin_answer(2)
    for piece in ["The area is $\\pi r", "^2$ and the sum ", "$$\\sum_{k=1}^n k$"]:
        view.append_to_answer(piece)
        view.render_pending()
    assert view.toPlainText().endswith("The area is $\\pi r^2$ and the sum $$\\sum_{k=1}^n k$")  # not closed yet
    wait_for_pictures(qtbot, view, 1)  # the first one, in the paragraph still being written
    assert view.toPlainText().endswith(f"The area is {OBJECT} and the sum $$\\sum_{{k=1}}^n k$")
    rest = "$ is known.\n\nNext paragraph with $e^{i\\pi}$.\n\nThe end."
    for piece in rest:  # the pictures arriving meanwhile must not move where the answer's text goes
        view.append_to_answer(piece)
        view.render_pending()
    text = "The area is $\\pi r^2$ and the sum $$\\sum_{k=1}^n k$$ is known.\n\nNext paragraph with $e^{i\\pi}$.\n\nThe end."
    view.end_answer(message(2, Role.MODEL, text))
    wait_for_pictures(qtbot, view, 3)
    assert view.toPlainText() == f"You\nq\nGemini\nThe area is {OBJECT} and the sum {OBJECT} is known.\n" \
                                 f"Next paragraph with {OBJECT}.\nThe end."
    assert view.answer_markdown(2) == text  # Copy Markdown gives the answer as written


def test_latex_that_cannot_be_typeset_keeps_showing_its_source(qtbot: Any, typesetter: Typesetter) -> None:
    view = view_with(qtbot, typesetter)
    with qtbot.waitSignals([typesetter.typeset, typesetter.typeset], timeout=WAIT_MS):
        view.show_messages([message(1, Role.USER, "q"),
                            message(2, Role.MODEL, "Broken: $\\frac{1}{$ and fine: $a+b$ and \\(\\begin{matrix} x\\)")])
    wait_for_pictures(qtbot, view, 1)
    qtbot.waitUntil(lambda: typesetter.svg("\\begin{matrix} x", False) is not None, timeout=WAIT_MS)
    assert typesetter.svg("\\frac{1}{", False) == ""  # ziamath refused it
    assert view.toPlainText().endswith(f"Broken: $\\frac{{1}}{{$ and fine: {OBJECT} and \\(\\begin{{matrix}} x\\)")
    assert [source for source, _ in pictures(view)] == ["$a+b$"]


def test_prices_and_code_are_not_formulas(qtbot: Any, typesetter: Typesetter) -> None:
    text = "It costs $5 and $10, or US$5-$10; \\$x\\$ is escaped.\n\n`$x$` in code, and\n\n```\n$$y$$\n```\n"
    view = view_with(qtbot, typesetter, text)
    assert typesetter.started == 0  # nothing asked of the worker: it was not even started
    assert "It costs $5 and $10, or US$5-$10; $x$ is escaped." in view.toPlainText()
    assert "$x$ in code" in view.toPlainText() and "$$y$$" in view.toPlainText()


def test_copying_a_selection_across_formulas_gives_their_source(qtbot: Any, typesetter: Typesetter) -> None:
    view = view_with(qtbot, typesetter, "So $a^2+b^2=c^2$ holds, and\n\n$$\nE = mc^2\n$$\n\nends.")
    wait_for_pictures(qtbot, view, 2)
    cursor = view.textCursor()
    start = view.toPlainText().index("So")
    cursor.setPosition(start)
    cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
    view.setTextCursor(cursor)
    copied = view.createMimeDataFromSelection()
    assert copied.text() == "So $a^2+b^2=c^2$ holds, and\n$$\nE = mc^2\n$$\nends."
    cursor.setPosition(start)
    cursor.setPosition(start + 3, QTextCursor.MoveMode.KeepAnchor)  # "So " alone: Qt's own copy
    view.setTextCursor(cursor)
    assert view.createMimeDataFromSelection().text() == "So "


def test_formulas_are_drawn_in_the_text_colour_of_a_dark_theme(qtbot: Any, typesetter: Typesetter) -> None:
    view = view_with(qtbot, typesetter)
    palette = view.palette()
    palette.setColor(QPalette.ColorRole.Base, QColor("#1b1c1e"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#e8eaed"))
    view.setPalette(palette)
    view.show_messages([message(1, Role.USER, "q"), message(2, Role.MODEL, "Dark: $\\blacksquare$")])
    wait_for_pictures(qtbot, view, 1)
    _, image = pictures(view)[0]
    drawn = view.document().resource(QTextDocument.ResourceType.ImageResource.value, QUrl(image.name()))
    inked = [drawn.pixelColor(x, y) for x in range(drawn.width()) for y in range(drawn.height())
             if drawn.pixelColor(x, y).alpha() == 255]
    assert inked and all(colour.name() == "#e8eaed" for colour in inked)


def test_a_formula_is_as_large_as_the_text_around_it(qtbot: Any, typesetter: Typesetter) -> None:
    view = view_with(qtbot, typesetter)
    font = view.document().defaultFont()
    sizes = []
    for points in (10, 20):
        font.setPointSize(points)
        view.document().setDefaultFont(font)
        view.show_messages([message(1, Role.USER, "q"), message(2, Role.MODEL, "Size: $x + y + z + w$")])
        wait_for_pictures(qtbot, view, 1)
        sizes.append(pictures(view)[0][1].width())
    assert sizes[1] == pytest.approx(2 * sizes[0], rel=0.04)


def test_a_formula_that_takes_too_long_is_stopped_shown_as_its_source_and_the_next_is_typeset(qtbot: Any) -> None:
    typesetter = Typesetter(time_limit=1.0)
    try:
        nested = "\\frac{" * 14 + "1" + "}{2}" * 14  # ziamath takes minutes: it grows with 2^depth
        view = view_with(qtbot, typesetter, f"Deep: ${nested}$ and then $y$")
        wait_for_pictures(qtbot, view, 1)
        assert typesetter.svg(nested, False) == ""
        assert f"${nested}$" in view.toPlainText()
        assert typesetter.started == 2  # the stuck worker was killed, a new one typeset $y$
    finally:
        typesetter.close()


def test_without_a_worker_formulas_stay_as_their_source(qtbot: Any) -> None:
    typesetter = Typesetter(command=[sys.executable, "-c", "raise SystemExit(3)"])
    try:
        view = view_with(qtbot, typesetter)
        with qtbot.waitSignal(typesetter.typeset, timeout=WAIT_MS):
            view.show_messages([message(1, Role.USER, "q"), message(2, Role.MODEL, "Lost: $z$")])
        assert typesetter.started == 3 and typesetter.svg("w", False) == ""  # given up: asked again, nothing starts
        assert view.toPlainText().endswith("Lost: $z$")
    finally:
        typesetter.close()


def test_an_answer_drawn_again_after_its_formulas_were_typeset_is_drawn_whole_once(qtbot: Any, typesetter: Typesetter) -> None:
    # A link's definition arriving below it redraws the settled part: it must be found where the pictures left it.
    view = view_with(qtbot, typesetter)
    view.show_messages([message(1, Role.USER, "q")])
    view.begin_answer(2)
    view.append_to_answer("First $x_1$ and [the docs].\n\nSecond $x_2$.\n\nThird.\n\n")
    view.render_pending()
    wait_for_pictures(qtbot, view, 2)
    text = "First $x_1$ and [the docs].\n\nSecond $x_2$.\n\nThird.\n\n[the docs]: https://example.com\n\nLast $x_3$."
    view.append_to_answer(text[len("First $x_1$ and [the docs].\n\nSecond $x_2$.\n\nThird.\n\n"):])
    view.end_answer(message(2, Role.MODEL, text))
    wait_for_pictures(qtbot, view, 3)
    assert view.toPlainText() == f"You\nq\nGemini\nFirst {OBJECT} and the docs.\nSecond {OBJECT}.\nThird.\nLast {OBJECT}."


def test_the_window_never_loads_the_typesetting_library_itself_even_once_formulas_show(tmp_path: Path) -> None:
    # A fresh process: this one imported ziamath for the worker's own tests.
    probe = """
import json, sys, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gemchat.core.messages import Message, Role, Status
from gemchat.ui.chat_view import ChatView
from gemchat.ui.chat_view.typesetter import Typesetter
view, typesetter = ChatView(), Typesetter()
view.typesetter = typesetter
view.show_messages([Message(id=1, chat_id=1, role=Role.MODEL, text="$x^2$", status=Status.COMPLETE, created_at="")])
deadline = time.monotonic() + 40
while "\\ufffc" not in view.toPlainText() and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.01)
typesetter.close()
print(json.dumps({"typeset": "\\ufffc" in view.toPlainText(), "ziamath": "ziamath" in sys.modules}))
"""
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, timeout=60,
                            env={"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root), "PATH": "/usr/bin:/bin",
                                 "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"typeset": True, "ziamath": False}


def test_a_formula_set_apart_becomes_a_picture_though_the_answer_went_on_below_it_meanwhile(
        qtbot: Any, typesetter: Typesetter) -> None:
    view = view_with(qtbot, typesetter)
    view.show_messages([message(1, Role.USER, "q")])
    view.begin_answer(2)
    text = "Intro.\n\n$$\n\\int_0^1 x\\,dx\n$$\n\nAfter it, written before the worker is ready.\n\nMore."
    for piece in (text[:30], text[30:60], text[60:]):
        view.append_to_answer(piece)
        view.render_pending()  # the formula settles, and the text below it is written at its end
    view.end_answer(message(2, Role.MODEL, text))
    wait_for_pictures(qtbot, view, 1)
    assert view.toPlainText().endswith(f"Intro.\n{OBJECT}\nAfter it, written before the worker is ready.\nMore.")
