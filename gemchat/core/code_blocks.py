"""The code blocks of an answer's Markdown source, for "copy the last code block"."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # Imported on first use: the window imports this module before it is shown (start-up time).
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False})


def code_blocks(markdown: str) -> list[str]:
    """The source of every fenced or indented code block, in order, without the fences."""
    return [t.content for t in _parser().parse(markdown) if t.type in ("fence", "code_block")]
