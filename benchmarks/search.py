"""Search over 100,000 stored messages: gemchat's FTS5 search beside a plain LIKE scan.

Builds a throwaway database with `ChatStore` (the app's own code, so the FTS
triggers are exercised) from a Zipf-weighted vocabulary, then times
`ChatStore.search` and the naive `WHERE text LIKE '%word%'` returning the same
50 newest matches, over the same rows and queries (common, rare, missing), in one run.

    .venv/bin/python benchmarks/search.py [--messages 100000] [--repeat 5]

Target (issue 3): median under 50 ms for gemchat's search.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gemchat.core.messages import Chat, Message, Role, Status
from gemchat.storage.store import ChatStore

SPECIAL = ["river", "garden", "python", "sqlite", "window", "stream", "token", "answer", "model", "question", "light", "dark", "theme", "search", "chat", "keyboard", "shortcut", "export", "import", "version", "branch", "summary", "lighthouse", "painter", "harbour", "mountain", "café", "Zürich", "naïve", "résumé", "коммит", "東京", "recipe", "bread", "flour", "yeast", "oven", "travel", "train", "ticket", "budget"]
QUERIES = ["lighthouse", "zurich cafe", "python stream", "résumé", "東京", "bread yeast oven", "ticket", "naive",
           "the", "notaword"]
SYLLABLES = ["ka", "lo", "mi", "ne", "ra", "su", "ti", "ve", "zo", "ba", "de", "fi", "gu", "ho", "ja", "ku", "ly", "mo", "nu", "pe", "qi", "ro", "sa", "te"]


def vocabulary(rng: random.Random, size: int = 20_000) -> tuple[list[str], list[float]]:
    """Common English-like words plus invented ones, weighted like real text (Zipf: 1/rank)."""
    words = ["the", "a", "and", "to", "of", "is", "in", "it", "you", "that"] + list(SPECIAL)
    while len(words) < size:
        words.append("".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))))
    return words, [1 / (rank + 1) for rank in range(len(words))]


def build(path: Path, messages: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    words, weights = vocabulary(rng)
    store = ChatStore.open(path)
    per_chat = 50
    batch = []
    for _c in range(messages // per_chat):
        chat = Chat(0, " ".join(rng.choices(words, weights, k=4)), "2026-01-01T00:00:00.000Z",
                    "2026-01-01T00:00:00.000Z", "gemini-3.6-flash")
        items = [
            Message(0, 0, Role.USER if i % 2 == 0 else Role.MODEL,
                    " ".join(rng.choices(words, weights, k=rng.randint(8, 120))), Status.COMPLETE,
                    f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}.000Z")
            for i in range(per_chat)
        ]
        batch.append((chat, items))
        if len(batch) == 100:
            store.import_chats(batch)
            batch = []
    if batch:
        store.import_chats(batch)
    store.close()


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        started = time.perf_counter()
        build(path, args.messages)
        print(f"built {args.messages:,} messages in {time.perf_counter() - started:.1f} s")
        store = ChatStore.open(path)
        conn = store._conn  # the baseline runs plain SQL on the same connection and cache
        fts: list[float] = []
        like: list[float] = []
        print(f"{'query':<22}{'gemchat hits':>13}{'median':>10}{'LIKE hits':>11}{'median':>10}")
        for query in QUERIES:
            words = query.split()

            def baseline() -> list[tuple]:
                sql = ("SELECT m.id, m.chat_id, c.title, m.text FROM messages m JOIN chats c ON c.id = m.chat_id WHERE "
                       + " AND ".join("m.text LIKE ?" for _ in words) + " ORDER BY m.id DESC LIMIT 50")
                return conn.execute(sql, [f"%{w}%" for w in words]).fetchall()

            hits, base_hits = len(store.search(query)), len(baseline())  # also warms the page cache
            ours, theirs = timed(lambda: store.search(query), args.repeat), timed(baseline, args.repeat)
            fts += ours
            like += theirs
            print(f"{query:<22}{hits:>13}{statistics.median(ours):>8.1f}ms{base_hits:>11}"
                  f"{statistics.median(theirs):>8.1f}ms")
        store.close()
    fts_median = statistics.median(fts)
    print()
    print(f"{'all queries (' + format(args.messages, ',') + ' messages)':<40}{'median':>10}{'p95':>10}{'max':>10}")
    for name, values in (("gemchat (FTS5, newest first, snippets)", fts), ("baseline: LIKE '%word%' scan", like)):
        values = sorted(values)
        p95 = values[max(0, int(len(values) * 0.95) - 1)]
        print(f"{name:<40}{statistics.median(values):>8.1f}ms{p95:>8.1f}ms{values[-1]:>8.1f}ms")
    verdict = "PASS" if fts_median < 50 else "FAIL"
    print(f"target: median under 50 ms -> {verdict} ({fts_median:.1f} ms)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
