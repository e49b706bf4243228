"""Where the conversation's text goes: a centred column, and the user's questions as bubbles on its right.

Reading lines of more than about 90 characters tire the eye, so on a wide
window the text keeps to a column of `MAX_COLUMN` px (at 100 % text size,
scaled with it) and the margins grow; "full width" lets it fill the window.

A question is a bubble on the right, at most `BUBBLE_SHARE` of the column
wide. The document cannot shrink a block to its text, so the bubble's blocks
get a left margin that leaves just the width of the question's widest line
(measured once, in ems, kept on the blocks as `BUBBLE`); it is worked out
again only when the column's width or the text size changes.
"""

from __future__ import annotations

from PySide6.QtGui import QFontMetricsF, QGuiApplication, QTextBlockFormat, QTextCursor
from PySide6.QtWidgets import QTextBrowser

MAX_COLUMN = 800
"""The widest the text column gets, in pixels at 100 % text size."""
SIDE = 16
"""The least room between the text and the view's edges."""
BUBBLE_SHARE = 0.75
"""A question's bubble is at most this share of the column."""
BUBBLE_PAD_X = 14
BUBBLE_PAD_Y = 8
"""Room between a bubble's edge and its text (painted by `Decorations`, outside the text's blocks)."""

BUBBLE = 0x100000 + 4
"""On a question's text blocks: the width of its widest line, in ems of the document's font."""


class Column:
    """Keeps the root frame's side margins to the column, and the bubbles' left margins to their text."""

    def __init__(self, browser: QTextBrowser) -> None:
        self._browser = browser
        self._full_width = False
        self._width = -1.0  # the column's width the bubbles were fitted to
        self._em = -1.0

    @property
    def full_width(self) -> bool:
        return self._full_width

    @full_width.setter
    def full_width(self, full: bool) -> None:
        if full != self._full_width:
            self._full_width = full
            self.fit()

    def widest(self) -> int | None:
        """The most the column may take in pixels at the text size now; None when it takes the full width."""
        return None if self._full_width else round(MAX_COLUMN * self._scale())

    def width(self) -> float:
        """The text column's width in pixels now."""
        frame = self._browser.document().rootFrame().frameFormat()
        return max(1.0, self._browser.viewport().width() - frame.leftMargin() - frame.rightMargin())

    def fit(self) -> None:
        """Centres the column in the view as it is now (as the message box is); refits the bubbles if the column
        or the text size changed."""
        document = self._browser.document()
        available = self._browser.viewport().width()
        widest = self.widest()
        left: float
        right: float
        if widest is None:
            left = right = SIDE
        else:
            # Centred in the whole view, the scroll bar's room included: the message box below is centred so,
            # and the text does not move sideways when the bar comes or goes.
            whole = self._browser.width() - 2 * self._browser.frameWidth()
            left = max(SIDE, (whole - widest) / 2)
            right = max(SIDE, available - widest - left)
        root = document.rootFrame()
        frame = root.frameFormat()
        if abs(frame.leftMargin() - left) >= 0.5 or abs(frame.rightMargin() - right) >= 0.5:
            frame.setLeftMargin(left)
            frame.setRightMargin(right)
            root.setFrameFormat(frame)
        width, em = self.width(), self.em()
        if (abs(width - self._width) >= 0.5 or abs(em - self._em) >= 0.01) and not document.isEmpty():
            self._width, self._em = width, em
            self._refit_bubbles()

    def em(self) -> float:
        """The document font's size in pixels: bubble widths are kept in these units."""
        return QFontMetricsF(self._browser.document().defaultFont()).height()

    def measure(self, text: str) -> float:
        """The width of `text`'s widest line, in ems of the document's font."""
        metrics = QFontMetricsF(self._browser.document().defaultFont())
        widest = max((metrics.horizontalAdvance(line) for line in text.split("\n")), default=0.0)
        return widest / self.em()

    def bubble_block(self, block: QTextBlockFormat, ems: float) -> QTextBlockFormat:
        """`block` made a bubble's block for text `ems` wide (its widest line)."""
        bubble = QTextBlockFormat(block)
        bubble.setProperty(BUBBLE, ems)
        bubble.setLeftMargin(self._bubble_margin(ems))
        bubble.setRightMargin(BUBBLE_PAD_X)
        return bubble

    def _bubble_margin(self, ems: float) -> float:
        column = self.width()
        inner = column - BUBBLE_PAD_X  # the bubble's right padding is the block's right margin
        text = min(ems * self.em() + 2, column * BUBBLE_SHARE - 2 * BUBBLE_PAD_X)  # 2 px: rounding of shaping
        return max(BUBBLE_PAD_X, inner - text)

    def _scale(self) -> float:
        app = QGuiApplication.instance()
        normal = QGuiApplication.font().pointSizeF() if isinstance(app, QGuiApplication) else 0
        size = self._browser.font().pointSizeF()
        return size / normal if normal > 0 and size > 0 else 1.0

    def _refit_bubbles(self) -> None:
        document = self._browser.document()
        cursor: QTextCursor | None = None
        block = document.begin()
        while block.isValid():
            fmt = block.blockFormat()
            if fmt.hasProperty(BUBBLE):
                margin = self._bubble_margin(float(fmt.property(BUBBLE)))
                if abs(fmt.leftMargin() - margin) >= 0.5:
                    if cursor is None:
                        cursor = QTextCursor(document)
                        cursor.beginEditBlock()
                    cursor.setPosition(block.position())
                    fmt.setLeftMargin(margin)
                    cursor.setBlockFormat(fmt)
            block = block.next()
        if cursor is not None:
            cursor.endEditBlock()
