"""Helpers shared by the benchmarks (not a benchmark itself: run_all.py skips `_` files)."""

from __future__ import annotations

import itertools
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def env(**extra: str) -> dict[str, str]:
    """The environment of a measured child: offscreen, no real key or service, the repo importable."""
    out = {k: v for k, v in os.environ.items()
           if k not in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GEMCHAT_DATA_DIR")}
    out.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    out.update(extra)
    return out


def compile_like_an_install() -> None:
    """Writes gemchat's bytecode, as `pip install` and PyInstaller do.

    A start that compiles gemchat from source (a fresh checkout, or
    PYTHONDONTWRITEBYTECODE=1 as on some machines) measures the compiler, not the
    app: about 50 ms that no installed copy pays, and the bare baseline never does.
    """
    import compileall

    compileall.compile_dir(str(ROOT / "gemchat"), quiet=1)


def rss_kb() -> int:
    """Resident memory of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeServer:
    """tests/fakes/gemini_server.py in its own process (in ours it would share the GIL with the UI)."""

    def __init__(self, reply_file: Path, chunk_size: int = 40, chunk_delay: float = 0.0) -> None:
        self.port = free_port()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.gemini_server", "--port", str(self.port),
             "--chunk-size", str(chunk_size), "--chunk-delay", str(chunk_delay), "--reply-file", str(reply_file)],
            cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert self._process.stdout is not None
        self.base_url = self._process.stdout.readline().strip()

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(5)

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_chat(data_dir: Path, messages: int, seed: int = 9) -> None:
    """A data directory whose last chat has `messages` answer-like messages."""
    from benchmarks._corpus import chat_messages
    from gemchat.core.messages import Role
    from gemchat.paths import database_path
    from gemchat.storage.store import ChatStore

    data_dir.mkdir(parents=True, exist_ok=True)
    store = ChatStore.open(database_path(data_dir))
    try:
        store._conn.execute("PRAGMA synchronous=OFF")  # setup only: thousands of commits
        chat = store.create_chat("gemini-3.6-flash", "A long chat")
        for role, text in chat_messages(messages, seed):
            store.add_message(chat.id, Role.USER if role == "user" else Role.MODEL, text)
    finally:
        store.close()


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def row(name: str, figure: str, baseline: str, target: str, ok: bool | None) -> str:
    verdict = "" if ok is None else ("ok" if ok else "MISSED")
    return f"| {name} | {figure} | {baseline} | {target} | {verdict} |"


def header() -> str:
    return "| Figure | gemchat | Baseline (same run) | Target | |\n|---|---|---|---|---|"


def conditions() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return (f"{os.cpu_count()} cores, load {load:.1f} when started, Python {sys.version.split()[0]}, "
            f"QT_QPA_PLATFORM=offscreen, {time.strftime('%Y-%m-%d %H:%M')}")


def gaps_ms(stamps: Sequence[float]) -> Iterator[float]:
    for a, b in itertools.pairwise(stamps):
        yield (b - a) * 1000


def bare_text_window() -> tuple[Any, Any, Any, Any]:
    """The baseline of the streaming figures: a QMainWindow around a read-only QTextEdit, 900x720, shown,
    on a qasync loop set as the current one. Returns (QApplication, loop, window, QTextEdit).

    Made in a child process (Qt's imports stay out of the parent's figures).
    """
    import asyncio

    import qasync
    from PySide6.QtWidgets import QApplication, QMainWindow, QTextEdit

    qt_app = QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    window = QMainWindow()
    edit = QTextEdit()
    edit.setReadOnly(True)
    window.setCentralWidget(edit)
    window.resize(900, 720)
    window.show()
    return qt_app, loop, window, edit

