"""`gemchat --self-test`: proves a build works, packaged or not, with no network and no user data.

A frozen app can start and still be broken: a hidden import PyInstaller
missed, a Qt plugin or a certificate file left out only fails when that code
path runs. So the self-test runs the real thing end to end, the way a user's
first message goes: the real window (offscreen unless QT_QPA_PLATFORM says
otherwise), built by the same `build_app` and run by the same `run_app` as
`gemchat`, sends one question through the message box, and the real
google-genai SDK streams the answer over HTTP from a loopback server started
here (`gemchat.loopback_gemini`). It passes when the answer arrived whole, in
the window and in the SQLite database, and the app shut down in order.

It never touches the user's things: the data directory is a temporary one,
the API key is a dummy from the environment, which wins over the keyring and
the key file (neither is read; the keyring is a stand-in in memory), and the environment
variables it sets are put back afterwards.

`GEMCHAT_SELFTEST_FAULT=drop` makes the loopback server cut the answer
halfway, as a lost connection would; the self-test must then fail. It exists
so the tests can prove a broken exchange is reported, and is read nowhere else.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from gemchat import __version__
from gemchat.core.credentials import ENV_VARS, KeyStore

if TYPE_CHECKING:
    from gemchat.app import GemchatApp
    from gemchat.core.messages import Message
    from gemchat.launch_listener import LaunchListener

FAULT_ENV = "GEMCHAT_SELFTEST_FAULT"
DEFAULT_TIMEOUT = 60.0  # the whole run, hung or not
SHUTDOWN_TIMEOUT = 15.0  # of that, kept for quitting after the exchange
QUESTION = "Self-test: please answer in a few pieces."
# Non-ASCII on purpose: encodings are one more thing a frozen build can get wrong.
ANSWER_CHUNKS = (
    "Hello from the loopback server. ",
    "This answer was streamed ",
    "in eight pieces ",
    "(ünïcödé ✓ 👋 — ",
    "中文) ",
    "and should arrive ",
    "in the window and the database ",
    "exactly as sent.",
)
ANSWER = "".join(ANSWER_CHUNKS)
_KEYRING_BACKEND_FOR_PLATFORM = {"linux": "SecretService", "win32": "Windows", "darwin": "macOS"}


class SelfTestFailure(Exception):
    """One check failed; the message says which and what was seen instead."""


class MemoryKeyStore(KeyStore):
    """A key store that never reaches the OS keyring, so the user's stored key is left alone."""

    def __init__(self) -> None:
        self._key: str | None = None

    def available(self) -> bool:
        return True

    def load(self) -> str | None:
        return self._key

    def save(self, key: str) -> None:
        self._key = key

    def delete(self) -> bool:
        had, self._key = self._key is not None, None
        return had


class _Report:
    """Prints each check as it passes, so a failing run shows how far it got."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def ok(self, what: str) -> None:
        print(f"ok    {what}", flush=True)

    def info(self, what: str) -> None:
        print(f"info  {what}", flush=True)

    def fail(self, what: str) -> None:
        print(f"FAIL  {what}", flush=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


@contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    """Sets (or, for None, removes) variables for the duration, then puts the old ones back."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _start_watchdog(seconds: float) -> threading.Timer:
    """Ends the process if the Qt loop itself hangs, where no asyncio timeout can fire."""

    def give_up() -> None:
        print(f"FAIL  the self-test did not finish within {seconds:g} s (hung)", flush=True)
        os._exit(3)

    timer = threading.Timer(seconds, give_up)
    timer.daemon = True
    timer.start()
    return timer


def check_keyring_backends(report: _Report) -> None:
    """The frozen app finds keyring's backends only if their entry points and modules were packaged."""
    from importlib.metadata import entry_points

    import keyring  # noqa: F401 (the import itself is part of the check)

    loaded: list[str] = []
    broken: list[str] = []
    for entry in entry_points(group="keyring.backends"):
        try:
            entry.load()
            loaded.append(entry.name)
        except Exception as exc:  # a backend for another OS may not import here; reported, not fatal
            broken.append(f"{entry.name} ({type(exc).__name__})")
    expected = next((name for prefix, name in _KEYRING_BACKEND_FOR_PLATFORM.items()
                     if sys.platform.startswith(prefix)), None)
    if not loaded:
        raise SelfTestFailure("keyring has no backends (its entry points or modules were not packaged)")
    if expected is not None and expected not in loaded:
        raise SelfTestFailure(f"keyring's {expected} backend did not import; loaded: {', '.join(loaded)}; "
                              f"broken: {', '.join(broken) or 'none'}")
    report.ok(f"keyring backends import: {', '.join(sorted(loaded))}"
              + (f" (not on this OS: {', '.join(broken)})" if broken else ""))


def check_certificates(report: _Report) -> None:
    """HTTPS to Google needs trusted roots; a build that lost them fails only on the first real request.

    google-auth, requests and the SDK's aiohttp path read certifi's bundle, which
    PyInstaller must ship as a data file; httpx2, the SDK's default stack, uses
    the OS store (shown for information: a CA directory is read on demand, so 0
    loaded up front is not an error).
    """
    import ssl

    import certifi

    bundle = certifi.where()
    if not os.path.isfile(bundle):
        raise SelfTestFailure(f"certifi's CA bundle is missing: {bundle}")
    loaded = ssl.create_default_context(cafile=bundle).cert_store_stats()["x509_ca"]
    if not loaded:
        raise SelfTestFailure(f"certifi's CA bundle holds no certificates: {bundle}")
    report.ok(f"certifi's CA bundle loads ({loaded} certificates)")
    try:
        import httpx2

        system = httpx2.create_ssl_context().cert_store_stats()["x509_ca"]
        report.info(f"httpx2 uses the OS trust store ({system} CA certificates loaded up front)")
    except Exception as exc:  # httpx2 is the SDK's choice, not ours; the exchange below shows if it works
        report.info(f"httpx2's SSL context could not be made: {type(exc).__name__}: {exc}")


def check_collation(report: _Report) -> None:
    """Qt's file dialogs sort names by the user's language with QCollator.

    On Linux that is ICU, whose data the packaged build trims
    (packaging/gemchat.spec); a collation with its own rules for a letter shows
    the rules were kept.
    """
    from PySide6.QtCore import QCollator, QLocale

    swedish = QCollator(QLocale("sv_SE")).compare("ö", "z")
    german = QCollator(QLocale("de_DE")).compare("ö", "z")
    if not swedish > 0 > german:
        raise SelfTestFailure(f"Qt sorts without the languages' rules: 'ö' against 'z' gave {swedish} in Swedish "
                              f"and {german} in German (after, then before, was expected)")
    report.ok("Qt sorts by language (QCollator: ö after z in Swedish, before it in German)")


def check_image_formats(report: _Report) -> None:
    """Attachment previews need Qt's image readers, and icon themes' SVG icons its SVG icon engine.

    JPEG, WebP and SVG are plugins a build can leave out (PNG is built in). Each
    picture format is written and read back the way a preview reads a file,
    QImageReader finding the format by itself.
    """
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QIcon, QImage, QImageReader

    from gemchat.ui.icons import RESOURCES

    picture = QImage(16, 16, QImage.Format.Format_RGB32)
    picture.fill(QColor("crimson"))
    for name in ("PNG", "JPEG", "WEBP"):
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        written = picture.save(buffer, name)  # type: ignore[call-overload]  # the stubs want bytes, PySide6 a str
        buffer.close()
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        reader = QImageReader(buffer)
        if not written or reader.read().isNull():
            raise SelfTestFailure(f"Qt cannot write and read {name} (its image format plugin is missing?)")
    if QIcon(str(RESOURCES / "gemchat.svg")).pixmap(32).isNull():
        raise SelfTestFailure("Qt cannot draw an SVG icon (the iconengines/qsvgicon plugin is missing?)")
    report.ok("Qt reads PNG, JPEG and WebP (attachment previews) and draws SVG icons")


def check_highlighting(report: _Report) -> None:
    """Code in answers is coloured by Pygments, in the light and the dark style.

    The packaged build keeps every lexer but only the HTML formatter and the two
    styles gemchat uses (packaging/gemchat.spec); a lexer or style left out would
    show code uncoloured, or fail.
    """
    from gemchat.core.markdown import DARK, LIGHT, render_markdown

    for style in (LIGHT, DARK):
        for language in ("python", "rust"):
            html = render_markdown(f"```{language}\nfn = 1  # x\n```\n", style=style)
            if "color:" not in html:
                raise SelfTestFailure(f"{language} code is not coloured in the {style.pygments_style} style: {html[:200]!r}")
    report.ok(f"code is coloured by Pygments (Python and Rust, in the {LIGHT.pygments_style} and "
              f"{DARK.pygments_style} styles)")


def check_formulas(report: _Report) -> None:
    """Formulas are typeset by this same program run as `--typeset-worker` and drawn with QtSvg.

    A build that left out ziamath's math font, latex2mathml's symbol table or
    metadata, or QtSvg, would show every formula as its source and say nothing.
    """
    import json
    import subprocess

    from gemchat.ui.chat_view.formulas import draw
    from gemchat.ui.chat_view.typesetter import worker_command

    request = json.dumps({"tex": "\\frac{1}{2}", "display": True}) + "\n"
    try:
        done = subprocess.run(worker_command(), input=request, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise SelfTestFailure("the formula typesetter (--typeset-worker) did not answer within 30 s") from None
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if not answers or "ready" not in answers[0]:
        raise SelfTestFailure(f"the formula typesetter did not start: {answers[:1] or done.stderr[-300:]!r}")
    svg = answers[1].get("svg") if len(answers) > 1 else None
    if not svg:
        raise SelfTestFailure(f"the formula typesetter typeset nothing: {answers[1:] or done.stderr[-300:]!r}")
    picture = draw(svg, "#000000", 16.0, 1.0, 3.5)
    if picture is None or picture.image.isNull():
        raise SelfTestFailure("QtSvg could not draw a typeset formula")
    report.ok(f"a formula is typeset by the worker process and drawn with QtSvg "
              f"({picture.image.width()}x{picture.image.height()} px)")


async def _until(predicate: Callable[[], object], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SelfTestFailure(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.01)


async def _exchange(app: GemchatApp, report: _Report, deadline: float, launches: LaunchListener | None = None) -> str:
    """Runs the app, sends QUESTION through the message box, waits for the answer, quits.

    Returns what the view showed when the answer ended.
    """
    from gemchat.app import run_app

    window, session = app.window, app.session
    assert window is not None and session is not None
    ended: list[Message] = []
    problems: list[str] = []  # the session's own reports of what went wrong outside an answer

    def on_generation_started(generation: object) -> None:
        generation.finished.connect(ended.append)  # type: ignore[attr-defined]
        generation.failed.connect(ended.append)  # type: ignore[attr-defined]

    session.generation_started.connect(on_generation_started)
    session.problem.connect(problems.append)
    running = asyncio.ensure_future(run_app(app, launches=launches))
    try:
        await _until(lambda: window.isVisible() or running.done(), "the window to show",
                     max(1.0, deadline - time.monotonic()))
        if running.done():
            running.result()  # raises what run_app raised
            raise SelfTestFailure("the app stopped before its window was shown")
        report.ok(f"window shown ({os.environ.get('QT_QPA_PLATFORM') or 'default platform'}): "
                  f"{window.windowTitle()!r}")
        icon = window.windowIcon()
        if icon.pixmap(48).isNull():  # the PNGs are read from beside the code; a build may leave them out
            raise SelfTestFailure("the window has no icon: gemchat/resources/gemchat-*.png were not found")
        report.ok(f"window icon drawn from {len(icon.availableSizes())} sizes")
        started = time.monotonic()
        window.composer.setPlainText(QUESTION)
        window.composer.submit()
        await _until(lambda: (ended and window.view.answer_id is None) or problems or running.done(),
                     "the answer to end", max(1.0, deadline - time.monotonic()))
        if problems and not ended:
            raise SelfTestFailure(f"the app reported a problem instead of an answer: {problems[0]}")
        if running.done():
            running.result()
            raise SelfTestFailure("the app stopped while the answer was streaming")
        final = ended[0]
        if final.status.value != "complete":
            raise SelfTestFailure(f"the answer ended as {final.status.value!r}: {final.error or 'no error given'}")
        report.ok(f"answer streamed and ended in {time.monotonic() - started:.2f} s")
        return window.view.toPlainText()
    finally:
        window.close_requested.emit()
        try:
            await asyncio.wait_for(asyncio.shield(running), SHUTDOWN_TIMEOUT)
        except TimeoutError:
            report.fail(f"the app did not shut down within {SHUTDOWN_TIMEOUT:.0f} s of being asked to quit")
            raise


def _check_view(view_text: str, report: _Report) -> None:
    if QUESTION not in view_text:
        raise SelfTestFailure(f"the window does not show the question; it shows {view_text[-300:]!r}")
    if ANSWER not in view_text:
        raise SelfTestFailure(f"the window does not show the whole answer; it shows {view_text[-300:]!r}")
    report.ok(f"the window shows the whole answer ({len(ANSWER)} characters)")


def _check_database(directory: Path, report: _Report) -> None:
    """Reads the database back as the next start of the app would."""
    from gemchat.paths import database_path
    from gemchat.storage.store import ChatStore

    store = ChatStore.open(database_path(directory))
    try:
        chat_ids = store.chat_ids()
        if len(chat_ids) != 1:
            raise SelfTestFailure(f"expected one chat in the database, found {len(chat_ids)}")
        saved = [(m.role.value, m.text, m.status.value) for m in store.messages(chat_ids[0])]
    finally:
        store.close()
    wanted = [("user", QUESTION, "complete"), ("model", ANSWER, "complete")]
    if saved != wanted:
        raise SelfTestFailure(f"the database holds {saved!r}, expected {wanted!r}")
    report.ok("the database holds the question and the whole answer, marked complete")


def _check_wire(requests: Sequence[object], report: _Report) -> None:
    streamed = [r for r in requests if r.path.endswith(":streamGenerateContent")]  # type: ignore[attr-defined]
    if not streamed:
        raise SelfTestFailure("the loopback server received no streamed request")
    body = streamed[0].body or {}  # type: ignore[attr-defined]
    sent = "".join(p.get("text", "") for c in body.get("contents", []) for p in c.get("parts", []))
    if sent != QUESTION:
        raise SelfTestFailure(f"the request carried {sent!r}, expected {QUESTION!r}")
    report.ok(f"the request carried the question ({len(requests)} request(s) served on 127.0.0.1)")


def _log_tail(directory: Path, lines: int = 20) -> str:
    from gemchat.paths import log_path

    try:
        return "\n".join(log_path(directory).read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _versions() -> str:
    import PySide6

    frozen = "frozen" if getattr(sys, "frozen", False) else "from source"
    try:
        from importlib.metadata import version

        genai = version("google-genai")
    except Exception:
        genai = "?"
    return (f"{frozen}, Python {sys.version.split()[0]}, Qt {PySide6.__version__}, "
            f"google-genai {genai}")


def run_self_test(timeout: float = DEFAULT_TIMEOUT) -> int:
    """Exit status 0 when the exchange worked end to end, 1 when a check failed, 3 when it hung.

    `timeout` bounds the whole run: the exchange gets what is left after start-up
    and the shutdown allowance, and a watchdog ends a hung process at `timeout`.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    report = _Report()
    print(f"gemchat {__version__} self-test ({_versions()})", flush=True)
    fault = os.environ.get(FAULT_ENV) or None
    if fault:
        report.info(f"{FAULT_ENV}={fault}: the loopback server will break the answer; this run must fail")
    watchdog = _start_watchdog(timeout)
    try:
        from gemchat.paths import data_dir

        report.info(f"data directory of a normal start (not touched): {data_dir()}")
        check_keyring_backends(report)
        check_certificates(report)
        _run_exchange(report, report.started + timeout - SHUTDOWN_TIMEOUT - 2.0, fault)
        check_formulas(report)  # after the exchange: drawing needs its QApplication
    except SelfTestFailure as exc:
        report.fail(str(exc))
        print(f"self-test FAILED after {report.elapsed():.1f} s", flush=True)
        return 1
    except Exception as exc:  # anything unexpected is a failed self-test, with its traceback
        import traceback

        traceback.print_exc()
        report.fail(f"unexpected {type(exc).__name__}: {exc}")
        print(f"self-test FAILED after {report.elapsed():.1f} s", flush=True)
        return 1
    finally:
        watchdog.cancel()
    print(f"self-test passed in {report.elapsed():.1f} s", flush=True)
    return 0


def _run_exchange(report: _Report, deadline: float, fault: str | None) -> None:
    """`deadline` (time.monotonic()) is when the answer must have ended; quitting may take longer."""
    from gemchat.loopback_gemini import LoopbackGemini

    with tempfile.TemporaryDirectory(prefix="gemchat-selftest-") as temp, \
            LoopbackGemini(ANSWER_CHUNKS, fault=fault) as server:  # type: ignore[arg-type]
        directory = Path(temp)
        env: dict[str, str | None] = {name: None for name in ENV_VARS}
        env.update(GEMINI_API_KEY="selftest-dummy-key", GOOGLE_GEMINI_BASE_URL=server.base_url)
        report.info(f"loopback Gemini at {server.base_url}, data in {directory}")
        try:
            with _environment(env):
                view_text = _run_window(directory, report, deadline)
        except SelfTestFailure:
            if tail := _log_tail(directory):
                print("--- gemchat.log (last lines) ---\n" + tail + "\n---", flush=True)
            raise
        _check_wire(server.requests, report)
        _check_view(view_text, report)
        _check_database(directory, report)


def _run_window(directory: Path, report: _Report, deadline: float) -> str:
    """The window's whole life on one qasync loop, as `gemchat.app.run_gui` runs it."""
    import qasync

    from gemchat.app import build_app, qt_application
    from gemchat.logs import setup_logging

    setup_logging(directory)
    qt_app = qt_application()
    check_collation(report)
    check_image_formats(report)
    check_highlighting(report)
    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    app = build_app(directory, key_store=MemoryKeyStore())
    if app.backend is None:
        raise SelfTestFailure("no backend was made from GEMINI_API_KEY")
    from gemchat.launch_listener import listen_for_launches

    launches = listen_for_launches(directory)  # QtNetwork's local socket, which a build could leave out
    if launches is None:
        raise SelfTestFailure("later launches could not be listened for (the log says why)")
    report.ok(f"listening for later launches at {launches.name}")
    try:
        with loop:
            view_text = loop.run_until_complete(_exchange(app, report, deadline, launches))
    finally:
        launches.close()
    report.ok("the app shut down in order (streams, network, database)")
    return view_text
