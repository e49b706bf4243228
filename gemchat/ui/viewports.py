"""Scroll areas' viewports made from Python, so that start-up never wraps one Qt made.

The first time PySide6 hands Python a widget that C++ made and Python has not
seen (`viewport()` is the usual one), shiboken finds its most derived type by
initialising every QtWidgets class not used yet, with all their enums: 19-28 ms
of gemchat's start, before the first paint (measured on Xvfb, session 22). A
viewport made in Python is already known, so asking for it costs nothing.

Qt's own set-up of the viewport it made is not carried over by `setViewport`:
what the scroll areas did to theirs is done again here. The
document layout's paint device is the one that matters: Qt keeps a pointer to the
deleted viewport there, and laying out the first line would crash.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QAbstractScrollArea, QPlainTextEdit, QScrollArea, QTextBrowser, QTextEdit, QWidget


def give_own_viewport(area: QAbstractScrollArea) -> QWidget:
    """Replaces `area`'s viewport with one made here, set up as Qt set up the one it made; returns it.

    Called right after the area is made, before anything asked for its viewport.
    """
    viewport = QWidget()
    viewport.setObjectName("qt_scrollarea_viewport")  # the name Qt gives its own, which style sheets may use
    area.setViewport(viewport)  # Qt deletes its own viewport, parents this one and filters its events
    viewport.setAutoFillBackground(True)
    viewport.setBackgroundRole(QPalette.ColorRole.NoRole if isinstance(area, QScrollArea) else QPalette.ColorRole.Base)
    if isinstance(area, (QTextEdit, QPlainTextEdit)):
        area.document().documentLayout().setPaintDevice(viewport)
        viewport.setAcceptDrops(True)
        if isinstance(area, QTextBrowser) or area.isReadOnly():
            viewport.setCursor(Qt.CursorShape.ArrowCursor)
        else:
            viewport.setCursor(Qt.CursorShape.IBeamCursor)
        if not isinstance(area, QPlainTextEdit):
            viewport.setMouseTracking(True)
    return viewport
