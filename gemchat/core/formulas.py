"""Formulas in an answer (`$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]`): how the HTML marks them for the view.

The Markdown renderer shows each formula as its source, code-like, with a mark
in front: an empty anchor whose name holds the formula. Once the HTML is in the
document, the view finds the marks and puts each typeset picture in place of
its source (`gemchat.ui.chat_view.formulas`); until then, or when a formula
cannot be typeset, the source stays. The mark carries the formula itself, so
the view needs nothing but the document to find what to typeset.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

MARK = "gemchat-math:"
"""Start of a formula's anchor name: ``gemchat-math:<i|d>:<opening length>:<closing length>:<source, %-quoted>``."""

MAX_LENGTH = 2000
"""A formula longer than this (its LaTeX, without delimiters) is shown as its source and never typeset."""

CLOSING = {"$": "$", "$$": "$$", "\\(": "\\)", "\\[": "\\]"}
"""The closing delimiter of each opening one."""


@dataclass(frozen=True)
class Formula:
    """One formula of an answer.

    Attributes:
        source: as written, delimiters included: what is shown until it is typeset, and what copying it gives.
        display: set apart on a line of its own (`$$`, `\\[`), or inline with the text (`$`, `\\(`).
        opening, closing: the lengths of its delimiters in `source`.
    """

    source: str
    display: bool
    opening: int
    closing: int

    @property
    def tex(self) -> str:
        """The LaTeX to typeset: what is between the delimiters."""
        return self.source[self.opening:len(self.source) - self.closing].strip()

    @property
    def shown(self) -> str:
        """The source as shown while it is not typeset: on one line, so the view knows its length."""
        return self.source.replace("\n", " ").replace("\t", " ")

    @property
    def shown_length(self) -> int:
        """`shown`'s length in the document, which counts UTF-16 code units."""
        return len(self.shown.encode("utf-16-le")) // 2

    def mark(self) -> str:
        """The anchor name the view finds this formula by."""
        kind = "d" if self.display else "i"
        return f"{MARK}{kind}:{self.opening}:{self.closing}:{quote(self.source, safe='')}"

    @property
    def typesettable(self) -> bool:
        return 0 < len(self.tex) <= MAX_LENGTH


def formula(markup: str, content: str, display: bool) -> Formula:
    """The formula a parser token describes: its opening delimiter and what follows it."""
    closing = CLOSING.get(markup, markup)
    return Formula(markup + content + closing, display, len(markup), len(closing))


def formula_of_mark(name: str) -> Formula | None:
    """The formula an anchor name marks, or None if it is not a formula's mark."""
    if not name.startswith(MARK):
        return None
    try:
        kind, opening, closing, source = name[len(MARK):].split(":", 3)
        found = Formula(unquote(source, errors="strict"), kind == "d", int(opening), int(closing))
    except (ValueError, UnicodeDecodeError):
        return None
    if kind not in ("d", "i") or min(found.opening, found.closing) < 0 or \
            found.opening + found.closing > len(found.source):
        return None
    return found


__all__ = ["CLOSING", "MARK", "MAX_LENGTH", "Formula", "formula", "formula_of_mark"]
