"""One message in the conversation's document: its header, its text and what goes under it.

A header block is marked with the message's id and role ("You", "Gemini");
then a question's plain text and its attachments, or an answer's Markdown, its
sources (when grounded with Google Search) and its thoughts; then a status
line: why it stopped, its versions, its facts.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QFont, QPalette, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QTextBrowser

from gemchat.core.errors import UNFINISHED
from gemchat.core.message_labels import Role, Status
from gemchat.core.model_names import model_name
from gemchat.ui.chat_view.blocks import MESSAGE_ID, ROLE, Formats, answer_facts, insert_pieces, mix
from gemchat.ui.chat_view.links import app_href

if TYPE_CHECKING:
    from PySide6.QtGui import QImage

    from gemchat.core.markdown import MarkdownStyle
    from gemchat.core.messages import Message
    from gemchat.ui.chat_view.column import Column
    from gemchat.ui.chat_view.formulas import Formulas
    from gemchat.ui.chat_view.thoughts import Thoughts

THUMBNAIL_SIDE = 96
"""Pictures attached to a question are shown this big (the longer side, in pixels)."""
PICTURE_SIDE = 512
"""Pictures in an answer are shown at most this big, and never wider than the column."""


Prerendered = dict[tuple[int, str], tuple[str, ...]]
"""An answer's HTML pieces, by its id and the Markdown they were made from."""


def shown_markdown(message: Message) -> str:
    """An answer's Markdown as shown: with numbered links to its sources when it was grounded with Google Search."""
    if not message.grounding:
        return message.text
    from gemchat.core.grounding import cite

    return cite(message.text, message.grounding)


def prerender(messages: Iterable[Message], style: MarkdownStyle) -> Prerendered:
    """The HTML of the answers among `messages`, as `MessageWriter.insert_message` makes it; Qt-free, so the
    start-up thread makes it for the chat shown first and the UI thread only inserts it."""
    from gemchat.core.markdown import render_pieces

    return {(m.id, text): render_pieces(text, m.id, style)
            for m in messages if m.role is Role.MODEL and m.text and (text := shown_markdown(m))}


class MessageWriter:
    """Writes messages into the document at a cursor, in the shared formats.

    Attributes:
        attachment_path: where an attachment's copy is, by SHA-256 (set by the window); thumbnails are made from it.
    """

    attachment_path: Callable[[str], Path | None] | None = None

    def __init__(self, browser: QTextBrowser, formats: Formats, thoughts: Thoughts, formulas: Formulas,
                 column: Column) -> None:
        self._browser = browser
        self._column = column
        self._formats = formats
        self._thoughts = thoughts
        self._formulas = formulas
        self._prerendered: Prerendered = {}
        self._prerendered_style: MarkdownStyle | None = None

    def take_prerendered(self, style: MarkdownStyle, pieces: Prerendered) -> None:
        """Answers' HTML made on the start-up thread (`prerender`), used once instead of rendering them again.

        Rendering the last chat's latest answers took 15 ms of the 21-43 ms turn that shows
        it at start, the longest stall of the first seconds.
        """
        self._prerendered_style, self._prerendered = style, dict(pieces)

    def keep_prerendered_of(self, message_ids: Collection[int]) -> None:
        """Drops what was made for answers not among these (another chat is shown): it would never be used."""
        if self._prerendered:
            self._prerendered = {key: html for key, html in self._prerendered.items() if key[0] in message_ids}

    def insert_header(self, cursor: QTextCursor, message_id: int, role: Role, in_place: bool = False,
                      model: str | None = None) -> None:
        """Starts a message; `in_place` uses the (empty) block at the cursor instead of a new one.

        An answer's header is the model that wrote it (`model`; "Gemini" when
        not known) after the Gemini mark, a question's a quiet "You".
        """
        formats = self._formats.ready()
        block = QTextBlockFormat(formats.user_header_block if role is Role.USER else formats.model_header_block)
        block.setProperty(MESSAGE_ID, message_id)
        block.setProperty(ROLE, role.value)
        if in_place or (self._browser.document().isEmpty() and cursor.position() == 0):
            cursor.setBlockFormat(block)
        else:
            cursor.insertBlock(block)
        if role is Role.USER:
            cursor.insertText("You", formats.header_user)
        else:
            cursor.insertText(model_name(model), formats.header_model)  # after the mark `Decorations` draws

    def insert_message(self, cursor: QTextCursor, message: Message, in_place: bool = False) -> None:
        self.insert_header(cursor, message.id, message.role, in_place, message.answered_by)
        header = cursor.block()
        formats = self._formats.ready()
        if message.role is Role.USER:
            ems = self._column.measure(message.text)
            if message.attachments:
                ems = max(ems, 1000.0)  # thumbnails and chips: as wide as a bubble gets
            bubble = self._column.bubble_block(formats.user_body_block, ems)
            cursor.insertBlock(bubble, formats.body)
            cursor.insertText(message.text, formats.body)
            self._insert_attachments(cursor, message, bubble)
        elif message.text:
            from gemchat.core.formulas import MARK
            from gemchat.core.markdown import render_pieces

            start = cursor.position()
            text, style = shown_markdown(message), self._formats.markdown_style()
            pieces = self._prerendered.pop((message.id, text), None) if style == self._prerendered_style else None
            if pieces is None:
                pieces = render_pieces(text, message.id, style)
            insert_pieces(cursor, pieces)
            if any(MARK in html for html in pieces):
                self._formulas.place(start, cursor.position())
        if message.role is Role.MODEL:
            self._insert_pictures(cursor, message)
            self._insert_sources(cursor, message)
        self.insert_status(cursor, message)
        if message.role is Role.MODEL and message.thoughts:
            self._thoughts.put(message.id, message.thoughts, header)

    def _insert_attachments(self, cursor: QTextCursor, message: Message, bubble: QTextBlockFormat) -> None:
        """A question's files under it: a thumbnail for pictures, then a chip with name and size."""
        if not message.attachments:
            return
        from gemchat.core.attachments import format_size, kind_of
        from gemchat.ui.attachment_tray import kind_label
        from gemchat.ui.thumbnails import thumbnail

        formats = self._formats.ready()
        chip = QTextCharFormat(formats.note)
        chip.setFontItalic(False)
        chip.setBackground(mix(formats.user_tint, self._browser.palette().color(QPalette.ColorRole.Highlight), 0.18))
        cursor.insertBlock(bubble, formats.body)
        for n, attachment in enumerate(message.attachments):
            if n:
                cursor.insertText("   ", formats.body)
            image = None
            if kind_of(attachment.mime_type) == "image" and self.attachment_path is not None:
                image = thumbnail(attachment.sha256, self.attachment_path(attachment.sha256), THUMBNAIL_SIDE)
            if image is not None:
                self._insert_thumbnail(cursor, f"gemchat-thumbnail:{attachment.sha256}", image, attachment.name)
                label = f" {attachment.name} · {format_size(attachment.size)} "
            else:
                label = f" {kind_label(attachment)}  {attachment.name} · {format_size(attachment.size)} "
            chip.setToolTip(f"{attachment.name} ({attachment.mime_type})")
            cursor.insertText(label, chip)

    def _insert_pictures(self, cursor: QTextCursor, message: Message) -> None:
        """An answer's pictures (an image model's), each on its own line, scaled to the column.

        A click opens the picture full size in the system's viewer; the view's
        context menu saves or copies it (`ChatView`).
        """
        from gemchat.core.attachments import kind_of
        from gemchat.ui.thumbnails import thumbnail

        if self.attachment_path is None:
            return
        formats = self._formats.ready()
        column = max(64, int(self._column.width()) - 8)
        for n, attachment in enumerate(message.attachments):
            if kind_of(attachment.mime_type) != "image":
                continue
            image = thumbnail(attachment.sha256, self.attachment_path(attachment.sha256), min(PICTURE_SIDE, column))
            cursor.insertBlock(formats.body_block, formats.body)
            if image is None:
                cursor.insertText(f"[{attachment.name}: a picture gemchat cannot show]", formats.note)
                continue
            self._insert_thumbnail(cursor, f"gemchat-picture:{attachment.sha256}", image,
                                   f"{attachment.name}: click to open it full size; right-click to save or copy it",
                                   href=app_href("open-picture", message.id, n))

    def _insert_thumbnail(self, cursor: QTextCursor, name: str, image: QImage, tooltip: str,
                          href: str | None = None) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QTextDocument, QTextImageFormat

        # Added to the document, never loaded by name: loadResource still fetches nothing.
        self._browser.document().addResource(QTextDocument.ResourceType.ImageResource.value, QUrl(name), image)
        picture = QTextImageFormat()
        picture.setName(name)
        picture.setWidth(image.width())
        picture.setHeight(image.height())
        picture.setToolTip(tooltip)
        picture.setVerticalAlignment(QTextCharFormat.VerticalAlignment.AlignMiddle)
        if href is not None:
            picture.setAnchor(True)
            picture.setAnchorHref(href)
        cursor.insertImage(picture)
        cursor.insertText(" ", self._formats.body)

    def _insert_sources(self, cursor: QTextCursor, message: Message) -> None:
        """The numbered sources of a grounded answer, and what Gemini searched for, as links.

        Google sends a search-suggestions widget (`searchEntryPoint.renderedContent`)
        as HTML and CSS meant for a browser; QTextDocument cannot show it, so the
        searches themselves (`webSearchQueries`) are links to Google Search instead.
        Titles are inserted as text (never markup) and only http(s) addresses are links.
        """
        if not message.grounding:
            return
        from gemchat.core.grounding import pages_read, search_queries, search_url, sources

        found = sources(message.grounding)
        queries = search_queries(message.grounding)
        read = pages_read(message.grounding)
        if not found and not queries and not read:
            return
        formats = self._formats.ready()
        plain = QTextCharFormat(formats.note)
        plain.setFontItalic(False)
        heading = QTextCharFormat(plain)
        heading.setFontWeight(QFont.Weight.Bold)
        block = QTextBlockFormat(formats.body_block)
        block.setLeftMargin(4)
        if found:
            cursor.insertBlock(block, heading)
            cursor.insertText("Sources", heading)
            for source in found:
                cursor.insertBlock(block, plain)
                cursor.insertText(f"[{source.number}]  ", plain)
                if source.linkable:
                    cursor.insertText(source.title, formats.link(source.uri, source.uri))
                else:
                    cursor.insertText(source.title, plain)
        if queries:
            cursor.insertBlock(block, plain)
            cursor.insertText("Google Search:  ", heading)
            for n, query in enumerate(queries):
                if n:
                    cursor.insertText("  ·  ", plain)
                cursor.insertText(query, formats.link(search_url(query), f"Search Google for “{query}”"))
        if read:
            cursor.insertBlock(block, plain)
            cursor.insertText("Pages read:  ", heading)
            for n, page in enumerate(read):
                if n:
                    cursor.insertText("  ·  ", plain)
                if page.linkable:
                    cursor.insertText(page.url, formats.link(page.url, page.url))
                else:
                    cursor.insertText(page.url, plain)
                if not page.read:
                    cursor.insertText(f" ({page.status})", plain)

    def insert_status(self, cursor: QTextCursor, message: Message) -> None:
        """What happened to a message, under it: why it stopped, its versions, its usage."""
        formats = self._formats.ready()
        if message.status is Status.INTERRUPTED:
            cursor.insertBlock(formats.body_block, formats.note)
            if message.finish_reason in ("MAX_TOKENS", "CONTINUATION"):
                note = "Cut off: the answer reached the maximum length Gemini allows.  "
            elif message.finish_reason == UNFINISHED:
                note = "Cut off: the answer ended before Gemini said it was finished.  "
            else:
                note = "Stopped. The text above is what arrived.  "
            cursor.insertText(note, formats.note)
            if message.text.strip():
                cursor.insertText("Continue", formats.link(app_href("continue", message.id)))
        elif message.status is Status.ERROR:
            cursor.insertBlock(formats.body_block, formats.body)
            cursor.insertText("⚠ " + (message.error or "The answer failed.") + "  ", formats.error)
            cursor.insertText("Retry", formats.link(app_href("retry", message.id)))
        facts = answer_facts(message)
        if message.versions > 1 or facts:
            cursor.insertBlock(formats.body_block, formats.note)
            if message.versions > 1:
                self._insert_versions(cursor, message)
                if facts:
                    cursor.insertText("  ·  ", formats.note)
            if facts:
                cursor.insertText(facts, formats.note)

    def _insert_versions(self, cursor: QTextCursor, message: Message) -> None:
        """‹ 2/3 ›: the arrows are links where there is a version to go to."""
        note = self._formats.note
        # The arrows are padded with spaces inside the link: a wider target to click.
        if message.version > 1:
            cursor.insertText(" ‹ ", self._formats.link(app_href("version", message.id, -1)))
        else:
            cursor.insertText(" ‹ ", note)
        cursor.insertText(f" {message.version}/{message.versions} ", note)
        if message.version < message.versions:
            cursor.insertText(" › ", self._formats.link(app_href("version", message.id, 1)))
        else:
            cursor.insertText(" › ", note)
