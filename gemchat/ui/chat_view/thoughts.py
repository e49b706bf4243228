"""An answer's thought summary (thinking models), between its header and its text.

Collapsed it is one line: a "Thoughts" link and the summary's latest bold
title; a click opens all of it, in muted text. Its blocks carry the `THOUGHTS`
mark, so the section is found and replaced whole while the answer streams below it.
"""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QTextBlock, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextBrowser

from gemchat.ui.chat_view.blocks import (
    THOUGHTS,
    Formats,
    header_block_of,
    insert_html_blocks,
    insert_pieces,
    remove_blocks_after,
)
from gemchat.ui.chat_view.links import app_href

_BOLD_TITLE = re.compile(r"\*\*([^*\n]{2,80})\*\*")


class Thoughts:
    """The thought summaries of the shown answers, and which of them are opened.

    Attributes:
        changed: streamed thoughts arrived that are not shown yet.
    """

    def __init__(self, browser: QTextBrowser, formats: Formats) -> None:
        self._browser = browser
        self._formats = formats
        self._texts: dict[int, str] = {}
        self._open: set[int] = set()
        self.changed = False

    def clear(self) -> None:
        """Forgets every answer's thoughts (another chat is shown)."""
        self._texts.clear()
        self._open.clear()

    def put(self, message_id: int, text: str, header: QTextBlock) -> None:
        """Shows the thoughts of an answer just inserted under `header`."""
        self._texts[message_id] = text
        self.show(message_id, header)  # not found by a search: older ones go in at the top

    def add(self, message_id: int, text: str) -> None:
        """Adds a streamed piece of an answer's thoughts; the stream renderer shows it with its next step."""
        self._texts[message_id] = self._texts.get(message_id, "") + text
        self.changed = True

    def show_changed(self, message_id: int) -> None:
        """Shows the streamed thoughts of the answer being written."""
        self.changed = False
        if message_id in self._texts:
            self.show(message_id)

    def show_all(self) -> None:
        for message_id in list(self._texts):
            self.show(message_id)

    def toggle(self, message_id: int) -> None:
        if message_id in self._open:
            self._open.discard(message_id)
        else:
            self._open.add(message_id)
        self.show(message_id)

    def show(self, message_id: int, header: QTextBlock | None = None) -> None:
        """Replaces the thoughts section of an answer: one line, or all of it when opened."""
        if header is None:
            header = header_block_of(self._browser.document(), message_id)
        text = self._texts.get(message_id, "")
        if header is None or not text:
            return
        from gemchat.core.markdown import render_pieces

        start = header.position() + header.length() - 1
        end = start
        block = header.next()
        while block.isValid() and block.blockFormat().hasProperty(THOUGHTS):
            end = block.position() + block.length() - 1
            block = block.next()
        opened = message_id in self._open
        style = self._formats.markdown_style()
        cursor = QTextCursor(self._browser.document())
        cursor.beginEditBlock()
        remove_blocks_after(cursor, start, end)
        insert_html_blocks(cursor, self._line(message_id, text, opened, style.muted))
        if opened:
            insert_pieces(cursor, render_pieces(text, message_id, style))
        self._mark(message_id, start, cursor.position(), opened, style.muted)
        cursor.endEditBlock()

    @staticmethod
    def _line(message_id: int, text: str, opened: bool, muted: str) -> str:
        """The collapsed line's HTML: the toggle and the summary's latest bold title."""
        from gemchat.core.markdown import escape_text

        titles = _BOLD_TITLE.findall(text)
        summary = titles[-1] if titles else " ".join(text.split())[:80]
        return (f'<p style="margin-top:2px; margin-bottom:2px;">'
                f'<a href="{app_href("toggle-thoughts", message_id)}">{"▾" if opened else "▸"} Thoughts</a>'
                f'<span style="color:{muted};">&nbsp;&nbsp;{escape_text(summary)}</span></p>')

    def _mark(self, message_id: int, start: int, end: int, opened: bool, muted: str) -> None:
        """Marks the section's blocks as thoughts, indented; an opened body muted."""
        document = self._browser.document()
        marked = QTextCursor(document)
        marked.setPosition(start + 1)
        marked.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        thoughts_block = QTextBlockFormat()
        thoughts_block.setProperty(THOUGHTS, message_id)
        thoughts_block.setLeftMargin(14)
        marked.mergeBlockFormat(thoughts_block)
        if opened:
            muted_format = QTextCharFormat()
            muted_format.setForeground(QColor(muted))
            body = QTextCursor(document)
            body.setPosition(document.findBlock(start + 1).next().position())
            body.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            body.mergeCharFormat(muted_format)
