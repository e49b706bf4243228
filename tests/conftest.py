"""Shared fixtures: an asyncio loop on Qt's event loop, the fake Gemini server, an app.

pytest-qt does not run asyncio (pytest-qt issue #448), so `qloop` sets a
`qasync.QEventLoop` on the test's QApplication, as qasync's own tests do, and
`run` drives a coroutine on it while Qt events are processed.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import socket
import sys
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

# Before Qt is imported anywhere: tests need no screen, and never a real service (no notification
# pops up on the developer's desktop: a test that wants a session bus starts its own).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for _var in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "GEMCHAT_DATA_DIR", "DBUS_SESSION_BUS_ADDRESS"):
    os.environ.pop(_var, None)

import keyring
import pytest
import pytest_timeout
import qasync
from hypothesis import settings as hypothesis_settings

from gemchat.pyside_scan import answer_from_names
from tests.fakes.gemini_server import FakeGemini
from tests.fakes.memory_keyring import MemoryKeyring

# As the app does (`gemchat.app.qt_application`): PySide6's source scan of each new module answered from its
# name. Left to PySide6, the scan asked a half-imported pydantic for `__wrapped__`, its module `__getattr__`
# imported pydantic again, and google.genai failed to import ("partially initialized module") in a test
# process that loaded the SDK first on a stream (tests/test_start.py, now and then when run on its own).
answer_from_names()

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


class Hung(BaseException):
    """A test still running at its time limit, raised in the main thread where it was.

    A BaseException, so that no `except Exception` on the way (the app's, the SDK's) swallows it.
    """


HANG_GRACE = 10.0
"""Seconds a hung test's teardown gets after its time limit, and again before the run is ended."""

_hung: list[str] = []  # what the watchdog said about the current test, once it fired
_LIBRARIES = tuple({sysconfig.get_paths()[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")})


def _ours(filename: str) -> bool:
    """Whether code is gemchat's or a test's: neither Python's nor an installed library's (nor this file's)."""
    return not filename.startswith(_LIBRARIES) and not filename.startswith("<") and filename != __file__


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> bool | None:
    """pytest-timeout's limit (`timeout` in pyproject.toml, or a test's marker), so only the hung test fails.

    pytest-timeout's own methods do not manage that for a test that runs the
    app's event loop. Its "signal" method raises from a SIGALRM handler, but
    Python runs a handler only when the main thread next runs Python code: a
    test waiting on an idle Qt loop for what never comes never does, and the
    whole run hangs; when it does run, it is often inside Python that PySide
    calls from C++ (an enum made for a signal's argument), which cannot take an
    exception: the run crashes (a segmentation fault). Its "thread" method
    ends the whole run.

    Here the handler raises nothing itself. It stops the event loop, so the
    test's `run` returns and `AppLikeLoop` raises `Hung` with where the main
    thread was; and it has gemchat's and the tests' own frames on the stack
    raise `Hung` at their next line (`_raise_in_our_frames`), which ends a slot
    stuck in a loop. The `qloop` fixture has SIGALRM wake Qt's loop
    (`signal.set_wakeup_fd`), so the handler runs at once. The teardown then
    gets `HANG_GRACE` seconds (the handler fires again after them); a hang no
    Python code can end (a deadlock inside Qt, a loop inside a library) ends
    the run after another `HANG_GRACE`, with every thread's stack, as
    pytest-timeout's "thread" method does.
    """
    if not hasattr(signal, "SIGALRM"):  # Windows: pytest-timeout's own "thread" method
        return None
    _hung.clear()
    limit = float(settings.timeout)

    def on_alarm(_signum: int, frame: Any) -> None:
        if not settings.disable_debugger_detection and pytest_timeout.is_debugging():
            return
        stack = traceback.extract_stack(frame)
        start = next((n for n, entry in enumerate(stack) if _ours(entry.filename)), 0)
        where = "".join(traceback.format_list(stack[start:]))  # from the test on, without pytest's frames
        message = (f"{item.nodeid} was still running after its time limit of {limit:g} s "
                   f"(the watchdog in tests/conftest.py); the main thread was here:\n{where}")
        _hung.append(message)
        signal.setitimer(signal.ITIMER_REAL, HANG_GRACE)
        loop = asyncio.events._get_running_loop()
        if loop is not None and loop.is_running():
            loop.stop()  # `run` returns, and `AppLikeLoop` raises Hung
        _raise_in_our_frames(frame, message)

    last_resort = threading.Timer(limit + 2 * HANG_GRACE, pytest_timeout.timeout_timer, (item, settings))
    last_resort.name = f"last-resort watchdog {item.nodeid}"
    last_resort.daemon = True

    def cancel() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        last_resort.cancel()
        if isinstance(sys.gettrace(), _Tracer):
            sys.settrace(None)

    item.cancel_timeout = cancel  # type: ignore[attr-defined]  # what pytest-timeout's cancel hook calls
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    last_resort.start()
    return True


class _Tracer:
    """A trace function that raises `Hung` at the first event in a frame given one, then stops tracing."""

    def __init__(self, frames: list[Any], message: str) -> None:
        self.frames, self.message = frames, message

    def __call__(self, frame: Any, event: str, arg: object) -> Any:
        if event == "call":  # a new frame: not traced
            return None
        sys.settrace(None)
        for traced in self.frames:
            traced.f_trace = None
        raise Hung(self.message)


def _raise_in_our_frames(frame: Any, message: str) -> None:
    """Has each of gemchat's and the tests' frames on the main thread's stack raise `Hung` at its next line.

    From there it leaves like any exception, through the slot, task or test that
    called it. Library frames are left alone: one may have been called from C++
    that cannot take an exception. (This file's frames only pass it on.)
    """
    frames = []
    while frame is not None:
        if _ours(frame.f_code.co_filename):
            frames.append(frame)
        frame = frame.f_back
    if frames:
        tracer = _Tracer(frames, message)
        for ours in frames:
            ours.f_trace = tracer
        sys.settrace(tracer)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def config_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's own $XDG_CONFIG_HOME, where the API key file goes: never the user's ~/.config.

    The processes a test starts inherit it. `gemchat.paths.config_dir()` is its `gemchat` folder.
    Qt's file dialogs keep their history (QtProject.conf) in the first test's, where Qt
    first looks; without this it went to the user's ~/.config.
    """
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    return folder


@pytest.fixture(scope="session", autouse=True)
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The run's own $XDG_RUNTIME_DIR, where gemchat's sockets go (one per data directory in use).

    A gemchat killed with -9 leaves its socket behind (the next one on that data directory
    replaces it): none is left in the user's runtime folder, or in /tmp, by the tests.
    The processes the tests start inherit it.
    """
    folder = tmp_path_factory.mktemp("runtime")
    folder.chmod(0o700)
    previous = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("XDG_RUNTIME_DIR", None)
    else:
        os.environ["XDG_RUNTIME_DIR"] = previous


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
            if _hung:  # stopped by the watchdog: say where the test hung
                raise Hung(_hung[-1])
            raise RuntimeError("Event loop stopped before Future completed.")
        return future.result()


@pytest.fixture
def qloop(qapp: Any) -> Iterator[qasync.QEventLoop]:
    loop = AppLikeLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    with _signals_wake_qt():
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


@contextlib.contextmanager
def _signals_wake_qt() -> Iterator[None]:
    """A signal wakes Qt's event loop, so Python runs its handler at once (the watchdog's SIGALRM).

    Python only notes a signal until the main thread runs Python code again; an idle Qt
    loop would not, for as long as nothing else happens. As the app does for SIGTERM.
    """
    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(lambda *_: reader.recv(512))
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous)
        notifier.setEnabled(False)
        notifier.deleteLater()
        reader.close()
        writer.close()


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T], timeout: float = 40.0) -> T:
    """Runs `coro` on the Qt-driven loop, Qt events included, with a time limit.

    The limits here only stop a test that waits for what will never come; the
    event itself comes as soon as it can, so they are generous enough for a
    loaded 2-core machine (and below the 60 s a test may take).
    """
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


async def until(predicate: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
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
