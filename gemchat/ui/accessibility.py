"""What assistive technology gets of gemchat: rich text as a document to read, the conversation quiet while it
is written, and one announcement when an answer ends.

`install` has Qt expose every QTextBrowser of the app (the conversation, the
shortcuts page) as a document (`gemchat.ui.readable_document`); `quiet` keeps
the conversation's edits from being reported one by one as an answer streams;
`announce` tells a screen reader once, politely, that the answer ended. Qt's
accessibility types are imported when first used, never before the window's
first paint.
"""

from __future__ import annotations

from PySide6.QtCore import SIGNAL
from PySide6.QtWidgets import QTextBrowser, QWidget

_installed = False


def install(window: QWidget) -> None:
    """Has Qt expose every QTextBrowser as a `DocumentAccessible` from now on (the first call does it).

    A screen reader that asked about `window`'s browsers before (it may, as soon
    as the window shows) got Qt's own interface for them: those are dropped, so
    that its next question gets one of ours.
    """
    from PySide6.QtGui import QAccessible

    from gemchat.ui.readable_document import DocumentAccessible

    global _installed
    if not _installed:
        QAccessible.installFactory(_document_factory)
        _installed = True
    if not QAccessible.isActive():
        return  # no interface is made while no assistive technology listens
    for browser in window.findChildren(QTextBrowser):
        made = QAccessible.queryAccessibleInterface(browser)
        if made is not None and not isinstance(made, DocumentAccessible):
            QAccessible.deleteAccessibleInterface(QAccessible.uniqueId(made))


def _document_factory(_class_name: str, target: object) -> object:
    from gemchat.ui.readable_document import DocumentAccessible

    return DocumentAccessible(target) if isinstance(target, QTextBrowser) else None


def quiet(browser: QTextBrowser) -> None:
    """Keeps a browser's own edits from being reported to assistive technology as they happen.

    Qt reports every change of a text widget's document as text inserted or
    removed (copying the text out to say so), and every move of its caret that
    an edit causes (the caret, left at the end, is carried along by each
    insertion there). The conversation's stream renderer replaces the
    unsettled end of an answer at every frame: a screen reader would be told
    the same words again and again. The end of an answer is announced instead
    (`announce`). Qt's own handlers are the only receivers of the document's
    `contentsChange` and `cursorPositionChanged` (moves the user makes are
    reported without them), and Qt connects them again when the widget is
    cleared: call this after each `clear()` too.
    """
    document = browser.document()
    for signal, name in ((document.contentsChange, "contentsChange(int,int,int)"),
                         (document.cursorPositionChanged, "cursorPositionChanged(QTextCursor)")):
        if document.receivers(SIGNAL(name)) > 0:
            signal.disconnect()


def announce(widget: QWidget, text: str) -> None:
    """Has a screen reader say `text` once, after what it is saying (Qt's announcement; AT-SPI `object:announcement`)."""
    from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent

    if text and QAccessible.isActive():
        QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(widget, text))
