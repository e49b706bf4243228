"""Opening a 2,000-message chat: time to the first paint of its latest messages.

The real app (build_app/run_app, offscreen) with two stored chats, a small one
and one of 2,000 answer-like messages; switching to the long one is timed from
the call that opens it (the database read included) to the conversation's
first paint showing it. Median of 7 switches.

Baseline, same run: the same 2,000 messages shown the naive way, as one
Markdown text with `QTextEdit.setMarkdown`, timed to its first paint.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, conditions, env, header, make_chat, median, row

MESSAGES = 2000
SWITCHES = 7


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        make_chat(data, MESSAGES)
        out = subprocess.run([sys.executable, __file__, "--child", str(data)], cwd=ROOT, capture_output=True,
                             text=True, env=env(GEMINI_API_KEY="benchmark-key",
                                                GOOGLE_GEMINI_BASE_URL="http://127.0.0.1:9"), timeout=600)
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(out.stderr[-3000:])
    result = json.loads(lines[-1])
    app, naive = median(result["app"]), median(result["naive"])
    print(f"## Opening a {MESSAGES:,}-message chat")
    print(conditions())
    print(header())
    print(row(f"Open a {MESSAGES:,}-message chat, to first paint (median of {SWITCHES})", f"{app:.0f} ms",
              f"{naive:.0f} ms (setMarkdown of the whole chat)", "< 150 ms", app < 150))
    return 0


def child(data_dir: str) -> None:
    import qasync
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QMainWindow, QTextEdit

    qt_app = QApplication([sys.argv[0]])
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    from gemchat.app import build_app, run_app
    from gemchat.core.messages import Role
    from gemchat.paths import database_path
    from gemchat.storage.store import ChatStore
    from gemchat.tasks import Tasks

    store = ChatStore.open(database_path(Path(data_dir)))
    long_id = store.last_chat_id()
    short = store.create_chat("gemini-3.6-flash", "Short chat")
    store.add_message(short.id, Role.USER, "Hello")
    store.add_message(short.id, Role.MODEL, "Hi! **How** can I help?")
    messages = store.messages(long_id)
    store.close()
    app = build_app(Path(data_dir))

    class FirstPaint(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.armed = False
            self.painted: asyncio.Future[float] | None = None

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if self.armed and event.type() == QEvent.Type.Paint and self.painted and not self.painted.done():
                self.painted.set_result(time.perf_counter())
            return False

    async def scenario() -> dict:
        assert app.window is not None and app.session is not None
        running = Tasks()  # holds the app's task while the benchmark runs
        running.start(run_app(app))
        while not app.window.isVisible():
            await asyncio.sleep(0.01)
        await asyncio.sleep(2.0)
        watcher = FirstPaint()
        app.window.view.viewport().installEventFilter(watcher)
        app.session.chat_opened.connect(lambda *_: setattr(watcher, "armed", True))
        timings = []
        for _ in range(SWITCHES):
            await app.session.open_chat(short.id)
            await asyncio.sleep(0.3)
            watcher.armed = False
            watcher.painted = asyncio.get_running_loop().create_future()
            started = time.perf_counter()
            await app.session.open_chat(long_id)
            painted = await watcher.painted
            assert "Gemini" in app.window.view.toPlainText()
            timings.append((painted - started) * 1000)
            await asyncio.sleep(0.3)
        naive = []
        window = QMainWindow()
        edit = QTextEdit()
        window.setCentralWidget(edit)
        window.resize(900, 720)
        window.show()
        text = "\n\n".join(("**You:** " if m.role is Role.USER else "**Gemini:** ") + m.text for m in messages)
        for _ in range(3):
            baseline = FirstPaint()
            baseline.armed = True
            baseline.painted = asyncio.get_running_loop().create_future()
            edit.viewport().installEventFilter(baseline)
            started = time.perf_counter()
            edit.setMarkdown(text)
            edit.verticalScrollBar().setValue(edit.verticalScrollBar().maximum())
            painted = await baseline.painted
            naive.append((painted - started) * 1000)
            edit.viewport().removeEventFilter(baseline)
            edit.clear()
            await asyncio.sleep(0.2)
        return {"app": timings, "naive": naive}

    with loop:
        result = loop.run_until_complete(scenario())
    print(json.dumps(result), flush=True)
    os._exit(0)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        sys.exit(main())
