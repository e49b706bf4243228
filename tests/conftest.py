"""Shared fixtures: an asyncio loop on Qt's event loop, the fake Gemini server, an app.

pytest-qt does not run asyncio (pytest-qt issue #448), so `qloop` sets a
`qasync.QEventLoop` on the test's QApplication, as qasync's own tests do, and
`run` drives a coroutine on it while Qt events are processed.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Coroutine, Iterator, TypeVar

# Before Qt is imported anywhere: tests need no screen, and never a real service.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for _var in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GEMCHAT_DATA_DIR"):
    os.environ.pop(_var, None)

import keyring
import pytest
import qasync
from hypothesis import settings as hypothesis_settings

from tests.fakes.gemini_server import FakeGemini
from tests.fakes.memory_keyring import MemoryKeyring

TEST_KEY = "test-key-123456"

# CI runs the property tests on a fixed sequence of examples, so a landing never depends on
# the draw; a developer's `make test` draws new ones every run and finds what CI would not.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
T = TypeVar("T")


def _trace_qthreads_for_coverage() -> None:
    """Under `make coverage`, code run on qasync's QThreads counts too.

    Coverage installs its tracer in threads started by `threading` only; Qt starts the
    QThreads behind `run_in_executor(None, ...)` itself, so their Python code would be
    reported as never run. Each worker installs the same trace function when it starts.
    """
    if threading.gettrace() is None:
        return
    worker = qasync._QThreadWorker
    run_jobs = worker.run

    def traced_run(self: Any) -> None:
        trace = threading.gettrace()
        if trace is not None:
            sys.settrace(trace)
        run_jobs(self)

    worker.run = traced_run


_trace_qthreads_for_coverage()


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


class AppLikeLoop(qasync.QEventLoop):
    """qasync's loop as the app runs it: asyncio sees it running whenever Qt dispatches events.

    The app runs one `run_until_complete` for its whole life. A test runs many
    short ones, and between them Qt still dispatches events (qtbot's waits,
    pytest-qt's processEvents after each phase, and qasync's own final
    processEvents after each run). Callbacks dispatched then would find no
    running loop, which anyio (under the SDK's HTTP client) treats as fatal;
    keeping the loop registered as running makes those moments behave as in
    the app.
    """

    def run_until_complete(self, future: Any) -> Any:
        future = asyncio.ensure_future(future, loop=self)

        def stop(_future: object) -> None:
            self.stop()

        future.add_done_callback(stop)
        try:
            self.run_forever()
        finally:
            future.remove_done_callback(stop)
            asyncio.events._set_running_loop(self)
        if not future.done():
            raise RuntimeError("Event loop stopped before Future completed.")
        return future.result()


@pytest.fixture
def qloop(qapp: Any) -> Iterator[qasync.QEventLoop]:
    loop = AppLikeLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    yield loop
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=5))
    # Joins the default executor's QThreads: Qt aborts the process if one is destroyed running.
    loop.close()
    # Collect the test's app (windows, timers, sessions sit in reference cycles) here, on the
    # GUI thread: collected later on a worker thread, a QObject with timers would be deleted
    # where Qt cannot unregister them, and the next test would crash on a dangling timer.
    gc.collect()
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
    """Runs `coro` on the Qt-driven loop, Qt events included, with a time limit."""
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


async def until(predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    """Waits, letting the loop run, until `predicate()` is true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        await asyncio.sleep(0.01)


@pytest.fixture
def gemini() -> Iterator[FakeGemini]:
    with FakeGemini(api_key=TEST_KEY) as server:
        yield server


@pytest.fixture
def gemini_env(gemini: FakeGemini, monkeypatch: pytest.MonkeyPatch) -> FakeGemini:
    """The app's environment pointing at the fake server, as a user's proxy setting would."""
    monkeypatch.setenv("GEMINI_API_KEY", TEST_KEY)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini.base_url)
    return gemini


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def live(qloop: qasync.QEventLoop, gemini_env: FakeGemini, data_dir: Path, qtbot: Any) -> Iterator[Any]:
    """The whole app, started as `gemchat --data-dir DIR` would, with its window shown and active."""
    from PySide6.QtWidgets import QApplication

    from gemchat.app import build_app, run_app

    app = build_app(data_dir)
    app.settings.typing_effect = True
    task = qloop.create_task(run_app(app))
    run(qloop, until(lambda: app.window.isVisible() and app.window.ready, what="window shown with its chat"))
    app.window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is app.window, timeout=3000)
    yield app
    if not task.done():
        app.window.close()
        run(qloop, task)
