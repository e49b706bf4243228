"""Ctrl+Shift+C copies the last code block of an answer: what counts as one, and what is copied."""

from __future__ import annotations

from gemchat.core.code_blocks import code_blocks


def test_fenced_and_indented_blocks_are_found_in_order_without_their_fences() -> None:
    answer = (
        "Install it:\n\n```bash\npip install gemchat\n```\n\n"
        "Then, in Python:\n\n    import gemchat\n    gemchat.main()\n\n"
        "Or `inline code`, which is no block.\n\n~~~\nlast one\n~~~\n"
    )
    assert code_blocks(answer) == ["pip install gemchat\n", "import gemchat\ngemchat.main()\n", "last one\n"]


def test_an_answer_without_code_has_no_blocks_and_html_is_not_a_block() -> None:
    assert code_blocks("Just words, and <pre>html</pre>.") == []
    assert code_blocks("") == []
