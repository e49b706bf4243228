"""Google Search grounding: numbered citations and sources from `groundingMetadata`.

Gemini says which parts of its answer a source supports as segments whose
indices are *byte* offsets into the UTF-8 answer; Python strings count code
points, so every offset is converted before use (an answer with "é" or "日本"
before a citation would otherwise put the marker inside a word).

Metadata is kept as the SDK dumps it (snake_case); camelCase, as on the wire
or in a hand-written import, is read too. Everything in it is untrusted: only
http(s) URIs become links, and titles are escaped wherever they are shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit

SEARCH_URL = "https://www.google.com/search?q="


@dataclass(frozen=True, slots=True)
class Source:
    """One grounding chunk, as shown in an answer's Sources list.

    Attributes:
        number: 1-based, as the citation markers in the text show it.
        uri: where it points (may be empty or a scheme that is not linked).
        title: the page title Gemini gave (untrusted text).
    """

    number: int
    uri: str
    title: str

    @property
    def linkable(self) -> bool:
        return is_web_link(self.uri)

    @property
    def domain(self) -> str:
        return urlsplit(self.uri).hostname or "" if self.linkable else ""


def is_web_link(uri: str) -> bool:
    """Only http(s) addresses with a host are ever made into links."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _get(mapping: Mapping[str, Any] | None, snake: str) -> Any:
    if not isinstance(mapping, Mapping):
        return None
    if snake in mapping:
        return mapping[snake]
    head, *rest = snake.split("_")
    return mapping.get(head + "".join(word.capitalize() for word in rest))


def sources(grounding: Mapping[str, Any] | None) -> list[Source]:
    """Every web source of an answer, numbered in Gemini's order."""
    found = []
    for index, chunk in enumerate(_get(grounding, "grounding_chunks") or []):
        web = _get(chunk, "web") or {}
        uri = str(_get(web, "uri") or "")
        title = " ".join(str(_get(web, "title") or _get(web, "domain") or uri or "Source").split())
        found.append(Source(index + 1, uri, title))
    return found


def search_queries(grounding: Mapping[str, Any] | None) -> list[str]:
    """What Gemini searched for, each once, in its order."""
    queries: list[str] = []
    for query in _get(grounding, "web_search_queries") or []:
        text = " ".join(str(query).split())
        if text and text not in queries:
            queries.append(text)
    return queries


def search_url(query: str) -> str:
    """A Google Search for `query`: what the search suggestion chip would have opened."""
    return SEARCH_URL + quote_plus(query)


def citation_points(text: str, grounding: Mapping[str, Any] | None) -> list[tuple[int, list[int]]]:
    """(character offset in `text`, source numbers) for each place a citation goes, in order.

    Supports ending at the same place are merged; a segment that ends past
    the text (an answer stopped early) or names no known source is skipped.
    """
    data = text.encode("utf-8")
    count = len(_get(grounding, "grounding_chunks") or [])
    by_offset: dict[int, list[int]] = {}
    for support in _get(grounding, "grounding_supports") or []:
        segment = _get(support, "segment") or {}
        end = _get(segment, "end_index")
        if not isinstance(end, int) or not 0 < end <= len(data):
            continue
        numbers = [i + 1 for i in _get(support, "grounding_chunk_indices") or []
                   if isinstance(i, int) and 0 <= i < count]
        if not numbers:
            continue
        # A cut in the middle of a character lands before it.
        offset = len(data[:end].decode("utf-8", errors="ignore"))
        merged = by_offset.setdefault(offset, [])
        merged.extend(n for n in numbers if n not in merged)
    return sorted((offset, sorted(numbers)) for offset, numbers in by_offset.items())


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _fenced_ranges(text: str) -> list[tuple[int, int]]:
    """[start, end) of each fenced code block, so no marker is put inside code."""
    ranges = []
    position = 0
    opened: tuple[int, str] | None = None
    for line in text.splitlines(keepends=True):
        match = _FENCE.match(line)
        if match:
            fence = match.group(1)
            if opened is None:
                opened = (position, fence)
            elif fence[0] == opened[1][0] and len(fence) >= len(opened[1]) and not line.strip(" \n`~"):
                ranges.append((opened[0], position + len(line)))
                opened = None
        position += len(line)
    if opened is not None:
        ranges.append((opened[0], len(text)))
    return ranges


def _marker(source: Source | None, number: int) -> str:
    if source is None or not source.linkable:
        return f"\\[{number}\\]"
    uri = re.sub(r"[\s<>\\]", lambda m: f"%{ord(m.group()):02X}", source.uri)
    title = source.title.replace("\\", "\\\\").replace('"', '\\"')
    return f'[\\[{number}\\]](<{uri}> "{title}")'


def cite(text: str, grounding: Mapping[str, Any] | None) -> str:
    """The answer's Markdown with a numbered link to its source after each supported passage.

    Markers go where Gemini's segments end; one that would fall inside a code
    block goes after the block instead.
    """
    points = citation_points(text, grounding)
    if not points:
        return text
    numbered = {s.number: s for s in sources(grounding)}
    fences = _fenced_ranges(text)
    moved: dict[int, list[int]] = {}
    for offset, numbers in points:
        offset = _safe_offset(text, offset, fences)
        merged = moved.setdefault(offset, [])
        merged.extend(n for n in numbers if n not in merged)
    pieces = []
    last = 0
    for offset in sorted(moved):
        before = text[last:offset]
        if before.endswith("!") and _unescaped(text, offset - 1):
            before = before[:-1] + "\\!"  # "![" would start an image, not a link
        pieces.append(before)
        markers = "".join(_marker(numbered.get(n), n) for n in sorted(moved[offset]))
        if (offset == 0 or text[offset - 1] == "\n") and offset < len(text):
            markers += "\n\n"  # its own paragraph, not the start of the next block's syntax
            if offset > 0 and _TABLE_ROW.match(_line_before(text, offset)):
                markers = "\n" + markers  # a line right under a table would be read as a row
        pieces.append(markers)
        last = offset
    pieces.append(text[last:])
    return "".join(pieces)


_TABLE_ROW = re.compile(r"^\s*\|")


def _line_before(text: str, offset: int) -> str:
    """The line that ends just before `offset` (which is at a line start)."""
    return text[text.rfind("\n", 0, offset - 1) + 1 : offset - 1]


_BLOCK_PREFIX = re.compile(r"^\s*(?:(?:[-*+]|\d{1,9}[.)]|#{1,6}|>)\s+)*")


def _inline_safe(line: str, at: int) -> bool:
    """Whether a marker can go at `at` in this line: after a word, before a space or the
    line's end, past the list/heading/quote marks, and outside code spans, links and URLs."""
    if at <= _BLOCK_PREFIX.match(line).end() or not line[at - 1].strip():  # type: ignore[union-attr]
        return False
    if at < len(line) and line[at] not in " \t":
        return False
    before = line[:at]
    return (before.count("`") % 2 == 0 and before.count("[") <= before.count("]")
            and before.count("<") <= before.count(">") and before.count("](") <= before.count(")"))


def _safe_offset(text: str, offset: int, fences: list[tuple[int, int]]) -> int:
    """Where a marker can go at or after `offset` without changing the Markdown around it.

    Gemini's segments usually end after a sentence, where the marker stays. One
    that ends after a list number ("1."), inside "8.0 m", a URL, code or a link
    would turn the list into a paragraph or break the link: it goes to the end
    of its line. After a code block or a table, markers go to the line after it,
    as their own paragraph (a line right under a table would be read as a row).
    """
    for start, end in fences:
        if start < offset < end:
            return end
    line_start = text.rfind("\n", 0, offset) + 1
    if offset == line_start and offset > 0:
        return offset  # already at a line start: after the previous block
    line_end = text.find("\n", offset)
    if line_end == -1:
        line_end = len(text)
    line = text[line_start:line_end]
    if not _TABLE_ROW.match(line):
        return offset if _inline_safe(line, offset - line_start) else line_end
    while line_end < len(text):  # a table: after its last row
        next_end = text.find("\n", line_end + 1)
        next_end = len(text) if next_end == -1 else next_end
        if not _TABLE_ROW.match(text[line_end + 1 : next_end]):
            break
        line_end = next_end
    return min(line_end + 1, len(text))


def _unescaped(text: str, index: int) -> bool:
    """Whether the character at `index` has an even number of backslashes before it."""
    backslashes = len(text[:index]) - len(text[:index].rstrip("\\"))
    return backslashes % 2 == 0


def merge(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any] | None:
    """Grounding that arrives over several chunks of a stream, as one.

    The service sends it whole with the last chunk; when parts come earlier,
    later lists of sources and supports replace earlier ones (they are
    cumulative) and queries add up.
    """
    if not new:
        return old
    if not old:
        return dict(new)
    merged = dict(old)
    for key, value in new.items():
        if key == "web_search_queries":
            merged[key] = list(dict.fromkeys([*(old.get(key) or []), *(value or [])]))
        elif value:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class PageRead:
    """A page the URL context tool fetched for an answer (`urlContextMetadata.urlMetadata`).

    Attributes:
        read: whether Gemini could read it; `status` says why not, in words.
        linkable: an http(s) address, so it may be a link.
    """

    url: str
    read: bool
    status: str
    linkable: bool


_URL_STATUS = {
    "URL_RETRIEVAL_STATUS_SUCCESS": "read",
    "URL_RETRIEVAL_STATUS_ERROR": "could not be read",
    "URL_RETRIEVAL_STATUS_PAYWALL": "behind a paywall",
    "URL_RETRIEVAL_STATUS_UNSAFE": "judged unsafe, not read",
}


def pages_read(grounding: dict[str, Any] | None) -> list[PageRead]:
    """The pages the URL context tool fetched, in the order Gemini listed them."""
    metadata = (grounding or {}).get("url_context_metadata")
    entries = metadata.get("url_metadata") if isinstance(metadata, dict) else None
    pages = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("retrieved_url"), str):
            continue
        url = entry["retrieved_url"]
        status = str(entry.get("url_retrieval_status") or "")
        pages.append(PageRead(url, status == "URL_RETRIEVAL_STATUS_SUCCESS",
                              _URL_STATUS.get(status, "not read"),
                              url.lower().startswith(("http://", "https://"))))
    return pages
