"""A scroll area given a viewport made in Python looks and behaves as with Qt's own (`gemchat.ui.viewports`)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QListWidget,
    QPlainTextEdit,
    QScrollArea,
    QTextBrowser,
    QTextEdit,
    QWidget,
)

from gemchat.ui.viewports import give_own_viewport

KINDS = [QTextBrowser, QTextEdit, QPlainTextEdit, QListWidget, QScrollArea]


def _looks(viewport: QWidget) -> dict[str, object]:
    return {
        "attributes": [a.name for a in Qt.WidgetAttribute if viewport.testAttribute(a)],
        "background": (viewport.backgroundRole(), viewport.autoFillBackground()),
        "cursor": viewport.cursor().shape(),
        "mouse tracking": viewport.hasMouseTracking(),
        "drops": viewport.acceptDrops(),
        "name": viewport.objectName(),
        "focus": viewport.focusPolicy(),
    }


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_a_viewport_made_here_is_set_up_as_qt_sets_up_its_own(qtbot, kind: type[QAbstractScrollArea]) -> None:
    theirs, ours = kind(), kind()
    qtbot.addWidget(theirs)
    qtbot.addWidget(ours)
    made = give_own_viewport(ours)
    assert ours.viewport() is made
    assert made.parentWidget() is ours and made.focusProxy() is ours
    for area in (theirs, ours):
        area.resize(300, 200)
        area.show()
    qtbot.waitExposed(ours)
    assert _looks(made) == _looks(theirs.viewport())


@pytest.mark.parametrize("kind", [QTextBrowser, QTextEdit, QPlainTextEdit], ids=lambda kind: kind.__name__)
def test_text_in_a_view_with_its_own_viewport_is_laid_out_and_painted_as_in_qts(qtbot, kind: type[QTextEdit]) -> None:
    """Qt lays text out for the viewport it made: without the new paint device the first line crashed."""
    theirs, ours = kind(), kind()
    give_own_viewport(ours)
    pictures = []
    for view in (theirs, ours):
        qtbot.addWidget(view)
        view.resize(300, 200)
        view.show()
        qtbot.waitExposed(view)
        view.setPlainText("A line long enough to wrap in a narrow view, " * 20)
        pictures.append(view.viewport().grab().toImage())
    assert ours.document().documentLayout().paintDevice() is ours.viewport()
    assert ours.document().size() == theirs.document().size()  # wrapped to the same width, as many lines
    assert pictures[1] == pictures[0]
