"""gemchat as a screen reader meets it: a real process, read through AT-SPI from outside.

The desktop's accessibility stack is real: a session bus of its own
(`dbus-run-session`), on which the AT-SPI bus and registry start as on a desktop
(`at-spi2-core`), gemchat in an X window (Qt reports to AT-SPI from xcb, not
offscreen) with `QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1` (as when a screen reader
runs), and `tests/fakes/screen_reader.py` in Debian's Python with pyatspi,
which types a question, presses Send, waits for the announcement and reads the
tree as Orca would. Gemini is the loopback fake server.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gemchat.paths import settings_path
from tests.conftest import TEST_KEY
from tests.fakes.gemini_server import FakeGemini, Reply
from tests.test_gemchat_process import ROOT, app_env, start_in_x, wait_for

SYSTEM_PYTHON = "/usr/bin/python3"
READER = ROOT / "tests" / "fakes" / "screen_reader.py"
PRIVATE = ("\ufdd0", "\ufdd1", "\ufffc")  # Qt's frame and cell markers, and the object replacement character

TABLE_ANSWER = [
    "Here are the planets:\n\n",
    "| Planet | Moons |\n| --- | --- |\n",
    "| Mars | 2 |\n",
    "| Jupiter | 95 |\n\n",
    "Both are **outer** planets of the inner ones' neighbourhood.",
]


def at_spi_missing() -> str | None:
    """Why the accessibility stack cannot run here, or None (Debian: at-spi2-core, python3-pyatspi, dbus-daemon)."""
    if shutil.which("dbus-run-session") is None:
        return "needs dbus-run-session (Debian: apt-get install dbus-daemon)"
    if not any(Path(d, "at-spi-bus-launcher").exists() for d in ("/usr/libexec", "/usr/lib/at-spi2-core")):
        return "needs the AT-SPI bus (Debian: apt-get install at-spi2-core)"
    if not Path(SYSTEM_PYTHON).exists() or subprocess.run(
            [SYSTEM_PYTHON, "-c", "import pyatspi"], capture_output=True, timeout=30).returncode != 0:
        return "needs pyatspi for /usr/bin/python3 (Debian: apt-get install python3-pyatspi)"
    return None


pytestmark = [pytest.mark.atspi, pytest.mark.timeout(120)]


@pytest.fixture
def accessibility_bus() -> Iterator[str]:
    """A session bus of its own with the desktop's services: AT-SPI's bus and registry start on it when asked."""
    missing = at_spi_missing()
    if missing:
        pytest.skip(missing)
    holder = subprocess.Popen(["dbus-run-session", "--", "sh", "-c", 'echo "$DBUS_SESSION_BUS_ADDRESS"; exec cat'],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdin is not None
    address = holder.stdout.readline().strip()
    yield address
    holder.stdin.close()  # `cat` ends, and with it the session and everything started on it
    holder.wait(timeout=30)
    holder.stdout.close()


def read_as_a_screen_reader(tmp_path: Path, xvfb: Any, bus: str, server: FakeGemini, question: str) -> dict[str, Any]:
    """Starts the screen reader, then gemchat, puts its window in front; the reader asks `question` and reports.

    The report is the reader's JSON, with what the reader and gemchat printed.
    """
    if xvfb is None or shutil.which("xdotool") is None:
        pytest.skip("needs Xvfb (pytest-xvfb) and xdotool")
    env = app_env(server, QT_QPA_PLATFORM="xcb", DISPLAY=f":{xvfb.display}", DBUS_SESSION_BUS_ADDRESS=bus,
                  QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1", PYTHONFAULTHANDLER="1")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    # No desktop notification: a notification service installed here would be started on this bus to show one.
    settings_path(data_dir).write_text(json.dumps({"notifications": False}), encoding="utf-8")
    reader_env = {k: v for k, v in env.items() if not k.startswith("PYTHON")}  # Debian's Python, its own paths
    reader = subprocess.Popen([SYSTEM_PYTHON, str(READER), "--ask", question, "--timeout", "60"], env=reader_env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert reader.stdin is not None and reader.stdout is not None and reader.stderr is not None

    def xdo(*args: str) -> str:
        return subprocess.run(["xdotool", *args], env=env, capture_output=True, text=True, timeout=30).stdout.strip()

    app: subprocess.Popen[str] | None = None
    try:
        assert json.loads(reader.stdout.readline() or "{}").get("listening"), reader.stderr.read()
        app, window = start_in_x(env, data_dir, xdo)
        # No window manager on Xvfb: give the window the focus as one would. An answer that ends
        # while the user is elsewhere is the desktop notification's to tell, not the screen reader's.
        # Asked again until it holds: under load the first ask can come before the window takes focus.
        wait_for(lambda: xdo("windowfocus", window) is not None and xdo("getwindowfocus") == window,
                 20, "the window to have the focus")
        out, err = reader.communicate("go\n", timeout=90)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.communicate()
        output = ""
        if app is not None:
            app.terminate()
            try:
                output = app.communicate(timeout=30)[0].decode(errors="replace")
            except subprocess.TimeoutExpired:
                app.kill()
                output = app.communicate()[0].decode(errors="replace")
    report = json.loads(out.strip().splitlines()[-1]) if out.strip() else {"error": "no report"}
    assert "error" not in report, f"{report['error']}\n--- reader ---\n{err}\n--- gemchat ---\n{output}"
    return report


def conversation(report: dict[str, Any]) -> dict[str, Any]:
    [node] = [n for n in report["tree"] if n["name"] == "Conversation"]
    return node


def test_a_screen_reader_reads_the_answer_as_a_document_with_its_table_cell_by_cell_and_hears_it_once(
        tmp_path: Path, xvfb: Any, accessibility_bus: str) -> None:
    with FakeGemini(api_key=TEST_KEY) as server:
        server.enqueue(Reply.text(TABLE_ANSWER, chunk_delay=0.15))
        report = read_as_a_screen_reader(tmp_path, xvfb, accessibility_bus, server, "Which planets have moons?")

    node = conversation(report)
    assert node["role"] == "document frame"
    assert {"read only", "focusable", "multi line"} <= set(node["states"])
    text = node["text"]
    assert "Which planets have moons?" in text and "Here are the planets:" in text
    assert "\nPlanet\tMoons\nMars\t2\nJupiter\t95\n" in text  # a row a line, its cells parted by tabs
    assert "Both are outer planets" in text
    assert not any(mark in text for mark in PRIVATE)

    # From the question typed on, the conversation said one thing: the answer, once it ended. What streamed in
    # was not reported piece by piece (no text inserted or removed, no caret carried along), and nothing after.
    asked = next(n for n, e in enumerate(report["events"]) if e["type"] == "object:text-changed:insert" and e["name"] == "Message")
    heard = [e for e in report["events"][asked:] if e["name"] == "Conversation"]
    assert [e["type"] for e in heard] == ["object:announcement"], heard
    assert heard[0]["detail1"] == 1  # polite: after what the screen reader is saying, not interrupting it
    assert heard[0]["data"].startswith("Gemini answered: Here are the planets:\nPlanet\tMoons\nMars\t2\n")


def test_every_control_a_screen_reader_reaches_has_a_name(tmp_path: Path, xvfb: Any, accessibility_bus: str) -> None:
    with FakeGemini(api_key=TEST_KEY) as server:
        server.enqueue(Reply.text(["Hello."]))
        report = read_as_a_screen_reader(tmp_path, xvfb, accessibility_bus, server, "Hi")

    controls = ("push button", "toggle button", "text", "list", "combo box", "check box", "radio button",
                "spin button", "progress bar", "document frame", "menu item", "page tab", "slider")
    unnamed = [n for n in report["tree"] if n["role"] in controls and not n["name"].strip()]
    assert not unnamed, unnamed
    roles = {n["name"]: n["role"] for n in report["tree"]}
    assert roles["Message"] == "text" and roles["Send"] == "push button" and roles["Chats"] == "list"
    assert roles["Attach files"] == "push button" and roles["Stop"] == "push button"
    assert roles["Chat title"] == "text"
    assert roles.get("Model: Gemini 3.6 Flash") == "push button", [n for n in report["tree"] if "Model" in n["name"]]


EARLY_QUESTION = """
import json, sys, time
from pathlib import Path
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QApplication
from gemchat.app import build_window
from gemchat.ui import accessibility
app = QApplication([])
window = build_window(Path(sys.argv[1]))
window.show()
deadline = time.monotonic() + 30
while not QAccessible.isActive() and time.monotonic() < deadline:  # Qt's bridge reaches the AT-SPI bus
    app.processEvents()
    time.sleep(0.01)
roles = [QAccessible.queryAccessibleInterface(window.view).role().name]  # a screen reader asks at once
accessibility.install(window)  # as build_app does, after the first paint
roles.append(QAccessible.queryAccessibleInterface(window.view).role().name)
print(json.dumps({"active": QAccessible.isActive(), "roles": roles}))
"""


def test_a_screen_reader_that_asks_before_the_chats_load_gets_the_document_from_then_on(
        tmp_path: Path, xvfb: Any, accessibility_bus: str) -> None:
    """The document's interface is installed after the first paint; the one Qt made before is replaced."""
    if xvfb is None:
        pytest.skip("needs Xvfb (pytest-xvfb)")
    with FakeGemini(api_key=TEST_KEY) as server:
        env = app_env(server, QT_QPA_PLATFORM="xcb", DISPLAY=f":{xvfb.display}",
                      DBUS_SESSION_BUS_ADDRESS=accessibility_bus, QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1")
        # A screen reader already runs (as on a desktop): the accessibility bus is up when gemchat starts.
        reader = subprocess.Popen([SYSTEM_PYTHON, str(READER), "--ask", "unused"],
                                  env={k: v for k, v in env.items() if not k.startswith("PYTHON")},
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert reader.stdout is not None
            assert json.loads(reader.stdout.readline() or "{}").get("listening")
            result = subprocess.run([sys.executable, "-c", EARLY_QUESTION, str(tmp_path / "data")], env=env,
                                    cwd=ROOT, capture_output=True, text=True, timeout=60)
        finally:
            reader.kill()
            reader.communicate()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"active": True, "roles": ["StaticText", "Document"]}
