"""Citations from grounding metadata: byte offsets, untrusted sources, code blocks."""

from __future__ import annotations

import pytest

from gemchat.core.grounding import citation_points, cite, is_web_link, merge, search_queries, search_url, sources
from tests.fakes.gemini_server import grounding_for


def support(end: int, *chunks: int, start: int | None = None) -> dict:
    segment = {"end_index": end} if start is None else {"start_index": start, "end_index": end}
    return {"segment": segment, "grounding_chunk_indices": list(chunks)}


def metadata(*supports: dict, uris: tuple[str, ...] = ("https://a.example/", "https://b.example/")) -> dict:
    return {"grounding_chunks": [{"web": {"uri": u, "title": f"T{n}"}} for n, u in enumerate(uris)],
            "grounding_supports": list(supports)}


def test_segment_ends_are_utf8_byte_offsets() -> None:
    text = "naïve 日本. next"
    end = len("naïve 日本.".encode())  # 15 bytes, 9 characters
    assert citation_points(text, metadata(support(end, 0))) == [(9, [1])]


def test_an_offset_inside_a_character_lands_before_it() -> None:
    assert citation_points("日本", metadata(support(4, 0))) == [(1, [1])]


def test_supports_ending_together_merge_and_bad_ones_are_skipped() -> None:
    found = citation_points("abc. def.", metadata(support(4, 1), support(4, 0, 1), support(99, 0),
                                                  support(9, 7), {"segment": {}}))
    assert found == [(4, [1, 2])]


def test_markers_link_only_web_sources_and_escape_what_markdown_would_read() -> None:
    grounding = metadata(support(2, 0, 1), uris=("javascript:alert(1)", "https://x.example/a b<c>"))
    grounding["grounding_chunks"][1]["web"]["title"] = 'Say "hi" \\ there'
    assert cite("Hi there", grounding) == (
        'Hi\\[1\\][\\[2\\]](<https://x.example/a%20b%3Cc%3E> "Say \\"hi\\" \\\\ there") there')
    assert [s.linkable for s in sources(grounding)] == [False, True]


def test_a_marker_that_would_fall_inside_code_goes_after_the_block() -> None:
    text = "Run:\n```sh\nls -la\n```\nDone."
    inside = len(b"Run:\n```sh\nls")
    cited = cite(text, metadata(support(inside, 0)))
    assert cited == "Run:\n```sh\nls -la\n```\n[\\[1\\]](<https://a.example/> \"T0\")\n\nDone."


def test_camel_case_metadata_from_the_wire_reads_the_same() -> None:
    text = "One. Two."
    wire = grounding_for(text, queries=["q one", "q one", "q two"])
    assert citation_points(text, wire) == [(4, [1]), (9, [2, 3])]
    assert search_queries(wire) == ["q one", "q two"]
    assert search_url("a&b c") == "https://www.google.com/search?q=a%26b+c"


def test_grounding_over_several_chunks_keeps_the_latest_lists_and_all_queries() -> None:
    first = {"web_search_queries": ["a"], "grounding_chunks": [1]}
    second = {"web_search_queries": ["b", "a"], "grounding_chunks": [1, 2], "grounding_supports": [3]}
    assert merge(merge(None, first), second) == {
        "web_search_queries": ["a", "b"], "grounding_chunks": [1, 2], "grounding_supports": [3]}


def test_a_marker_after_an_exclamation_mark_is_a_link_not_an_image() -> None:
    cited = cite("Wow! Next", metadata(support(4, 0)))
    assert cited == 'Wow\\![\\[1\\]](<https://a.example/> "T0") Next'
    assert cite("Wow\\! x", metadata(support(5, 0))).startswith("Wow\\![")  # an escaped one stays as it was


def test_markers_never_break_the_markdown_around_them() -> None:
    """Segments may end after a list number, inside a number, a URL or a table row."""
    from gemchat.core.grounding import cite
    from gemchat.core.markdown import render_markdown

    text = ("1. Spring tides follow new moons.\n2. Neap tides.\n\n"
            "| Port | Range |\n| --- | --- |\n| Brest | 4.5 m |\n\nSee <https://maree.info> now.")

    def at(fragment: str, extra: int = 0) -> dict:
        end = len(text[: text.index(fragment) + extra].encode("utf-8"))
        return {"segment": {"end_index": end}, "grounding_chunk_indices": [0]}

    grounding = {
        "grounding_chunks": [{"web": {"uri": "https://example.com/a", "title": "A"}}],
        "grounding_supports": [at("1.", 2), at("4.5", 2), at("maree.", 6), at("Brest", 2)],
    }
    cited = cite(text, grounding)
    html = render_markdown(cited)
    assert "<ol" in html and "<table" in html
    assert "4.5 m" in html and "https://maree.info" in html
    assert cited.count("[\\[1\\]]") == 3  # after item 1, after the table, after the link's line


def cited_at(text: str, cut: int) -> str:
    """`text` with one unlinkable source cited for the passage that ends after `cut` characters."""
    grounding = {"grounding_chunks": [{"web": {"uri": "javascript:x", "title": "T"}}],
                 "grounding_supports": [{"segment": {"end_index": len(text[:cut].encode())},
                                         "grounding_chunk_indices": [0]}]}
    return cite(text, grounding)


M = "\\[1\\]"


@pytest.mark.parametrize(("text", "cut", "shown"), [
    # after a table: on its own paragraph, one blank line below the last row, not read as a row
    ("| a | b |\n| - | - |\n| 1 | 2 |\nAfter.", 5, f"| a | b |\n| - | - |\n| 1 | 2 |\n\n{M}\n\nAfter."),
    ("Intro.\n| a | b |\n| - | - |\n| 1 | 2 |", 12, f"Intro.\n| a | b |\n| - | - |\n| 1 | 2 |{M}"),
    ("Text.\n\n| a |\n|---|\n| 1 |\nafter", 7, f"Text.\n\n{M}\n\n| a |\n|---|\n| 1 |\nafter"),
    # the same after a table below other text, whose rows have no closing pipe
    ("Intro.\nMore.\n\n| a | b\n| - | -\n| 1 | 2\nAfter.", 18,
     f"Intro.\nMore.\n\n| a | b\n| - | -\n| 1 | 2\n\n{M}\n\nAfter."),
    # after the blank line under a table: nothing more is needed
    ("| a |\n|---|\n| 1 |\n\nSecond.", 19, f"| a |\n|---|\n| 1 |\n\n{M}\n\nSecond."),
    # a segment ending after a list number, inside "8.0", code, a link or a URL: the end of its line
    ("1. First item here\n2. Second", 2, f"1. First item here{M}\n2. Second"),
    ("- item.\nmore", 1, f"- item.{M}\nmore"),
    ("It is 8.0 m tall.\nNext", 8, f"It is 8.0 m tall.{M}\nNext"),
    ("Use `a. b` now\nNext", 7, f"Use `a. b` now{M}\nNext"),
    ("See [the docs. here](https://x) ok\nNext", 14, f"See [the docs. here](https://x) ok{M}\nNext"),
    ("Go <https://a.b/c. d> now", 18, f"Go <https://a.b/c. d> now{M}"),
    # inside a fenced block: after the block, whatever its fence; an unclosed block runs to the end
    ("Code:\n```\nx = 1.\n```\nDone.", 16, f"Code:\n```\nx = 1.\n```\n{M}\n\nDone."),
    ("A\n~~~\ncode.\n~~~~\nB", 9, f"A\n~~~\ncode.\n~~~~\n{M}\n\nB"),
    ("A\n```\ncode.\n~~~\nstill", 9, f"A\n```\ncode.\n~~~\nstill{M}"),
    # at a line start: its own paragraph; after "!" the "!" is escaped, or "![" would be an image
    ("First.\nSecond.", 7, f"First.\n{M}\n\nSecond."),
    ("Wow!", 4, f"Wow\\!{M}"),
    ("Wow\\!", 5, f"Wow\\!{M}"),
    ("Wow\\\\!", 6, f"Wow\\\\\\!{M}"),
    # after a word, before a space: right there, also after closed code, links and autolinks
    ("Go x now\nNext", 4, f"Go x{M} now\nNext"),
    ("Use `a` here now\nNext", 12, f"Use `a` here{M} now\nNext"),
    ("See [a](http://x) and more\nNext", 21, f"See [a](http://x) and{M} more\nNext"),
    ("Go <https://a.b/c> now ok\nNext", 22, f"Go <https://a.b/c> now{M} ok\nNext"),
    # inside a word, or a link's title: the end of the line
    ("Go toXY now\nNext", 5, f"Go toXY now{M}\nNext"),
    ('See [a](http://x "t t") z\nNext', 19, f'See [a](http://x "t t") z{M}\nNext'),
    # at the start of a code block: before it; "```X" closes nothing
    ("Text.\n```\ncode\n```\nDone.", 6, f"Text.\n{M}\n\n```\ncode\n```\nDone."),
    ("A\n```\ncode.\n```X\nmore", 9, f"A\n```\ncode.\n```X\nmore{M}"),
    # after a one-letter line, and at the very end after a newline: nothing added around it
    ("A\nB", 1, f"A{M}\nB"),
    ("First.\n", 7, f"First.\n{M}"),
], ids=["after a table", "in a table's last row", "before a table", "after an open table below text",
        "after a table's blank line", "after a list number",
        "after a bullet", "inside 8.0", "inside code", "inside a link", "inside a URL",
        "inside a code block", "inside a tilde block", "inside an unclosed block", "at a line start",
        "after an exclamation mark", "after an escaped exclamation mark", "after an escaped backslash",
        "after a word", "after closed code", "after a closed link", "after an autolink", "inside a word",
        "inside a link title", "at a code block's start", "after a fence with text", "after one letter",
        "at the end"])
def test_a_citation_never_changes_the_markdown_around_it(text: str, cut: int, shown: str) -> None:
    assert cited_at(text, cut) == shown


def test_a_source_without_a_title_is_named_by_its_domain_then_its_address_then_source() -> None:
    grounding = {"grounding_chunks": [
        {"web": {"uri": "https://a.example/x", "title": "  Two\n words  "}},
        {"web": {"uri": "https://b.example/y", "domain": "b.example"}},
        {"web": {"uri": "https://c.example/z"}},
        {"web": {}},
        {},
    ]}
    assert [(s.number, s.uri, s.title) for s in sources(grounding)] == [
        (1, "https://a.example/x", "Two words"), (2, "https://b.example/y", "b.example"),
        (3, "https://c.example/z", "https://c.example/z"), (4, "", "Source"), (5, "", "Source")]
    assert [s.linkable for s in sources(grounding)] == [True, True, True, False, False]


@pytest.mark.parametrize(("uri", "linked"), [
    ("http://a.example/", True), ("HTTPS://A.example", True), ("https:///no-host", False),
    ("mailto:x@y.example", False), ("//a.example/path", False), ("http://[::1", False), ("ftp://a.example/", False),
])
def test_only_http_addresses_with_a_host_become_links(uri: str, linked: bool) -> None:
    assert is_web_link(uri) is linked


def test_supports_out_of_range_are_skipped_and_the_rest_still_cited() -> None:
    grounding = metadata(support(0, 0), support(999, 0), support(3, 5), support(3, 2), support(3, 1))
    assert citation_points("Hi. More", grounding) == [(3, [2])]


def test_a_segment_ending_inside_the_first_character_cites_the_end_of_its_line() -> None:
    cited = cite("日本 ok.\nNext", metadata(support(1, 0)))
    assert cited == '日本 ok.[\\[1\\]](<https://a.example/> "T0")\nNext'
