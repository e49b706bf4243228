"""The window as `gemchat --data-dir DIR` runs it: started and closed by a test (restarts), or held
for tests of what later launches ask of it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from gemchat.app import GemchatApp, build_app, run_app
from gemchat.data_directory import lock_data_dir
from gemchat.launch_listener import LaunchListener, listen_for_launches
from tests.conftest import run, until
from tests.fakes.gemini_server import FakeGemini
from tests.test_gemchat_process import app_env


@pytest.fixture
def running(qloop: Any, gemini_env: FakeGemini, data_dir: Path, qtbot: Any) -> Iterator[tuple[GemchatApp, LaunchListener]]:
    """The window holding the data directory, listening for later launches, its last chat shown."""
    lock = lock_data_dir(data_dir)
    assert lock is not None
    app = build_app(data_dir)
    listener = listen_for_launches(data_dir)
    assert listener is not None
    task = qloop.create_task(run_app(app, launches=listener))
    try:
        run(qloop, until(lambda: app.window.isVisible() and app.window.ready, what="window shown with its chat"))
        yield app, listener
    finally:
        if not task.done():
            app.window.close()
            run(qloop, task)
        listener.close()
        lock.close()


def launch_again(qloop: Any, gemini: FakeGemini, data_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`gemchat --data-dir DIR ARGS...` from `cwd`, while this loop keeps the window answering."""
    proc = subprocess.Popen([sys.executable, "-m", "gemchat", "--data-dir", str(data_dir), *args], cwd=cwd,
                            env=app_env(gemini, QT_QPA_PLATFORM="offscreen"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        run(qloop, until(lambda: proc.poll() is not None, 40, "the later launch to end"), 45)
    finally:
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate(timeout=10)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


class Running:
    """One start of the app, closed (and its shutdown awaited) by `close`."""

    def __init__(self, qloop: Any, qtbot: Any, data_dir: Path) -> None:
        self.qloop = qloop
        self.app: GemchatApp = build_app(data_dir)
        self.task: asyncio.Task[None] = qloop.create_task(run_app(self.app))
        run(qloop, until(lambda: self.app.window.isVisible() and self.app.window.ready, 5, "window ready"))
        self.app.window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is self.app.window, timeout=3000)

    def close(self) -> None:
        if not self.task.done():
            self.app.window.close()
            run(self.qloop, self.task)


@pytest.fixture
def started(qloop: Any, qtbot: Any, data_dir: Path) -> Iterator[list[Running]]:
    """Apps started by the test; any still running is closed at the end."""
    apps: list[Running] = []
    yield apps
    for running in apps:
        running.close()
