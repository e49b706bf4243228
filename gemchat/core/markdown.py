"""Markdown to HTML for the conversation: a whole answer, or a streaming one piece by piece.

The HTML is written for QTextDocument's importer (a subset of HTML 4 with
inline styles, no cascade, no newlines between tags) but nothing here knows
Qt, so it is tested and timed without a display.

A streaming answer is cut into *pieces*: top-level blocks, the items of a
top-level list, and runs of lines of a top-level code fence. A piece is
*settled* once no later text can change it; its HTML is handed out once and
never again. Only the unsettled rest (the *tail*, usually the last paragraph
or list item) is parsed and rendered again as text arrives, so the cost of a
chunk is bounded by the size of the tail, not of the answer. Rendering a
whole text is the same process run once with everything settled, which is
what keeps the streamed result equal to the one-shot one.

Model output is untrusted: raw HTML is escaped (`html` off), link schemes are
checked by markdown-it, and images become links (nothing is ever fetched).

Formulas (`$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]`, parsed by mdit-py-plugins) are
shown as their source with a mark the view replaces by the typeset picture
(`gemchat.core.formulas`). A price is not a formula: `$` must touch the text it
encloses and no digit may touch it from outside ("$5 and $10" stays text).
"""

from __future__ import annotations

import html as _html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml, normalizeReference, unescapeAll
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

from gemchat.core.formulas import formula

CODE_HEADER_STATE = 0x6763
"""The user state (`QTextBlock.userState`) of a code block's header line: language and Copy."""
COPY_CODE_PREFIX = "gemchat:copy-code/"
"""Anchor of a code block's Copy link: ``gemchat:copy-code/<message_id>/<index>``."""

IMAGE_SCHEMES = ("http:", "https:")
"""An image with one of these becomes a link to it; any other becomes its alt text."""

# A long code fence is highlighted in runs of lines so each frame of a stream
# only highlights the run being written. A run ends after a blank line once it
# has MIN lines (blank lines rarely fall inside a multi-line string), or at MAX.
CODE_RUN_MIN_LINES = 16
CODE_RUN_MAX_LINES = 40


@dataclass(frozen=True)
class MarkdownStyle:
    """Colours baked into the HTML: QTextDocument styles text once, at import.

    Attributes:
        pygments_style: the Pygments style for code blocks.
        muted: secondary text (code language, quotes, thoughts).
        code_background: behind code blocks (the view draws them as cards).
        code_header_background: the strip at the top of a code card (language, Copy).
        inline_code_background: behind `inline code`.
        border: table rules.
        table_header_background: behind table headers.
        table_cell_background: behind table cells (the page colour).
    """

    pygments_style: str
    muted: str
    code_background: str
    inline_code_background: str
    border: str
    table_header_background: str
    table_cell_background: str = "#ffffff"
    code_header_background: str = "#e8eaed"


LIGHT = MarkdownStyle(
    pygments_style="default",
    muted="#5f6368",
    code_background="#f3f4f6",
    inline_code_background="#eceef1",
    border="#a8adb4",
    table_header_background="#f1f3f4",
)
DARK = MarkdownStyle(
    pygments_style="monokai",
    muted="#9aa0a6",
    code_background="#272822",
    inline_code_background="#3a3d41",
    border="#80868b",
    table_header_background="#303134",
    table_cell_background="#1b1c1e",
    code_header_background="#1e1f1b",
)


def palette_style(dark: bool, muted: str, page: str) -> MarkdownStyle:
    """The style for a window's palette: its muted text and page colours on the dark or light base.

    Plain values in, so the start-up thread can render with the window's colours
    without reading its palette (only the UI thread may).
    """
    return replace(DARK if dark else LIGHT, muted=muted, table_cell_background=page)


def make_parser() -> MarkdownIt:
    """CommonMark with tables, strikethrough and formulas; raw HTML is text, never markup."""
    md = MarkdownIt("commonmark", {"html": False}, renderer_cls=_QtHtmlRenderer)
    md.enable(["table", "strikethrough"])
    _add_formulas(md)
    return md


# `\[…\]` as texmath's "brackets" rules parse it, but never across a blank line (a formula open
# while streaming would otherwise take in paragraphs already settled), and only on lines of its
# own: after `\]` texmath would drop the rest of the line, and `\[1\]` inside a line is escaped
# brackets (citations are written so), not a formula.
_BRACKET_BLOCK = re.compile(r"^\\\[((?:(?!\n[ \t]*\n)[\s\S])+?)\\\][ \t]*(?=\n|$)")
_BRACKET_INLINE = re.compile(r"^\\\[(.+?)\\\](?=[ \t]*(?:\n|$))", re.DOTALL)
_BRACKET_CLOSED = re.compile(r"\\\][ \t]*$")
_BLANK = re.compile(r"[ \t]*")
FORMULA_TOKENS = ("math_inline", "math_inline_double", "math_block")


def _add_formulas(md: MarkdownIt) -> None:
    """`$…$` and `\\(…\\)` inline; `$$…$$` and `\\[…\\]` set apart, on lines of their own or in a paragraph.

    dollarmath's settings keep prices text: no space inside the dollars, no digit outside them;
    no blank line inside a `$$` block, for the reason given for `\\[` above.
    """
    from mdit_py_plugins.dollarmath import dollarmath_plugin
    from mdit_py_plugins.texmath.index import make_block_func, make_inline_func, rules

    dollarmath_plugin(md, allow_labels=False, allow_space=False, allow_digits=False, allow_blank_lines=False,
                      double_inline=True)
    md.inline.ruler.before("escape", "math_paren", make_inline_func(rules["brackets"]["inline"][0]))
    md.inline.ruler.before("escape", "math_bracket_inline", make_inline_func(
        {"name": "math_inline_double", "rex": _BRACKET_INLINE, "tmpl": "", "tag": "\\[", "pre": _line_start}))
    bracket_block = make_block_func({"name": "math_block", "rex": _BRACKET_BLOCK, "tmpl": "", "tag": "\\["})

    def bracket_block_with_lines(state: Any, start: int, end: int, silent: bool) -> bool:
        # texmath leaves the token's lines unset; the streaming renderer cuts pieces by them.
        if not bracket_block(state, start, end, silent):
            return False
        if not silent:
            state.tokens[-1].map = [start, state.line]
        return True

    md.block.ruler.before("fence", "math_bracket_block", bracket_block_with_lines)
    for name in FORMULA_TOKENS:  # the plugins' HTML is for a browser with KaTeX: ours replaces it
        md.add_render_rule(name, getattr(_QtHtmlRenderer, name))


def _line_start(src: str, begin: int) -> bool:
    return begin == 0 or src[begin - 1] == "\n"


_PARSER: MarkdownIt | None = None


def _parser() -> MarkdownIt:
    # Built on first use: importing this module must stay cheap (start-up).
    global _PARSER
    if _PARSER is None:
        _PARSER = make_parser()
    return _PARSER


def render_pieces(text: str, message_id: int = 0, style: MarkdownStyle = LIGHT) -> tuple[str, ...]:
    """The HTML of a whole answer, piece by piece: exactly what streaming the same text ends with.

    Each piece is inserted into a document on its own: QTextDocument's importer
    merges an empty block with the next one *within* a fragment, so pieces must
    be fragments of their own for the result not to depend on how text arrived.
    """
    stream = StreamingMarkdown(message_id, style)
    stream.append(text)
    return stream.finish().settled


def render_markdown(text: str, message_id: int = 0, style: MarkdownStyle = LIGHT) -> str:
    """The HTML of a whole answer as one string (for a browser or a test; Qt wants the pieces)."""
    return "".join(render_pieces(text, message_id, style))


WARM_LANGUAGES = ("python", "javascript", "typescript", "bash", "shell", "json")
"""Languages whose lexers `warm_up` prepares: compiling one takes up to 40 ms, too long mid-stream
(each costs memory too, so only the commonest; others compile on first use)."""


def warm_up(style: MarkdownStyle = LIGHT) -> Iterator[None]:
    """Prepares the parser and the common lexers, one step per `next()`, to run while idle."""
    render_markdown("# *warm* `up`\n\n- a\n\n| a |\n|---|\n| b |\n\n```\nx\n```\n", style=style)
    yield
    for language in WARM_LANGUAGES:
        _highlight("x = 1", language, style.pygments_style)
        yield


def code_blocks(text: str) -> list[str]:
    """The source of each code block of an answer, numbered as its Copy links are."""
    return [t.content for t in _parser().parse(normalize_newlines(text)) if t.type in ("fence", "code_block")]


def plain_text(text: str) -> str:
    """The words of Markdown as a listener should hear them: no marks, a table's rows on lines, cells parted by tabs.

    Code keeps its lines; raw HTML is text (as the view shows it); an image is its
    description. Blank lines are dropped, each line's spaces collapsed.
    """
    return _words(_parser().parse(normalize_newlines(text)))


def _words(tokens: Sequence[Token]) -> str:
    """`plain_text` of parsed Markdown."""
    out: list[str] = []
    for token in tokens:
        if token.type == "inline":
            out.append("".join(_inline_words(token.children or [])))
        elif token.type in ("fence", "code_block", "html_block"):
            out.append(token.content)
        elif token.type in ("th_open", "td_open") and out and not out[-1].endswith("\n"):
            out.append("\t")
        if token.type in ("paragraph_close", "heading_close", "tr_close", "fence", "code_block", "html_block"):
            out.append("\n")
    lines = ("\t".join(" ".join(cell.split()) for cell in line.split("\t")) for line in "".join(out).splitlines())
    return "\n".join(line for line in lines if line.strip())


def plain_text_start(text: str, chars: int) -> str:
    """`plain_text` of as much of `text` as it takes to say at least its first `chars` characters (all of it if
    shorter), parsing only that much: a screen reader hears an answer's start when it ends
    (`presenter.announcement`), and parsing all of a 300 kB answer for it froze the window for 200-360 ms.

    The Markdown is cut where a blank line is, which ends every block but a code block (whose lines read the
    same cut or not), or between two rows of a table or two items of a list (a new item ends the one before);
    a link defined further on, or a formula still open there, reads as its source. Not at any line's end: a
    code span or emphasis may go on over it (the property test found one).
    """
    size = chars * 4
    while size < len(text):
        cut, parsed = _cut_after(text, size)
        if cut < 0:
            break
        words = _words(parsed) if parsed is not None else plain_text(text[:cut])
        if len(words) > chars:
            return words
        size = (cut + 1) * 4
    return plain_text(text)


def _cut_after(text: str, size: int) -> tuple[int, list[Token] | None]:
    """Where `plain_text_start` may cut `text`, at `size` or after: the end of the line there if a table's row
    ends it, or a list's item when the next line starts another (the table or list read so far is the last
    block), with what was parsed to know it; else the next blank line (-1 if none), not parsed yet."""
    line = text.find("\n", size)
    blank = text.find("\n\n", size)
    if line < 0 or line == blank:
        return blank, None
    tokens = _parser().parse(normalize_newlines(text[:line]))
    last = tokens[-1].type if tokens else ""
    ends_row = last == "table_close"
    ends_item = last in ("bullet_list_close", "ordered_list_close") and _ITEM.match(text, line + 1) is not None
    return (line, tokens) if ends_row or ends_item else (blank, None)


_ITEM = re.compile(r"(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
"""A line starting a list's item at the left margin, with words: it ends any item before it."""


def _inline_words(children: Sequence[Token]) -> Iterator[str]:
    for child in children:
        if child.type in ("text", "code_inline", "html_inline"):
            yield child.content
        elif child.type == "image":
            yield "".join(_inline_words(child.children or []))
        elif child.type == "softbreak":
            yield " "
        elif child.type == "hardbreak":
            yield "\n"


def normalize_newlines(text: str) -> str:
    """What markdown-it does to its input, done first so line numbers match ours."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.replace("\0", "\ufffd") if "\0" in text else text


# -- HTML for QTextDocument ------------------------------------------------------------


def _style(token_env: dict[str, Any]) -> MarkdownStyle:
    return token_env.get("style", LIGHT)


class _QtHtmlRenderer(RendererHTML):
    """markdown-it's HTML renderer, with no newlines between tags (QTextDocument
    turns them into spaces), inline styles, highlighted code and no images."""

    def renderToken(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:  # noqa: N802
        token = tokens[idx]
        if token.type == "paragraph_open" and idx and tokens[idx - 1].type == "list_item_open":
            return ""  # a list item's first paragraph is its text, tight list or loose
        if token.type == "paragraph_close" and idx >= 3 and tokens[idx - 3].type == "list_item_open":
            return ""
        if token.nesting == -1:
            return f"</{token.tag}>"
        return f"<{token.tag}{self.renderAttrs(token)}{_tag_style(token, _style(env))}>"

    def code_inline(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        background = _style(env).inline_code_background
        return f'<code style="background-color:{background};">{escapeHtml(tokens[idx].content)}</code>'

    def code_block(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return _code_html(tokens[idx].content, "", _next_code_index(env), env)

    def fence(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return _code_html(tokens[idx].content, _language(tokens[idx].info), _next_code_index(env), env)

    def image(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        alt = self.renderInlineAsText(token.children or [], options, env)
        src = str(token.attrGet("src") or "")
        label = escapeHtml(alt or src or "image")
        if src.lower().startswith(IMAGE_SCHEMES):
            return f'<a href="{escapeHtml(src)}">{label}</a>'
        return label

    def hardbreak(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return "<br>"

    def softbreak(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        # A `$$` formula on lines of its own inside a paragraph keeps them.
        near = tokens[idx - 1 : idx + 2 : 2] if idx else tokens[idx + 1 : idx + 2]
        return "<br>" if any(t.type == "math_inline_double" for t in near) else " "

    def math_inline(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        if idx and tokens[idx - 1].type == "text" and tokens[idx - 1].content.endswith("$"):
            # `$$x$`: a `$$` formula still being written (its other half comes later in the stream), not a `$`
            # and a formula that would show for a moment, then turn into one set apart.
            return escapeHtml(f"{token.markup}{token.content}{token.markup}")
        return _formula_html(token, False, env)

    def math_inline_double(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return _formula_html(tokens[idx], True, env)

    def math_block(self, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
        return f'<p align="center" style="margin-top:8px; margin-bottom:8px;">{_formula_html(tokens[idx], True, env)}</p>'


def _formula_html(token: Token, display: bool, env: dict[str, Any]) -> str:
    """A formula's source, code-like, marked for the view to put its picture there (`gemchat.core.formulas`)."""
    found = formula(token.markup, token.content, display)
    mark = f'<a name="{escapeHtml(found.mark())}"></a>' if found.typesettable else ""
    return (f'<code style="background-color:{_style(env).inline_code_background}; white-space:pre-wrap;">'
            f"{mark}{escapeHtml(found.shown)}</code>")


_HEADING_SIZES = {"h1": "x-large", "h2": "large", "h3": "medium", "h4": "medium", "h5": "medium", "h6": "medium"}


def _tag_style(token: Token, style: MarkdownStyle) -> str:
    tag = token.tag
    if tag in _HEADING_SIZES:
        return f' style="font-size:{_HEADING_SIZES[tag]}; margin-top:14px; margin-bottom:6px;"'
    if tag == "table":
        # Rules drawn as 1 px of table background between cells: Qt paints
        # `border-collapse` tables several times slower, every frame they are in view.
        return (f' border="0" cellspacing="1" cellpadding="5" bgcolor="{style.border}"'
                ' style="margin-top:14px; margin-bottom:8px;"')
    if tag == "th":
        return f' bgcolor="{style.table_header_background}"'
    if tag == "td":
        return f' bgcolor="{style.table_cell_background}"'
    if tag == "blockquote":
        return f' style="color:{style.muted}; margin-left:14px; margin-right:0px;"'
    return ""


def _language(info: str) -> str:
    info = unescapeAll(info).strip()
    return info.split(maxsplit=1)[0] if info else ""


def _next_code_index(env: dict[str, Any]) -> int:
    index = env.get("code_index", 0)
    env["code_index"] = index + 1
    return index


def _code_header(language: str, index: int, env: dict[str, Any]) -> str:
    style = _style(env)
    href = f"{COPY_CODE_PREFIX}{env.get('message_id', 0)}/{index}"
    name = escapeHtml(language or "code")
    # The user state marks the header for the view, which draws the block and its lines as one card.
    return (f'<p style="margin-top:14px; margin-bottom:0px; -qt-user-state:{CODE_HEADER_STATE};'
            f' background-color:{style.code_background};">'
            f'<span style="color:{style.muted}; font-size:small;">&nbsp;{name}&nbsp;&nbsp;&nbsp;&nbsp;</span>'
            f'<a href="{href}" style="font-size:small;">Copy</a></p>')


def _code_lines(code: str, language: str, env: dict[str, Any]) -> str:
    """One run of code lines, highlighted; the lines are whole (no header, no margins)."""
    style = _style(env)
    code = code[:-1] if code.endswith("\n") else code
    body = _highlight(code, language, style.pygments_style)
    return (f'<pre style="margin-top:0px; margin-bottom:0px; background-color:{style.code_background};">'
            f"{body}</pre>")


def _code_html(code: str, language: str, index: int, env: dict[str, Any]) -> str:
    if not code:
        return _code_header(language, index, env)
    return _code_header(language, index, env) + _code_lines(code, language, env)


_LINE = re.compile(r"[^\n]*\n|[^\n]+$")

_LEXERS: dict[tuple[str, str], Any] = {}


def _highlight(code: str, language: str, style_name: str) -> str:
    """Pygments HTML with inline styles (QTextDocument has no class selectors)."""
    if not language:
        return escapeHtml(code)
    key = (language.lower(), style_name)
    if key not in _LEXERS:
        _LEXERS[key] = _make_highlighter(language, style_name)
    pair = _LEXERS[key]
    if pair is None:
        return escapeHtml(code)
    from pygments import highlight

    lexer, formatter = pair
    out = highlight(code, lexer, formatter)
    return out[:-1] if out.endswith("\n") else out


def _make_highlighter(language: str, style_name: str) -> tuple[Any, Any] | None:
    # Imported here, not at the top: Pygments loads lexers and styles on demand.
    from pygments.formatters.html import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None
    return lexer, HtmlFormatter(nowrap=True, noclasses=True, style=style_name)


# -- streaming --------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderUpdate:
    """What changed in an answer's HTML since the previous update.

    Attributes:
        settled: HTML pieces to add once after what was settled before; never change again.
        tail: HTML pieces of the unsettled rest; replace the previous tail.
        reset: the settled HTML handed out so far is wrong (a reference definition
            arrived for a link above it): drop it all; `settled` then holds everything.
    """

    settled: tuple[str, ...]
    tail: tuple[str, ...]
    reset: bool = False


@dataclass(frozen=True)
class _ListContinuation:
    """The pending text starts with the next item of a list whose items above are settled."""

    next_number: int


@dataclass(frozen=True)
class _FenceContinuation:
    """The pending text starts inside a code fence whose header and first lines are settled."""

    opener: str  # the fence's first line with its newline, parsed again before the pending text
    language: str
    index: int


@dataclass
class _Piece:
    html: str
    end_line: int  # first line after the piece's source, in pending-text lines
    stable: bool
    code_blocks: int = 0  # code blocks numbered inside it
    continuation: _ListContinuation | _FenceContinuation | None = None


@dataclass
class StreamingMarkdown:
    """One answer's Markdown as it streams, and the HTML of its settled part.

    `append` is cheap (it stores text); `update` parses the unsettled rest and
    says what to show. Only the text after the last settled piece is kept as
    one string; the settled text is kept as a list of parts.
    """

    message_id: int = 0
    style: MarkdownStyle = LIGHT
    _settled_parts: list[str] = field(default_factory=list)
    _pending: str = ""
    _carry: str = ""  # a trailing "\r" held back until we know whether "\n" follows
    _references: dict[str, Any] = field(default_factory=dict)
    _code_index: int = 0
    _list: _ListContinuation | None = None
    _fence: _FenceContinuation | None = None
    _dirty: bool = False

    @property
    def source(self) -> str:
        """The whole Markdown text so far."""
        return "".join(self._settled_parts) + self._pending + self._carry

    @property
    def pending_length(self) -> int:
        """Characters not settled yet: what each update parses again."""
        return len(self._pending)

    @property
    def changed(self) -> bool:
        """Whether text arrived since the last update."""
        return self._dirty

    def append(self, text: str) -> None:
        text = self._carry + text
        self._carry = ""
        if text.endswith("\r"):
            text, self._carry = text[:-1], "\r"
        self._pending += normalize_newlines(text)
        self._dirty = True

    def finish(self) -> RenderUpdate:
        """Everything becomes settled: the answer is complete (or stopped)."""
        if self._carry:
            self._pending += "\n"
            self._carry = ""
        return self.update(final=True)

    def update(self, final: bool = False) -> RenderUpdate:
        """Parses the unsettled text: newly settled HTML, and the tail to show now."""
        self._dirty = False
        prefix = self._fence.opener if self._fence is not None else ""
        text = prefix + self._pending
        lines = text.split("\n")
        shift = 1 if prefix else 0
        env: dict[str, Any] = {
            "references": dict(self._references),
            "style": self.style,
            "message_id": self.message_id,
        }
        tokens = _parser().parse(text, env)
        pieces = self._pieces(tokens, lines, shift, final, env)
        # At the end nothing more can arrive: every piece settles, whatever it mentions.
        count = len(pieces) if final else self._settle_count(pieces, env, lines, shift,
                                                             _open_formula_line(lines, shift, tokens))
        settled_pieces, tail_pieces = pieces[:count], pieces[count:]
        tail = tuple(p.html for p in tail_pieces)
        if not settled_pieces:
            late = {label for label in env.get("references", {}) if label not in self._references}
            if final and late and _mentions_any("".join(self._settled_parts), late):
                return self._restart(final)  # a definition in the last lines changes a settled link
            return RenderUpdate((), tail)
        end_line = settled_pieces[-1].end_line
        offset = sum(len(line) + 1 for line in lines[shift : shift + end_line])
        offset = min(offset, len(self._pending))
        new_labels = {
            label: ref for label, ref in env.get("references", {}).items()
            if label not in self._references and (final or ref["map"][0] - shift < end_line)
        }
        reset = bool(new_labels) and _mentions_any("".join(self._settled_parts), new_labels)
        self._settled_parts.append(self._pending[:offset])
        self._pending = self._pending[offset:]
        self._references.update(new_labels)
        self._code_index += sum(p.code_blocks for p in settled_pieces)
        last = settled_pieces[-1].continuation
        self._list = last if isinstance(last, _ListContinuation) else None
        self._fence = last if isinstance(last, _FenceContinuation) else None
        if reset:
            return self._restart(final)
        return RenderUpdate(tuple(p.html for p in settled_pieces), tail)

    def _restart(self, final: bool) -> RenderUpdate:
        """Renders everything again from the start (rare: a late reference definition)."""
        text = "".join(self._settled_parts) + self._pending
        carry = self._carry
        fresh = StreamingMarkdown(self.message_id, self.style)
        fresh._pending = text
        update = fresh.update(final)
        fresh._carry = carry
        self.__dict__.update(fresh.__dict__)
        return RenderUpdate(update.settled, update.tail, reset=True)

    # -- pieces

    def _pieces(self, tokens: list[Token], lines: list[str], shift: int, final: bool,
                env: dict[str, Any]) -> list[_Piece]:
        renderer: _QtHtmlRenderer = _parser().renderer  # type: ignore[assignment]
        options = _parser().options
        complete = len(lines) - 1  # lines before this index end with a newline

        def settled_after(next_start: int) -> bool:
            # A unit is final once the next one has begun on a whole line and the
            # line after it is whole too (a table needs one line of look-ahead).
            return final or next_start + 1 < complete

        groups = _top_level_groups(tokens)
        pieces: list[_Piece] = []
        env["code_index"] = self._code_index
        for number, (a, b) in enumerate(groups):
            first = tokens[a]
            start, end = first.map or (0, 0)
            next_start = (tokens[groups[number + 1][0]].map or (0, 0))[0] if number + 1 < len(groups) else None
            closed = next_start is not None and settled_after(next_start)
            if first.type == "fence" and number == 0 and self._fence is not None:
                pieces.extend(self._fence_pieces(first, start, end, lines, final, env, self._fence, shift))
                continue
            if first.type == "fence":
                pieces.extend(self._fence_pieces(first, start, end, lines, final, env, None, shift))
                continue
            if first.type in ("bullet_list_open", "ordered_list_open"):
                cont = self._list if number == 0 and not shift else None
                pieces.extend(self._list_pieces(tokens, a, b, closed or final, settled_after, env, cont, shift))
                continue
            if first.type in ("heading_open", "hr") and end - 1 < complete and "|" not in lines[start]:
                # One line, whole: nothing below can change it. (A line with a "|" can: followed by a
                # delimiter row, "# a | b" is a table's header, as tables come before headings.)
                closed = True
            before = env["code_index"]
            html = renderer.render(tokens[a:b], options, env)
            pieces.append(_Piece(html, end - shift, closed or final, env["code_index"] - before))
        return pieces

    def _list_pieces(self, tokens: list[Token], a: int, b: int, closed: bool, settled_after: Any,
                     env: dict[str, Any], cont: _ListContinuation | None, shift: int) -> list[_Piece]:
        renderer: _QtHtmlRenderer = _parser().renderer  # type: ignore[assignment]
        options = _parser().options
        opener = tokens[a]
        ordered = opener.type == "ordered_list_open"
        items: list[tuple[int, int]] = []
        i = a + 1
        while i < b - 1:
            j = _matching_close(tokens, i)
            items.append((i, j + 1))
            i = j + 1
        number = cont.next_number if cont else int(opener.attrGet("start") or 1)
        pieces = []
        for k, (ia, ib) in enumerate(items):
            last = k == len(items) - 1
            top = "margin-top:2px;" if (k or cont) else "margin-top:6px;"
            if ordered:
                wrapper = f'<ol start="{number}" style="{top} margin-bottom:0px;">', "</ol>"
            else:
                wrapper = f'<ul style="{top} margin-bottom:0px;">', "</ul>"
            before = env["code_index"]
            html = wrapper[0] + renderer.render(tokens[ia:ib], options, env) + wrapper[1]
            if last:
                end, stable = (opener.map or (0, 0))[1], closed
                continuation = None
            else:
                end = (tokens[items[k + 1][0]].map or (0, 0))[0]
                stable = settled_after(end)
                continuation = _ListContinuation(number + 1)
            pieces.append(_Piece(html, end - shift, stable, env["code_index"] - before, continuation))
            number += 1
        return pieces

    def _fence_pieces(self, token: Token, start: int, end: int, lines: list[str], final: bool,
                      env: dict[str, Any], cont: _FenceContinuation | None, shift: int) -> list[_Piece]:
        complete = len(lines) - 1
        content = token.content
        code_lines = _LINE.findall(content)
        closed_fence = end - start - 1 > len(code_lines)  # the closing line is inside the map
        closed = final or (closed_fence and end - 1 < complete)
        pieces: list[_Piece] = []
        if cont is None:
            language = _language(token.info)
            index = env["code_index"]
            env["code_index"] = index + 1
            opener = lines[start] + "\n"
            continuation = _FenceContinuation(opener, language, index)
            header_end = start + 1
            pieces.append(_Piece(_code_header(language, index, env), header_end - shift,
                                 final or start < complete, 1, continuation))
        else:
            language, index, continuation = cont.language, cont.index, cont
        whole = sum(1 for line in code_lines if line.endswith("\n"))
        first_line = start + 1
        for run_start, run_end, stable in _code_runs(code_lines, whole, closed):
            is_last = run_end == len(code_lines)
            run_html = _code_lines("".join(code_lines[run_start:run_end]), language, env)
            piece_end = end if (is_last and closed_fence) else first_line + run_end
            pieces.append(_Piece(run_html, piece_end - shift, stable,
                                 continuation=None if (is_last and closed) else continuation))
        if not code_lines and pieces:
            pieces[-1].end_line = end - shift
            pieces[-1].stable = pieces[-1].stable and closed
            if closed:
                pieces[-1].continuation = None
        return pieces

    # -- settling

    def _settle_count(self, pieces: list[_Piece], env: dict[str, Any], lines: list[str], shift: int,
                      held: int | None) -> int:
        """How many leading pieces settle now.

        A piece that mentions a reference label defined further down, in text
        not settling now, waits: its link would change if the definition does.
        Nothing from line `held` on settles (a display formula not closed yet).
        """
        count = 0
        while count < len(pieces) and pieces[count].stable and (held is None or pieces[count].end_line <= held):
            count += 1
        new = {label: ref["map"][0] - shift for label, ref in env.get("references", {}).items()
               if label not in self._references}
        if not new or not count:
            return count
        while count:
            end = pieces[count - 1].end_line
            waiting = {label for label, line in new.items() if line >= end}
            text = "\n".join(lines[shift : shift + end])
            if not waiting or not _mentions_any(text, waiting):
                return count
            count -= 1
        return 0


def _open_formula_line(lines: list[str], shift: int, tokens: list[Token]) -> int | None:
    """The first line (counted in pending-text lines) of a display formula that may still be open.

    `$$` or `\\[` starting a line (or a list item, or a quote's line) opens a
    formula that a later line may close: until one does, or a blank line shows
    none will, the lines after it may yet become part of it (in a list item,
    lines that are not indented too), so nothing from that line on settles.
    Lines of code and of formulas already closed are not looked at.
    """
    taken = [t.map for t in tokens if t.map and t.type in ("fence", "code_block", "math_block")]
    for i in range(shift, len(lines)):
        opener = _formula_opener(lines[i])
        if opener and not any(a <= i < b for a, b in taken) and _formula_may_open(lines, i, opener):
            return i - shift
    return None


_LIST_MARKER = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?=[ \t])")


def _formula_opener(line: str) -> str | None:
    """The line from its `$$` or `\\[` on, if one starts it after any quote and list markers."""
    rest = line.lstrip(" \t")
    while rest:
        if rest.startswith(">"):
            rest = rest[1:].lstrip(" \t")
        elif marker := _LIST_MARKER.match(rest):
            rest = rest[marker.end():].lstrip(" \t")
        else:
            break
    return rest if rest.startswith(("$$", "\\[")) else None


def _formula_may_open(lines: list[str], i: int, stripped: str) -> bool:
    """Whether the `$$` or `\\[` starting line `i` may yet open a formula on lines to come.

    Mirrors the two block rules: dollarmath's (a line ending in `$$` closes, a
    blank line ends the search, `$$` elsewhere on the first line means no block)
    and `_BRACKET_BLOCK`. Only whole lines count: the last may still grow.
    """
    complete = len(lines) - 1
    if stripped.startswith("$$"):
        if len(stripped.strip()) > 3 and stripped.strip().endswith("$$"):
            return i >= complete
        if "$$" in stripped[2:]:
            return False

        def closes(line: str) -> bool:
            return line.strip().endswith("$$")

        def blank(line: str) -> bool:
            return not line.strip()
    else:
        if _BRACKET_CLOSED.search(stripped[2:]):
            return i >= complete

        def closes(line: str) -> bool:
            return bool(_BRACKET_CLOSED.search(line))

        def blank(line: str) -> bool:
            return bool(_BLANK.fullmatch(line))
    return not any(blank(line) or closes(line) for line in lines[i + 1 : complete])


def _mentions_any(text: str, labels: Any) -> bool:
    """Whether any of these (normalized) reference labels may be used in `text`."""
    if not text or "[" not in text:
        return False
    folded = normalizeReference(text)
    return any(label in folded for label in labels)


def _code_runs(code_lines: list[str], whole: int, closed: bool) -> list[tuple[int, int, bool]]:
    """Splits a fence's lines into runs highlighted apart; the same runs whatever the chunking."""
    runs = []
    start, total = 0, len(code_lines)
    while start < total:
        end = None
        for k in range(start, total):
            size = k - start + 1
            if size >= CODE_RUN_MAX_LINES:
                end = k + 1
                break
            if size >= CODE_RUN_MIN_LINES and k < whole and not code_lines[k].strip():
                end = k + 1
                break
        if end is None:
            runs.append((start, total, closed))
            break
        runs.append((start, end, closed or end <= whole))
        start = end
    return runs


def _matching_close(tokens: list[Token], i: int) -> int:
    depth = 0
    for j in range(i, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def _top_level_groups(tokens: list[Token]) -> list[tuple[int, int]]:
    """Index ranges of the top-level blocks, each opening token to its closing one."""
    groups = []
    i = 0
    while i < len(tokens):
        j = _matching_close(tokens, i) if tokens[i].nesting == 1 else i
        groups.append((i, j + 1))
        i = j + 1
    return groups


def escape_text(text: str) -> str:
    """Plain text as HTML (user messages, thoughts' summary line)."""
    return _html.escape(text, quote=False)


__all__ = [
    "COPY_CODE_PREFIX",
    "DARK",
    "LIGHT",
    "MarkdownStyle",
    "RenderUpdate",
    "StreamingMarkdown",
    "code_blocks",
    "escape_text",
    "make_parser",
    "normalize_newlines",
    "render_markdown",
    "render_pieces",
    "warm_up",
]
