"""Streaming an answer with 30 formulas, beside the same answer without them, in the same run.

The real app (build_app/run_app, the real SDK, the default typing effect)
streams from tests/fakes/gemini_server.py in its own process, 40-character
chunks every 50 ms (about Gemini's pace). A 4 ms QTimer on the UI thread
records when it fires: the longest gap and the 99th percentile, from the
first words until the answer is shown and, with formulas, every formula is a
picture. Three answers, each in a fresh app (so the worker starts cold):

- the answer with 30 formulas (20 inline, 10 set apart), typeset by gemchat's
  worker process;
- the same answer without formulas: each one's LaTeX as `inline code`, the
  same text drawn the way a formula's source is drawn until it is typeset;
- baseline: the answer with formulas, typeset by the same ziamath on a thread
  of the app's own process (the design the worker process replaced).

Also: how long after its source showed the first and the last formula became
a picture, and the same answer again in the same app (every formula cached).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, FakeServer, conditions, env, gaps_ms, median, percentile

RUNS = int(os.environ.get("FORMULA_RUNS", "3"))
CHUNK_DELAY = 0.05
OBJECT = "\ufffc"

INLINE = [
    r"65465 - 6544 \times 65464", r"\alpha+\beta", r"E = mc^2", r"a^2 + b^2 = c^2", r"x_{n+1} = x_n - f(x_n)/f'(x_n)",
    r"\sin^2\theta + \cos^2\theta = 1", r"\nabla \cdot \mathbf{E} = \rho/\varepsilon_0", r"O(n \log n)",
    r"\lim_{x\to 0} \frac{\sin x}{x} = 1", r"p \Rightarrow q", r"\mathbb{R}^n", r"\hat{y} = Wx + b",
    r"\sigma(z) = 1/(1+e^{-z})", r"\lambda_1 \ge \lambda_2", r"\sqrt{2} \approx 1.414", r"\binom{n}{k}",
    r"\int f\,dx", r"\partial_t u = \Delta u", r"e^{i\pi} + 1 = 0", r"\|v\|_2",
]
DISPLAY = [
    r"\int_0^1 x^2\,dx = \frac{1}{3}", r"\sum_{n=1}^{\infty} \frac{1}{n^2} = \frac{\pi^2}{6}",
    r"x = \frac{-b \pm \sqrt{b^2-4ac}}{2a}",
    r"A^{-1} = \frac{1}{ad-bc}\begin{pmatrix} d & -b \\ -c & a \end{pmatrix}",
    r"f(x) = \begin{cases} x^2 & x \ge 0 \\ -x & x < 0 \end{cases}", r"\mathcal{L} = -\sum_i y_i \log \hat{y}_i",
    r"\frac{\partial L}{\partial w} = \frac{1}{n} X^T (Xw - y)", r"\prod_{k=1}^{n} k = n!",
    r"\oint_C \mathbf{F} \cdot d\mathbf{r} = \iint_S (\nabla \times \mathbf{F}) \cdot d\mathbf{S}",
    r"\det(A - \lambda I) = 0",
]
WORDS = ("The answer goes on with a sentence of ordinary words around the formula, as a tutor would write "
         "it when explaining a step of the derivation to a student.")


def answer(with_formulas: bool) -> str:
    def inline(tex: str) -> str:
        return f"${tex}$" if with_formulas else f"`{tex}`"

    def display(tex: str) -> str:
        return f"$$\n{tex}\n$$" if with_formulas else f"`{tex}`"

    parts = ["# Worked examples\n"]
    for n, tex in enumerate(DISPLAY):
        parts.append(f"{WORDS} First {inline(INLINE[2 * n])}, then {inline(INLINE[2 * n + 1])} follows.\n")
        parts.append(display(tex) + "\n")
        parts.append(f"{WORDS}\n")
    return "\n".join(parts)


def run_child(kind: str, data_dir: Path, base_url: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(data_dir)], cwd=ROOT, capture_output=True,
                         text=True, env=env(GEMINI_API_KEY="benchmark-key", GOOGLE_GEMINI_BASE_URL=base_url),
                         timeout=300)
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"child {kind} failed:\n{out.stderr[-3000:]}")


def main() -> int:
    results: dict[str, list[dict]] = {"process": [], "plain": [], "thread": []}
    with tempfile.TemporaryDirectory() as tmp:
        math_reply, plain_reply = Path(tmp) / "math.md", Path(tmp) / "plain.md"
        math_reply.write_text(answer(True), encoding="utf-8")
        plain_reply.write_text(answer(False), encoding="utf-8")
        with FakeServer(math_reply, chunk_delay=CHUNK_DELAY) as math_server, \
                FakeServer(plain_reply, chunk_delay=CHUNK_DELAY) as plain_server:
            for n in range(RUNS):  # alternating, so a change in the machine's load touches all three alike
                for kind in results:
                    server = plain_server if kind == "plain" else math_server
                    results[kind].append(run_child(kind, Path(tmp) / f"{kind}{n}", server.base_url))
    print(f"## Streaming an answer with {len(INLINE) + len(DISPLAY)} formulas "
          f"({len(answer(True)):,} characters, 40-character chunks every {CHUNK_DELAY * 1000:.0f} ms; "
          f"median of {RUNS} runs)")
    print(conditions())
    print("| Answer | UI timer gap, max | p99 | first words to all shown | first formula a picture after | "
          "last formula a picture after the text | again, cached: max gap, p99 |")
    print("|---|---|---|---|---|---|---|")
    names = {"plain": "without formulas (their LaTeX as `code`)", "process": "with formulas: worker process (gemchat)",
             "thread": "baseline: with formulas, ziamath on a thread of the app"}
    for kind in ("plain", "process", "thread"):
        runs = results[kind]

        def mid(key: str, runs: list[dict] = runs) -> float:
            return median([r[key] for r in runs])

        first = f"{mid('first_picture') * 1000:.0f} ms" if kind != "plain" else "—"
        last = f"{mid('last_picture') * 1000:.0f} ms" if kind != "plain" else "—"
        print(f"| {names[kind]} | {mid('max_gap'):.1f} ms | {mid('p99'):.1f} ms | {mid('seconds'):.2f} s | {first} | "
              f"{last} | {mid('again_max_gap'):.1f} ms, {mid('again_p99'):.1f} ms |")
    for kind in results:
        print(f"\nEvery run, {kind}: max " + ", ".join(f"{r['max_gap']:.1f}" for r in results[kind])
              + " ms; p99 " + ", ".join(f"{r['p99']:.1f}" for r in results[kind]) + " ms")
    return 0


# -- the measured processes --------------------------------------------------------------------


class ThreadTypesetter:
    """The baseline: what `Typesetter` does, with ziamath on a thread of this process instead of a worker."""

    def __init__(self) -> None:
        from PySide6.QtCore import QObject, Signal

        class Relay(QObject):
            typeset = Signal(str, bool)
            done = Signal(str, bool, str)

        self._relay = Relay()
        self.typeset = self._relay.typeset
        self._relay.done.connect(self._on_done)  # queued: emitted on the thread, run on the UI thread
        self._results: dict[tuple[str, bool], str] = {}
        self._asked: set[tuple[str, bool]] = set()
        self._queue: queue.Queue[tuple[str, bool] | None] = queue.Queue()
        self.started = 0
        self._thread: threading.Thread | None = None

    def svg(self, tex: str, display: bool) -> str | None:
        return self._results.get((tex, display))

    def request(self, tex: str, display: bool) -> None:
        if (tex, display) in self._asked:
            return
        self._asked.add((tex, display))
        if self._thread is None:
            self.started += 1
            self._thread = threading.Thread(target=self._work, daemon=True)
            self._thread.start()
        self._queue.put((tex, display))

    def close(self) -> None:
        self._queue.put(None)

    def _work(self) -> None:
        from gemchat.core.typeset import typeset

        while (item := self._queue.get()) is not None:
            try:
                svg = typeset(*item)
            except Exception:
                svg = ""
            self._relay.done.emit(item[0], item[1], svg)

    def _on_done(self, tex: str, display: bool, svg: str) -> None:
        self._results[(tex, display)] = svg
        self.typeset.emit(tex, display)


def child(kind: str, data_dir: str) -> None:
    import qasync
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    qt_app = QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    from gemchat.app import build_app, run_app
    from gemchat.tasks import Tasks

    app = build_app(Path(data_dir))
    if kind == "thread":
        app.window.view.typesetter = ThreadTypesetter()  # type: ignore[assignment]
    expected = 0 if kind == "plain" else len(INLINE) + len(DISPLAY)

    async def ask() -> dict:
        view = app.window.view
        ended = asyncio.Event()
        app.session.generation_started.connect(
            lambda generation: (generation.finished.connect(lambda _m: ended.set()),
                                generation.failed.connect(lambda _m: ended.set())))
        stamps: list[float] = []
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(4)
        timer.timeout.connect(lambda: stamps.append(time.perf_counter()))
        timer.start()
        first_text: list[float] = []
        app.window.presenter.typing.revealed.connect(lambda _text: first_text or first_text.append(time.perf_counter()))
        pictures_at: list[float] = []
        before = view.toPlainText().count(OBJECT)
        app.window.composer.setPlainText("Show me the worked examples")  # already there the first time
        app.window.composer.submit()
        text_shown = 0.0
        while True:
            await asyncio.sleep(0.02)
            count = view.toPlainText().count(OBJECT) - before
            while len(pictures_at) < count:
                pictures_at.append(time.perf_counter())
            if ended.is_set() and view.answer_id is None and not text_shown:
                text_shown = time.perf_counter()
            if text_shown and count >= expected:
                break
            if first_text and time.perf_counter() - first_text[0] > 120:
                raise RuntimeError(f"only {count} of {expected} formulas became pictures")
        timer.stop()
        start = first_text[0]
        gaps = list(gaps_ms([t for t in stamps if t >= start]))
        return {"max_gap": max(gaps), "p99": percentile(gaps, 0.99), "seconds": time.perf_counter() - start,
                "first_picture": (pictures_at[0] - start) if pictures_at else 0.0,
                "last_picture": max(0.0, pictures_at[-1] - text_shown) if pictures_at else 0.0}

    async def scenario() -> dict:
        running = Tasks()
        running.start(run_app(app))
        while not (app.window.isVisible() and app.window.ready):  # the chats shown: what is typed now stays
            await asyncio.sleep(0.01)
        app.window.composer.setPlainText("Show me the worked examples")  # typed, as a user would, before the wait:
        await asyncio.sleep(2.5)  # the time to type a question: the chat is open, the SDK and Markdown prepared
        result = await ask()
        again = await ask()  # the same formulas: typeset once, drawn from the cache
        result.update(again_max_gap=again["max_gap"], again_p99=again["p99"])
        return result

    with loop:
        result = loop.run_until_complete(scenario())
    print(json.dumps(result), flush=True)
    os._exit(0)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
    else:
        sys.exit(main())
