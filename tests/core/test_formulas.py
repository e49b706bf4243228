"""Formulas in Markdown: which text is one (prices and code are not), how it is marked, and the typesetting worker."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gemchat.core.formulas import MAX_LENGTH, Formula, formula_of_mark
from gemchat.core.markdown import StreamingMarkdown, render_markdown
from gemchat.core.typeset import INK, MEMORY_LIMIT, is_safe_svg, serve

_MARK = re.compile(r'<a name="([^"]*)"></a>')


def formulas_in(text: str) -> list[Formula]:
    """The formulas the view will typeset, in order."""
    return [found for name in _MARK.findall(render_markdown(text)) if (found := formula_of_mark(name)) is not None]


@pytest.mark.parametrize(("text", "tex", "display", "source"), [
    ("Inline $x^2$ here", "x^2", False, "$x^2$"),
    ("Inline \\(\\alpha+\\beta\\) here", "\\alpha+\\beta", False, "\\(\\alpha+\\beta\\)"),
    ("$$\n\\int_0^1 x\\,dx\n$$\n", "\\int_0^1 x\\,dx", True, "$$\n\\int_0^1 x\\,dx\n$$"),
    ("\\[\n\\frac{a}{b}\n\\]\n", "\\frac{a}{b}", True, "\\[\n\\frac{a}{b}\n\\]"),
    ("Thus $$E = mc^2$$ where", "E = mc^2", True, "$$E = mc^2$$"),
    ("Thus\n\\[E = mc^2\\]\nwhere", "E = mc^2", True, "\\[E = mc^2\\]"),
    ("The product $65465 - 6544 \\times 65464$.", "65465 - 6544 \\times 65464", False, "$65465 - 6544 \\times 65464$"),
    ("- item $a_1$", "a_1", False, "$a_1$"),
    ("| $n$ |\n|---|\n| 1 |", "n", False, "$n$"),
], ids=["dollars", "parentheses", "dollar block", "bracket block", "dollars in a paragraph",
        "brackets in a paragraph", "digits inside", "in a list", "in a table"])
def test_each_kind_of_formula_is_marked_with_its_latex_and_how_it_is_set(
        text: str, tex: str, display: bool, source: str) -> None:
    [found] = formulas_in(text)
    assert (found.tex, found.display, found.source) == (tex, display, source)


@pytest.mark.parametrize("text", [
    "It costs $5 and $10.", "From $5 to $10 a month", "US$5-$10", "$5, $6 or $7", "a $ 5 $ gap",
    "Escaped \\$x\\$ dollars", "`$x$` in code", "```\n$$x$$\n```", "    $x$ indented code", "$$ $$", "\\\\(x\\\\)",
    "Claim one.\\[1\\] Claim two.\\[1\\]\\[2\\]", "\\[x\\] and more on its line", "the sum $$\\sum_k k$ so far",
], ids=["prices", "range in words", "range", "list of prices", "spaces inside", "escaped", "code span", "fence",
        "indented code", "empty", "escaped backslash", "citations", "brackets before text",
        "a $$ formula not closed yet"])
def test_prices_code_and_escaped_dollars_are_not_formulas(text: str) -> None:
    assert formulas_in(text) == []


def test_a_formula_shows_as_its_source_in_code_style_with_a_mark_in_front() -> None:
    assert render_markdown("a $x<y$ b") == (
        '<p>a <code style="background-color:#eceef1; white-space:pre-wrap;">'
        '<a name="gemchat-math:i:1:1:%24x%3Cy%24"></a>$x&lt;y$</code> b</p>')


def test_a_display_formula_on_lines_of_its_own_is_centred_and_one_in_a_paragraph_keeps_its_line() -> None:
    assert render_markdown("$$x$$").startswith('<p align="center" style="margin-top:8px; margin-bottom:8px;"><code')
    html = render_markdown("Thus\n$$x$$\nwhere")
    assert html.startswith("<p>Thus<br><code") and html.endswith("</code><br>where</p>")


def test_a_formula_too_long_to_typeset_shows_its_source_unmarked() -> None:
    tex = "x+" * (MAX_LENGTH // 2 + 1)
    html = render_markdown(f"${tex}$")
    assert "gemchat-math:" not in html and f"${tex}$" in html


def test_a_display_formula_shows_its_source_while_open_and_becomes_a_formula_once_closed() -> None:
    markdown = StreamingMarkdown()
    markdown.append("Intro.\n\n$$\n\\int_0^1 x\\,dx\n- looks like a list\n")
    open_ = markdown.update()
    assert "gemchat-math" not in "".join(open_.settled + open_.tail)  # not a formula yet: text
    assert not any("int_0" in html for html in open_.settled)  # nor settled: the lines may still join it
    markdown.append("$$\n\nAfter.\n\nMore.\n")
    closed = markdown.update()
    final = markdown.finish()
    shown = "".join(open_.settled + closed.settled + final.settled)
    assert shown == render_markdown("Intro.\n\n$$\n\\int_0^1 x\\,dx\n- looks like a list\n$$\n\nAfter.\n\nMore.\n")
    [found] = [formula_of_mark(name) for name in _MARK.findall(shown)]
    assert found is not None and found.tex == "\\int_0^1 x\\,dx\n- looks like a list"


def test_a_formula_never_closed_is_text_once_a_blank_line_follows() -> None:
    markdown = StreamingMarkdown()
    markdown.append("$$ x + y\n\nNext paragraph.\n\nAnd more.\n")
    update = markdown.update()
    assert update.settled and update.settled[0] == "<p>$$ x + y</p>"


def test_a_mark_gives_back_its_formula_and_anything_else_gives_none() -> None:
    formula = Formula("\\[\n𝔸 \\% x\n\\]", True, 2, 2)
    assert formula_of_mark(formula.mark()) == formula
    assert formula.shown == "\\[ 𝔸 \\% x \\]" and formula.shown_length == len(formula.shown) + 1  # 𝔸: two UTF-16 units
    for name in ("section-2", "gemchat-math:", "gemchat-math:x:1:1:%24a%24", "gemchat-math:i:5:5:%24a%24",
                 "gemchat-math:i:a:1:%24a%24", "gemchat-math:i:1:1:%ff"):
        assert formula_of_mark(name) is None


def test_the_worker_typesets_each_request_in_order_and_says_why_it_cannot() -> None:
    requests = io.StringIO("\n".join(json.dumps(r) for r in [
        {"tex": "x^2", "display": False}, {"tex": "\\frac{1}{", "display": True}, {"tex": "", "display": False},
        {"tex": "y" * (MAX_LENGTH + 1), "display": False}, {"nothing": 1}]) + "\nnot json\n")
    answers = io.StringIO()
    assert serve(requests, answers) == 0
    ready, svg, broken, empty, long, wrong, garbage = (json.loads(line) for line in answers.getvalue().splitlines())
    assert ready == {"ready": True}
    assert svg["svg"].startswith("<svg") and INK in svg["svg"] and 'viewBox="' in svg["svg"]
    assert set(broken) == set(empty) == set(long) == set(wrong) == set(garbage) == {"error"}


def test_an_svg_that_refers_to_anything_outside_itself_is_refused() -> None:
    assert is_safe_svg('<svg><symbol id="a"/><use xlink:href="#a" x="1"/><rect fill="url(#g)"/></svg>')
    for bad in ('<svg><use xlink:href="file:///etc/passwd"/></svg>', '<svg><image href="#a"/></svg>',
                '<svg><rect fill="url(http://x/y)"/></svg>', '<svg><script>x</script></svg>', "<html/>",
                '<svg><use href = "https://x#a"/></svg>'):
        assert not is_safe_svg(bad), bad


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the limits in /proc")
def test_the_worker_process_caps_its_memory_and_lets_the_window_go_first() -> None:
    worker = subprocess.Popen([sys.executable, "-m", "gemchat", "--typeset-worker"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert worker.stdout is not None and json.loads(worker.stdout.readline()) == {"ready": True}
        limits = Path(f"/proc/{worker.pid}/limits").read_text()
        [address_space] = [line.split()[3] for line in limits.splitlines() if line.startswith("Max address space")]
        assert int(address_space) == MEMORY_LIMIT
        assert os.getpriority(os.PRIO_PROCESS, worker.pid) >= os.getpriority(os.PRIO_PROCESS, 0) + 5
    finally:
        worker.communicate("", timeout=30)  # stdin closed: the worker ends
    assert worker.returncode == 0
