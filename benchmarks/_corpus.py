"""Deterministic, answer-like Markdown and chats for the benchmarks (not a benchmark itself).

The text mimics what Gemini writes: headed sections, paragraphs with inline
marks, tight and nested lists, a list straight after a line of text, code
fences of 5 to 40 lines, tables, quotes. Seeded, so every run measures the
same text.
"""

from __future__ import annotations

import random

WORDS = ["the", "model", "streams", "an", "answer", "while", "the", "window", "stays", "responsive", "and", "every", "chunk", "is", "rendered", "once", "then", "settled", "so", "the", "cost", "of", "a", "frame", "does", "not", "grow", "with", "the", "length", "of", "what", "came", "before", "it", "which", "matters", "for", "long", "chats", "and", "long", "answers", "alike"]

CODE = {
    "python": ["def step_{i}(items: list[int]) -> int:", "    total = 0", "    for item in items:",
               "        if item % 3 == 0:", "            total += item * {i}", "    return total", "",
               "# a comment about step {i}", "result_{i} = step_{i}([1, 2, 3, {i}])",
               'print(f"result: {{result_{i}}}")'],
    "javascript": ["function step{i}(items) {{", "  let total = 0;", "  for (const item of items) {{",
                   "    total += item * {i};", "  }}", "  return total;", "}}", "",
                   "console.log(step{i}([1, 2, 3]));"],
    "bash": ["python -m venv .venv", ".venv/bin/pip install -e '.[test]'", "make test  # step {i}",
             "export GEMINI_API_KEY=x", "echo done {i}"],
}


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 20))]
    marks = rng.random()
    if marks < 0.2:
        words[2] = f"**{words[2]}**"
    elif marks < 0.35:
        words[3] = f"`{words[3]}()`"
    elif marks < 0.45:
        words[1] = f"*{words[1]}*"
    elif marks < 0.5:
        words[4] = f"[{words[4]}](https://ai.google.dev/{words[5]})"
    return " ".join(words).capitalize() + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 5)))


def _code(rng: random.Random, i: int) -> str:
    language = rng.choice(list(CODE))
    template = CODE[language]
    lines = [template[k % len(template)].format(i=i + k) for k in range(rng.randint(5, 40))]
    return f"```{language}\n" + "\n".join(lines) + "\n```"


def _table(rng: random.Random) -> str:
    cols = rng.randint(3, 4)
    head = "| " + " | ".join(f"Column {c + 1}" for c in range(cols)) + " |"
    rule = "|" + "|".join("---" if c else ":--" for c in range(cols)) + "|"
    rows = ["| " + " | ".join(rng.choice(WORDS) + (f" `{r}`" if c == 1 else "") for c in range(cols)) + " |"
            for r in range(rng.randint(4, 10))]
    return "\n".join([head, rule, *rows])


def _bullets(rng: random.Random) -> str:
    items = []
    for _ in range(rng.randint(3, 8)):
        items.append("- " + _sentence(rng))
        if rng.random() < 0.25:
            items.extend("  - " + _sentence(rng) for _ in range(rng.randint(1, 3)))
    return "\n".join(items)


def _steps(rng: random.Random) -> str:
    intro = _sentence(rng).rstrip(".") + ":"
    return intro + "\n" + "\n".join(f"{n}. {_sentence(rng)}" for n in range(1, rng.randint(3, 7)))


def answer(size: int, seed: int = 4) -> str:
    """About `size` characters of answer-like Markdown."""
    rng = random.Random(seed)
    parts: list[str] = []
    length = 0
    i = 0
    while length < size:
        if i % 6 == 0:
            block = f"## Part {i // 6 + 1}: {_sentence(rng).rstrip('.')}"
        else:
            kind = rng.random()
            if kind < 0.35:
                block = _paragraph(rng)
            elif kind < 0.5:
                block = _bullets(rng)
            elif kind < 0.6:
                block = _steps(rng)
            elif kind < 0.8:
                block = _code(rng, i)
            elif kind < 0.9:
                block = _table(rng)
            else:
                block = "> " + _paragraph(rng)
        parts.append(block)
        length += len(block) + 2
        i += 1
    return "\n\n".join(parts)[:size].rstrip() + "\n"


def chat_messages(count: int, seed: int = 9) -> list[tuple[str, str]]:
    """`count` (role, text) pairs alternating user and model, answers 200 to 3,000 characters."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        if n % 2 == 0:
            out.append(("user", _sentence(rng).rstrip(".") + "?"))
        else:
            out.append(("model", answer(rng.randint(200, 3000), seed=n)))
    return out
