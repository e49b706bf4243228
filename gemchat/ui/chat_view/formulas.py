"""The answers' formulas in the conversation's document: their source until typeset, then their picture.

The Markdown HTML shows a formula as its source with a mark (`gemchat.core.formulas`).
Once a piece of HTML is in the document, `Formulas.place` finds the marks in
it and puts each formula's picture in place of its source: at once if it was
typeset before (the same formula, a chat opened again, a theme change), else
when the `Typesetter` has done it, if its source is still there by then (an
unfinished paragraph is drawn again and again while it streams; its next
drawing finds the picture ready). A formula that cannot be typeset keeps its
source. Pictures are drawn from the SVG in the text colour, at the text's size
and the screen's pixel ratio, with the formula's baseline on the text's.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QFont, QPalette, QTextCursor
from PySide6.QtWidgets import QTextBrowser

from gemchat.core.formulas import MARK, Formula, formula_of_mark

if TYPE_CHECKING:  # the Qt classes that only drawing needs load with the first formula, not at start-up
    from PySide6.QtGui import QImage, QTextDocument

    from gemchat.ui.chat_view.typesetter import Typesetter

FORMULA_SOURCE = 0x100000 + 4
"""On a formula's picture: its source as written, delimiters included (what copying it gives)."""
RESOURCE_PREFIX = "gemchat-formula:"
SCALE = 1.2
"""Formulas are set this much larger than the text's font size: the math font is small for its size (KaTeX: 1.21)."""
MAX_PICTURE = (4000, 1500)
"""The largest picture drawn, in logical pixels; a larger formula keeps its source."""
KEPT_PICTURES = 500
OBJECT = "\ufffc"
"""What a picture is in a document's plain text."""

_VIEW_BOX = re.compile(r'viewBox="\s*([-\d.eE]+)[ ,]+([-\d.eE]+)[ ,]+([-\d.eE]+)[ ,]+([-\d.eE]+)\s*"')


@dataclass(frozen=True)
class Picture:
    """A formula drawn for the document: the image (in device pixels) and its size in the text (logical pixels)."""

    name: str
    image: QImage
    width: float
    height: float


class Formulas:
    """Puts typeset formulas in the document in place of their source.

    Attributes:
        typesetter: typesets formulas (set by the app, shared by its views); without one they stay as their source.
        replaced: told `(position, change in length)` when a source is replaced after it was inserted
            (the streaming answer counts its lengths from the document's end).
    """

    def __init__(self, browser: QTextBrowser) -> None:
        self._browser = browser
        self._typesetter: Typesetter | None = None
        self._waiting: dict[tuple[str, bool], list[tuple[QTextCursor, Formula]]] = {}
        self._pictures: OrderedDict[tuple[str, bool, float, float, str], Picture | None] = OrderedDict()
        self.replaced: Callable[[int, int], None] | None = None

    @property
    def typesetter(self) -> Typesetter | None:
        return self._typesetter

    @typesetter.setter
    def typesetter(self, typesetter: Typesetter | None) -> None:
        if self._typesetter is not None:
            self._typesetter.typeset.disconnect(self._on_typesetter_typeset)
        self._typesetter = typesetter
        if typesetter is not None:
            typesetter.typeset.connect(self._on_typesetter_typeset)

    def clear(self) -> None:
        """Forgets the formulas waiting for their picture (the document is about to be cleared)."""
        self._waiting.clear()

    def place(self, start: int, end: int) -> None:
        """Shows the formulas between `start` and `end` as pictures: at once if typeset, else once they are."""
        if self._typesetter is None:
            return
        found = self._marks(start, end)
        ready = []
        for position, formula in found:  # asked for in reading order
            picture = self._picture(formula)
            if picture is not None:
                ready.append((position, formula, picture))
            elif self._typesetter.svg(formula.tex, formula.display) is None:
                cursor = QTextCursor(self._browser.document())
                cursor.setPosition(position)
                cursor.setPosition(position + formula.shown_length, QTextCursor.MoveMode.KeepAnchor)
                cursor.setKeepPositionOnInsert(True)  # text written right after the source is not part of it
                key = (formula.tex, formula.display)
                # Sources drawn again since (a streaming paragraph's) are gone: their cursors hold nothing.
                waiting = [entry for entry in self._waiting.get(key, []) if entry[0].hasSelection()]
                self._waiting[key] = [*waiting, (cursor, formula)]
                self._typesetter.request(formula.tex, formula.display)
        for position, formula, picture in reversed(ready):  # from the end: earlier positions stay valid
            self._replace(position, formula, picture)

    def _marks(self, start: int, end: int) -> list[tuple[int, Formula]]:
        """The formulas whose sources start between `start` and `end`, with their positions."""
        document = self._browser.document()
        found = []
        block = document.findBlock(start)
        while block.isValid() and block.position() < end:
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if start <= fragment.position() < end:
                    for name in fragment.charFormat().anchorNames():
                        formula = formula_of_mark(name) if name.startswith(MARK) else None
                        if formula is not None and self._shows(fragment.position(), formula):
                            found.append((fragment.position(), formula))
                it += 1
            block = block.next()
        return found

    def _shows(self, position: int, formula: Formula) -> bool:
        """Whether the document holds the formula's source at `position`."""
        cursor = QTextCursor(self._browser.document())
        cursor.setPosition(position)
        cursor.setPosition(min(position + formula.shown_length, self._browser.document().characterCount() - 1),
                           QTextCursor.MoveMode.KeepAnchor)
        return cursor.selectedText() == formula.shown

    def _on_typesetter_typeset(self, tex: str, display: bool) -> None:
        waiting = self._waiting.pop((tex, display), [])
        shown = [(cursor.selectionStart(), formula) for cursor, formula in waiting
                 if cursor.hasSelection() and cursor.selectedText() == formula.shown]
        picture = self._picture(shown[0][1]) if shown else None
        if picture is None:
            return  # not shown any more, or it cannot be typeset: the source stays
        for position, formula in sorted(shown, key=lambda entry: entry[0], reverse=True):
            self._replace(position, formula, picture)
            if self.replaced is not None:
                self.replaced(position, 1 - formula.shown_length)

    # -- pictures ------------------------------------------------------------------------

    def _font(self) -> QFont:
        return self._browser.document().defaultFont()

    def _picture(self, formula: Formula) -> Picture | None:
        """The formula drawn at the text's size and colour; None if it is not typeset (yet) or cannot be shown."""
        assert self._typesetter is not None
        svg = self._typesetter.svg(formula.tex, formula.display)
        if not svg:
            return None
        font = self._font()
        size = font.pointSizeF() * self._browser.logicalDpiY() / 72 if font.pointSizeF() > 0 else font.pixelSize()
        ratio = self._browser.devicePixelRatioF()
        colour = self._browser.palette().color(QPalette.ColorRole.Text).name()
        key = (formula.tex, formula.display, size, ratio, colour)
        if key in self._pictures:
            self._pictures.move_to_end(key)
            return self._pictures[key]
        from PySide6.QtGui import QFontMetrics

        picture = draw(svg, colour, size * SCALE, ratio, QFontMetrics(font).xHeight() / 2)
        self._pictures[key] = picture
        if len(self._pictures) > KEPT_PICTURES:
            self._pictures.popitem(last=False)
        return picture

    def _replace(self, position: int, formula: Formula, picture: Picture) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QTextCharFormat, QTextDocument, QTextImageFormat

        document = self._browser.document()
        document.addResource(QTextDocument.ResourceType.ImageResource.value, QUrl(picture.name), picture.image)
        image = QTextImageFormat()
        image.setName(picture.name)
        image.setWidth(picture.width)
        image.setHeight(picture.height)
        image.setFont(self._font())  # Qt centres a picture on half the x-height of its own font
        image.setVerticalAlignment(QTextCharFormat.VerticalAlignment.AlignMiddle)
        image.setToolTip(formula.source)
        image.setProperty(FORMULA_SOURCE, formula.source)
        cursor = QTextCursor(document)
        cursor.setPosition(position)
        cursor.setPosition(position + formula.shown_length, QTextCursor.MoveMode.KeepAnchor)
        cursor.beginEditBlock()
        cursor.removeSelectedText()
        cursor.insertImage(image)
        cursor.endEditBlock()


def draw(svg: str, colour: str, font_size: float, ratio: float, half_x_height: float) -> Picture | None:
    """A formula's SVG as a picture for the text: its ink in `colour`, `font_size` pixels high, sharp at `ratio`.

    Qt puts a picture aligned to the middle with its centre half an x-height
    above the baseline; the picture is padded above or below so that the
    formula's own baseline (y = 0 in the SVG) falls on the text's.
    """
    import hashlib

    from PySide6.QtCore import QByteArray, QRectF, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    from gemchat.core.typeset import INK, REFERENCE_SIZE, is_safe_svg

    box = _VIEW_BOX.search(svg)
    if box is None or not is_safe_svg(svg):
        return None
    _left, top, box_width, box_height = (float(value) for value in box.groups())
    scale = font_size / REFERENCE_SIZE
    width, height = box_width * scale, box_height * scale
    depth = max(0.0, (top + box_height) * scale)  # below the baseline
    if not (0 < width <= MAX_PICTURE[0] and 0 < height <= MAX_PICTURE[1]):
        return None
    pad = height - half_x_height - 2 * depth  # > 0: below the formula; < 0: above it
    # Whole device pixels: a picture Qt had to scale by a fraction of a pixel would blur or lose strokes.
    columns, rows = math.ceil(width * ratio), math.ceil((height + abs(pad)) * ratio)
    image = QImage(columns, rows, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.transparent)
    renderer = QSvgRenderer(QByteArray(svg.replace(INK, colour).encode()))
    if not renderer.isValid():
        return None
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, max(0.0, -pad), width, height))
    painter.end()
    digest = hashlib.sha1(f"{svg}\0{colour}\0{font_size}\0{ratio}".encode()).hexdigest()[:20]
    return Picture(f"{RESOURCE_PREFIX}{digest}", image, columns / ratio, rows / ratio)


def formula_sources(document: QTextDocument, start: int, end: int) -> list[str | None]:
    """For each picture between `start` and `end`, in order: the formula's source, or None if it is no formula."""
    sources: list[str | None] = []
    block = document.findBlock(start)
    while block.isValid() and block.position() < end:
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if OBJECT in fragment.text() and fragment.position() < end and \
                    fragment.position() + fragment.length() > start:
                format_ = fragment.charFormat()
                source = format_.stringProperty(FORMULA_SOURCE) if format_.hasProperty(FORMULA_SOURCE) else None
                first, last = max(start, fragment.position()), min(end, fragment.position() + fragment.length())
                sources.extend(source for _ in range(fragment.text().count(OBJECT, first - fragment.position(),
                                                                                last - fragment.position())))
            it += 1
        block = block.next()
    return sources
