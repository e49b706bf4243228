"""Markdown to HTML: what an answer looks like, what is never trusted, and streaming equal to one shot."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemchat.core.markdown import (
    CODE_RUN_MAX_LINES,
    COPY_CODE_PREFIX,
    DARK,
    LIGHT,
    WARM_LANGUAGES,
    StreamingMarkdown,
    code_blocks,
    escape_text,
    make_parser,
    plain_text,
    plain_text_start,
    render_markdown,
    warm_up,
)
from tests.examples import examples

# Lines that exercise the constructs where a later line can change an earlier block:
# setext headings, lazy continuation, loose lists, tables, fences, reference definitions.
MARKDOWN_LINES = [
    "# h", "## Heading two", "para text", "more *em* **b** `c`", "", "", "- item", "* star", "+ plus",
    "1. one", "2. two", "3) three", "  - nested", "    indented code", "> quote", "> - q item", "```",
    "```py", "~~~", "x = 1", "---", "===", "| a | b |", "|---|---|", "| 1 | 2 |", "[a]: http://x",
    "[a] link", "text [b](http://y)", "<b>html</b>", "   ", "\t- tab", "1.", "-", "  continued",
    "~~del~~", "![img](http://i)", "Steps:",
    # Formulas: display ones open across lines (and may never close), inline ones, and prices.
    "$$", "$$x^2", "y = 1$$", "$$a$$", "\\[", "\\]", "\\[x\\]", "\\[ y \\] tail", "$x$ and \\(y\\)",
    "costs $5 and $10", "\\$5", "  $$",
]
markdown_text = st.lists(
    st.sampled_from(MARKDOWN_LINES) | st.text(alphabet="-*_`#>[]()!|:=~ \tab1.\n<&\\$", max_size=10),
    max_size=25,
).map("\n".join)


def stream(text: str, cuts: list[int], check_every_step: bool = False) -> str:
    """Feeds `text` cut at `cuts`, as a stream would; returns the HTML shown at the end."""
    markdown = StreamingMarkdown(message_id=3)
    shown, previous = "", 0
    for cut in [*cuts, len(text)]:
        markdown.append(text[previous:cut])
        previous = cut
        update = markdown.update()
        shown = "".join(update.settled) if update.reset else shown + "".join(update.settled)
        if check_every_step and "]:" not in text[:cut]:
            assert shown + "".join(update.tail) == render_markdown(text[:cut], 3), text[:cut]
    update = markdown.finish()
    return "".join(update.settled) if update.reset else shown + "".join(update.settled)


@settings(max_examples=examples(400), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_any_text_streamed_in_any_pieces_renders_as_it_would_in_one_go(data: st.DataObject) -> None:
    text = data.draw(markdown_text)
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=20))))
    assert stream(text, cuts, check_every_step=True) == render_markdown(text, 3)


def test_a_forward_reference_is_a_link_once_its_definition_arrives() -> None:
    text = "See [the docs].\n\nMore text here.\n\nAnd more.\n\n[the docs]: https://ai.google.dev/\n\nEnd.\n"
    cuts = list(range(0, len(text), 3))
    html = stream(text, cuts)
    assert html == render_markdown(text, 3)
    assert '<a href="https://ai.google.dev/">the docs</a>' in html


def test_a_definition_arriving_mid_answer_redraws_it_in_its_own_style_and_code_numbers() -> None:
    # The link above was settled before its definition arrived: the answer is drawn again
    # from the start, mid-stream, and goes on streaming (a held-back "\r" included).
    chunks = ["See [the docs][manual] first.\n\n```py\nx = 1\n```\n\nPara three.\n\n",
              "[manual]: https://docs.example\n\nNext paragraph\n\nand more\n\nyet more\r", "\nlast line"]
    markdown = StreamingMarkdown(message_id=7, style=DARK)
    markdown.append(chunks[0])
    first = markdown.update()
    assert not first.reset and "[the docs][manual]" in "".join(first.settled)
    markdown.append(chunks[1])
    redrawn = markdown.update()
    assert redrawn.reset
    shown = "".join(redrawn.settled)
    assert shown + "".join(redrawn.tail) == render_markdown("".join(chunks[:2])[:-1], 7, DARK)
    assert '<a href="https://docs.example">the docs</a>' in shown and "gemchat:copy-code/7/0" in shown
    markdown.append(chunks[2])
    shown += "".join(markdown.update().settled)
    shown += "".join(markdown.finish().settled)
    assert shown == render_markdown("".join(chunks), 7, DARK)


def test_a_definition_whose_label_is_only_a_plain_word_above_redraws_nothing() -> None:
    # "manual" above is a word, not a link: the answer must not be drawn again from the start.
    markdown = StreamingMarkdown(message_id=7)
    markdown.append("The manual is good.\n\nPara.\n\n")
    markdown.update()
    markdown.append("[manual]: https://docs.example\n\nA\n\nB\n\nC")
    update = markdown.update()
    assert not update.reset and update.settled


def test_tables_render_as_tables_with_alignment() -> None:
    html = render_markdown("| Name | Size |\n|:--|--:|\n| a | 1 |\n| b | 22 |\n")
    assert "<table" in html and html.count("<tr>") == 3
    assert "<th " in html and 'bgcolor="' in html and 'style="text-align:right"' in html


def test_nested_lists_keep_their_nesting_and_numbers() -> None:
    html = render_markdown("1. one\n   - inner a\n   - inner b\n2. two\n3. three\n")
    assert html.count('<ol start=') == 3  # one list per top-level item, numbered 1, 2, 3
    assert '<ol start="2"' in html and '<ol start="3"' in html
    assert "<ul><li>inner a</li><li>inner b</li></ul>" in html


def test_tight_and_loose_lists_render_alike() -> None:
    """Looseness would change items above the one being written; it is not shown."""
    tight = render_markdown("- a\n- b\n")
    loose = render_markdown("- a\n\n- b\n")
    assert tight == loose


def test_raw_html_in_an_answer_is_shown_as_text() -> None:
    html = render_markdown('<script>alert(1)</script> <img src="http://x/y.png"> <a href="javascript:x">y</a>')
    assert "<script" not in html and "<img" not in html and "<a href" not in html
    assert "&lt;script&gt;" in html and "&lt;img" in html


def test_only_safe_link_schemes_become_links() -> None:
    html = render_markdown("[a](https://ok.example/) [b](javascript:alert(1)) [c](file:///etc/passwd) "
                           "[d](mailto:a@b.c) [e](vbscript:x)")
    assert '<a href="https://ok.example/">' in html and '<a href="mailto:a@b.c">' in html
    assert "javascript:" not in html.replace("[b](javascript:alert(1))", "")
    assert 'href="file:' not in html and 'href="vbscript:' not in html


def test_images_become_links_and_are_never_loaded() -> None:
    html = render_markdown("![chart](https://example.com/c.png) ![local](/etc/x.png) ![](data:image/png;base64,AA)")
    assert "<img" not in html
    assert '<a href="https://example.com/c.png">chart</a>' in html
    assert "local" in html and 'href="/etc' not in html and 'href="data:' not in html


def test_code_blocks_are_highlighted_and_numbered_like_their_copy_links() -> None:
    text = "```python\ndef f():\n    return 1\n```\n\n- item\n\n  ```bash\n  echo hi\n  ```\n\nText.\n\n    indented\n"
    html = render_markdown(text, message_id=9)
    assert f'href="{COPY_CODE_PREFIX}9/0"' in html and f'href="{COPY_CODE_PREFIX}9/1"' in html
    assert f'href="{COPY_CODE_PREFIX}9/2"' in html
    assert "<span style=" in html and "python" in html
    assert code_blocks(text) == ["def f():\n    return 1\n", "echo hi\n", "indented\n"]


def test_an_open_fence_is_code_while_it_streams_and_closes_across_chunks() -> None:
    markdown = StreamingMarkdown(message_id=1)
    markdown.append("Intro.\n\n```py\nx = 1\n")
    update = markdown.update()
    now = "".join(update.settled + update.tail)
    assert "<pre" in now and "Intro." in now
    markdown.append("y = 2\n``")
    first = markdown.update()
    markdown.append("`\n\nAfter the code.\n\nMore.\n")
    second = markdown.update()
    final = markdown.finish()
    shown = "".join(update.settled + first.settled + second.settled + final.settled)
    assert shown == render_markdown("Intro.\n\n```py\nx = 1\ny = 2\n```\n\nAfter the code.\n\nMore.\n", 1)
    assert "<p>After the code.</p>" in shown


def test_a_long_fence_settles_in_runs_so_each_chunk_stays_cheap() -> None:
    lines = "".join(f"value_{i} = {i}\n" for i in range(300))
    markdown = StreamingMarkdown()
    markdown.append("```python\n")
    pending = []
    for i in range(0, len(lines), 40):
        markdown.append(lines[i:i + 40])
        markdown.update()
        pending.append(markdown.pending_length)
    assert max(pending) < CODE_RUN_MAX_LINES * 20  # at most one run of lines is parsed again


def test_a_long_answer_is_never_parsed_again_from_the_start() -> None:
    sys.path.insert(0, "benchmarks")
    from _corpus import answer  # the benchmarks' answer-like Markdown

    text = answer(60_000)
    markdown = StreamingMarkdown()
    longest = 0
    for i in range(0, len(text), 40):
        markdown.append(text[i:i + 40])
        markdown.update()
        longest = max(longest, markdown.pending_length)
    assert longest < 3000


def test_dark_style_uses_dark_code_colours() -> None:
    text = "```python\nprint(1)\n```\n"
    assert DARK.code_background in render_markdown(text, style=DARK)
    assert LIGHT.code_background in render_markdown(text, style=LIGHT)


def test_the_markdown_module_imports_no_qt_and_defers_pygments() -> None:
    code = ("import sys, gemchat.core.markdown as m; "
            "assert not [k for k in sys.modules if k.startswith('PySide6')]; "
            "assert 'pygments' not in sys.modules; m.render_markdown('x'); "
            "assert 'pygments' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_answers_may_use_tables_and_strikethrough_but_raw_html_shows_as_text() -> None:
    """Built fresh here: the app's own parser is made once, on first use."""
    html = make_parser().render("A | B\n--|--\n1 | 2\n\n~~gone~~ <i>raw</i> **bold**\n")
    assert '<table border="0" cellspacing="1"' in html  # the table as Qt can draw it, with its grid
    assert ">1</td>" in html and "<s>gone</s>" in html and "<strong>bold</strong>" in html
    assert "&lt;i&gt;raw&lt;/i&gt;" in html


def test_code_inside_a_list_and_indented_code_show_their_lines_under_a_header_with_a_copy_link() -> None:
    html = render_markdown("- step one\n\n  ```bash\n  echo hi\n  ```\n\n- step two\n\n  ```\n  ```\n\n"
                           "Text.\n\n    indented <x>\n", message_id=4)
    bash = html.index("&nbsp;bash&nbsp;")
    assert html.index(f'href="{COPY_CODE_PREFIX}4/0"') > bash
    assert '<span style="color: #008000">echo</span>' in html[bash:]  # highlighted as bash
    empty = html.index(f'href="{COPY_CODE_PREFIX}4/1"')  # an empty block: its header, no lines
    assert "<pre" not in html[empty:html.index("</li>", empty)]
    indented = html.index(f'href="{COPY_CODE_PREFIX}4/2"')
    assert "&nbsp;code&nbsp;" in html[empty - 200:empty] and "indented &lt;x&gt;</pre>" in html[indented:]


def test_warming_up_prepares_the_parser_and_each_common_languages_highlighter() -> None:
    steps = list(warm_up(DARK))
    assert len(steps) == 1 + len(WARM_LANGUAGES)
    html = render_markdown("```json\n{\"a\": 1}\n```\n", style=DARK)
    assert "<span style=" in html  # json, one of the warmed languages, is highlighted
    assert escape_text("a < b & c > d") == "a &lt; b &amp; c &gt; d"  # a user's own words: shown as typed


def test_an_indented_code_block_is_labelled_code_and_left_unhighlighted() -> None:
    html = render_markdown("Text.\n\n    x = 1\n", message_id=5)
    assert "&nbsp;code&nbsp;" in html and f'href="{COPY_CODE_PREFIX}5/0"' in html
    assert html.endswith(";\">x = 1</pre>")  # no highlighting spans


def test_an_empty_code_block_keeps_its_language_label() -> None:
    for text in ("```py\n```\n", "- item\n\n  ```py\n  ```\n"):  # on its own, in a list
        html = render_markdown(text)
        assert "&nbsp;py&nbsp;" in html and "<pre" not in html


def test_an_image_without_alt_text_is_named_by_its_address_or_as_image() -> None:
    assert render_markdown("![](https://example.com/c.png)") == \
        '<p><a href="https://example.com/c.png">https://example.com/c.png</a></p>'
    assert render_markdown("![]()") == "<p>image</p>"


def test_a_hard_line_break_stays_a_line_break() -> None:
    assert render_markdown("one  \ntwo\\\nthree") == "<p>one<br>two<br>three</p>"


def test_an_answer_ending_in_a_carriage_return_keeps_all_its_text() -> None:
    markdown = StreamingMarkdown()
    markdown.append("First paragraph.\n\nSecond one.\r")
    assert "".join(markdown.finish().settled) == "<p>First paragraph.</p><p>Second one.</p>"


def test_code_is_highlighted_with_inline_colours_of_the_answers_style_keeping_blank_lines() -> None:
    import gemchat.core.markdown as markdown_module

    markdown_module._LEXERS.clear()  # highlighters are kept per process: build this one anew
    html = render_markdown("```python\n\nx = 1\n\n```\n", style=DARK)
    assert html.endswith('<pre style="margin-top:0px; margin-bottom:0px; background-color:#272822;">\n'
                         '<span style="color: #F8F8F2">x</span> <span style="color: #FF4689">=</span> '
                         '<span style="color: #AE81FF">1</span></pre>')


def test_list_items_each_render_as_their_own_numbered_list_once() -> None:
    assert render_markdown("- a\n- b\n") == (
        '<ul style="margin-top:6px; margin-bottom:0px;"><li>a</li></ul>'
        '<ul style="margin-top:2px; margin-bottom:0px;"><li>b</li></ul>')


def test_a_list_numbered_all_ones_counts_up_when_streamed_line_by_line() -> None:
    text = "1. a\n1. b\n1. c\n1. d\n"
    html = stream(text, [5, 10, 15])
    assert html == render_markdown(text)
    assert [f'<ol start="{n}"' in html for n in (1, 2, 3, 4)] == [True] * 4


def test_soft_line_breaks_read_as_spaces_and_inline_code_is_shaded() -> None:
    assert render_markdown("one\ntwo `x`") == (
        f'<p>one two <code style="background-color:{LIGHT.inline_code_background};">x</code></p>')


def _long_code(language: str, lines: int) -> str:
    body = "\n".join("" if n % 7 == 6 else f"value_{n} = {n}  # line {n}" for n in range(lines))
    return f"```{language}\n{body}\n```"


# Hand-written answers with every construct the streaming renderer cuts apart: fences longer
# than a run (with blank lines inside), fences in lists, nested and loose lists, numbered lists
# starting anywhere, tables, setext headings, quotes, indented code, and a fence left open.
TRICKY_ANSWERS = [
    "# Plan\n\nIntro with **bold** and `code`.\n\n" + _long_code("python", 95) + "\n\nAfter the code.\n\n"
    "Another paragraph.\n\n- a list\n- after it\n\n" + _long_code("bash", 3) + "\nRight after a fence.\n\nThe end.\n",
    "Steps:\n1. first\n2. second\n   - nested a\n   - nested b\n3. third\n\n   more of third\n\n4. fourth\n",
    "3. starts at three\n4. four\n\n- loose a\n\n- loose b\n\nText\n===\n\nSub\n---\n",
    "| a | b |\n|:--|--:|\n| 1 | 2 |\n| 3 | 4 |\nstill a row?\n\n> quote\n> - item in quote\n\nend\n",
    "- item with code:\n\n  ```bash\n  echo one\n  echo two\n  ```\n- next item\n\n    indented code\n    more\n",
    "~~~\n" + "\n".join(f"tilde {n}" for n in range(45)) + "\n~~~~\n\n" + _long_code("js", 50)[:-4],
    # Formulas: display ones over several lines (one closed only after a list began below its opening),
    # inline ones, ones inside a paragraph, one never closed (a blank line ends it), and prices.
    "The product $65465 - 6544 \\times 65464$ and \\(\\alpha+\\beta\\):\n\n$$\n\\int_0^1 x^2\\,dx = \\frac{1}{3}\n$$\n\n"
    "\\[\n\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}\n\\]\nIt costs $5 and $10, not $x$.\n\n"
    "$$\nx\n- not a list\n- still the formula\n$$\n\nThus\n$$E = mc^2$$\nwhere $m$ is mass.\n\n"
    "$$ never closed\n\n- a real list\n- with \\(y_1\\)\n\n\\[ a \\] after\n\n\\[\nb\n",
]


@pytest.mark.parametrize("text", TRICKY_ANSWERS, ids=["long fence", "lists", "numbers and headings",
                                                      "table and quote", "fence in a list", "open fence",
                                                      "formulas"])
@pytest.mark.parametrize("size", [2, 7, 40, 0], ids=["by 2", "by 7", "by 40", "by line"])
def test_tricky_answers_streamed_in_any_pieces_show_at_each_step_what_they_would_in_one_go(
        text: str, size: int) -> None:
    cuts = list(range(size, len(text), size)) if size else [i + 1 for i, c in enumerate(text) if c == "\n"]
    # Every step is compared with a one-go render of the text so far when the pieces are lines or
    # longer (a render per step of the smaller pieces would make this test slow); the end always.
    assert stream(text, cuts, check_every_step=size in (0, 40)) == render_markdown(text, 3)


@pytest.mark.parametrize(("blank", "runs"), [(None, [40, 40, 20]), (15, [16, 14]), (14, [30]), (16, [17, 13])])
def test_a_long_code_block_is_drawn_in_runs_of_at_most_40_lines_cut_at_a_blank_line_past_16(
        blank: int | None, runs: list[int]) -> None:
    # Each run is highlighted once and never again while the answer streams; where the cuts fall
    # decides how much is redrawn per chunk, and must not depend on how the text arrived.
    lines = 100 if blank is None else 30
    body = "\n".join("" if n == blank else f"x{n}" for n in range(lines))
    html = render_markdown(f"```\n{body}\n```\n")
    assert [run.count("\n") + 1 for run in html.split("<pre")[1:]] == runs


def test_a_code_block_left_open_at_the_end_shows_its_last_line_whole() -> None:
    assert render_markdown("```\nabc").endswith(">abc</pre>")


def test_a_code_blocks_label_is_the_first_word_of_its_info() -> None:
    assert "&nbsp;python&nbsp;" in render_markdown("```python title=a.py hl=1\nx\n```")


def test_tables_and_quotes_carry_their_colours_and_margins_inline() -> None:
    # QTextDocument has no stylesheet classes: each cell and quote says how it looks.
    assert render_markdown("| a |\n|---|\n| 1 |\n") == (
        f'<table border="0" cellspacing="1" cellpadding="5" bgcolor="{LIGHT.border}" '
        'style="margin-top:14px; margin-bottom:8px;"><thead><tr>'
        f'<th bgcolor="{LIGHT.table_header_background}">a</th></tr></thead><tbody><tr>'
        f'<td bgcolor="{LIGHT.table_cell_background}">1</td></tr></tbody></table>')
    assert render_markdown("> q\n") == (
        f'<blockquote style="color:{LIGHT.muted}; margin-left:14px; margin-right:0px;"><p>q</p></blockquote>')


def test_plain_text_is_what_a_listener_hears_marks_gone_table_rows_on_lines_cells_parted_by_tabs() -> None:
    answer = ("# Trip\n\nThree **days** in *Lisbon*, ~~two~~ `Belém` [first](http://x) ![a tram](http://t.png).\n"
              "Next line  \nafter a hard break\n\n| Day | Where |\n| :-- | --: |\n| 1 | Alfama |\n| 2 |  |\n\n"
              "- one\n  - nested\n\n> quoted\n\n```python\nx = 1\n    y\n```\n\n    indented code\n\n"
              "<div>raw html</div>\n\n---\n\nEnd.")
    assert plain_text(answer) == (
        "Trip\nThree days in Lisbon, two Belém first a tram. Next line\nafter a hard break\n"
        "Day\tWhere\n1\tAlfama\n2\t\none\nnested\nquoted\nx = 1\ny\nindented code\n<div>raw html</div>\nEnd.")
    assert plain_text("") == "" and plain_text("\n\n  \n") == ""
    assert plain_text("a\r\nb\rc") == "a b c"  # soft breaks: one paragraph, read on



@settings(max_examples=examples(400), deadline=None, suppress_health_check=list(HealthCheck))
@given(markdown_text, st.integers(0, 80))
def test_the_start_of_an_answer_a_listener_hears_is_the_start_of_its_words_read_from_only_the_first_blocks(
        text: str, chars: int) -> None:
    """What `plain_text_start` cuts off never changes the words before: not for a table or a list (cut between its
    rows or items), a setext heading, a code span over a line's end or a code block with blank lines in it.
    (Links defined further on and formulas are the documented exceptions.)"""
    if "]:" in text or "$" in text or "\\[" in text or "\\(" in text:
        return
    whole, start = plain_text(text), plain_text_start(text, chars)
    assert start[:chars] == whole[:chars]
    assert len(start) > chars or start == whole


def test_only_the_start_of_a_long_answer_is_parsed_for_what_a_listener_hears() -> None:
    paragraphs = [f"Paragraph {n} with **bold** words and a [link](http://x/{n})." for n in range(5000)]
    text = "\n\n".join(paragraphs)
    start = plain_text_start(text, 500)
    assert plain_text(text).startswith(start) and 500 < len(start) < 4 * 500 * 2
    unclosed = "```\n" + "code line\n\n" * 2000  # a code block cut where its blank lines are reads the same
    assert plain_text(unclosed).startswith(plain_text_start(unclosed, 100))
    table = "Moons:\n\n| Planet | Moons |\n|---|--:|\n" + "| Jupiter `J` | **95** |\n" * 20000  # no blank line
    start = plain_text_start(table, 500)
    assert start.startswith("Moons:\nPlanet\tMoons\nJupiter J\t95\n") and 500 < len(start) < 4 * 500
    steps = "Steps:\n\n" + "".join(f"{n}. Run `step {n}`, *then* check\n" for n in range(1, 20001))  # a tight list
    start = plain_text_start(steps, 500)
    assert start.startswith("Steps:\nRun step 1, then check\nRun step 2, then check\n") and 500 < len(start) < 4 * 500


def test_a_heading_line_with_a_bar_becomes_a_tables_header_when_a_delimiter_row_follows_as_in_one_go() -> None:
    """Found by the property above: "# |" was settled as a heading before "|---|" made it a table."""
    text = "# |\n|---|---|"
    assert stream(text, [4, 6], check_every_step=True) == render_markdown(text, 3)
