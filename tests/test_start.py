"""The window appears first, and what is typed into it while the chats load is kept and sent.

`run_gui` shows the window before asyncio, the database, the session and the
SDK are loaded (issue 4's start-up figure); these tests hold that order, and
check that the user loses nothing typed in that first instant.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from gemchat.ui.actions import MENUS
from tests.conftest import run, until
from tests.driving import rows
from tests.fakes.gemini_server import FakeGemini, Reply
from tests.pyside_enums import NOTE_ENUMS

ROOT = Path(__file__).resolve().parents[1]


def test_the_window_shows_before_asyncio_the_database_the_session_or_the_sdk_load_and_then_has_its_icon(tmp_path: Path) -> None:
    """Nor the chats' data model (its dataclasses load with the chats), nor every QtWidgets type: wrapping a
    widget Qt made, such as a scroll area's viewport, has PySide6 make them all (`gemchat.ui.viewports`). Nor does
    a widget ask the style for a themed icon (a command link's arrow, a search field's clear button): the first
    one costs 10-20 ms (`gemchat.ui.starter_button`, `gemchat.ui.fields`). Nor QIcon's enums (3-6 ms): the icon
    comes after the first paint (`gemchat.app.show_window`), and a button or action made with its text
    (QPushButton(text, parent)) makes them, since PySide6 tries the call as (icon, text). Nor the conversation
    view and what works on it (`gemchat.ui.conversation`): they are made once the window has painted, from modules
    imported on the start-up thread (`_load_behind_the_window`). Nor the actions and the menus' entries (QAction's
    enums and 50 actions, 1 %): they are disabled until the first chat shows, and made once the window has painted."""
    # A fresh process: this one has long imported everything.
    probe = NOTE_ENUMS + f"""
import json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication, QCommandLinkButton, QLineEdit, QWidget
app = QApplication([])
from gemchat.app import build_window, show_window
window = build_window(Path({str(tmp_path)!r}))
icon_enums_before_showing = "ThemeIcon" in made
actions_before_showing = "MenuRole" in made or window.window_actions.made
menus_before_showing = [menu.title() for menu in window.window_actions.menus if menu.actions()]
def conversation_loaded():
    return sorted(name for name in ("gemchat.ui.chat_view", "gemchat.ui.conversation", "gemchat.ui.presenter",
                                    "gemchat.ui.sender") if name in sys.modules)
conversation_before_showing = conversation_loaded()
show_window(window)
icon = window.windowIcon()
print(json.dumps({{"visible": window.isVisible(), "icon": [s.width() for s in icon.availableSizes()],
                  "icon drawn": not icon.pixmap(48).isNull(), "loaded": sorted(
    name for name in ("asyncio", "qasync", "sqlite3", "gemchat.session", "gemchat.storage.store",
                      "gemchat.core.gemini", "google.genai", "markdown_it", "pygments", "keyring",
                      "mdit_py_plugins", "ziamath", "PySide6.QtSvg", "gemchat.core.messages")
    if name in sys.modules), "every widget type": "WizardOption" in made, "QIcon's enums": icon_enums_before_showing,
    "conversation before showing": conversation_before_showing,
    "actions before showing": actions_before_showing, "menus with entries before showing": menus_before_showing,
    "entries once shown": [len(menu.actions()) for menu in window.window_actions.menus],
    "conversation once shown": conversation_loaded(),
    "themed icons asked for": [type(w).__name__ for w in window.findChildren(QWidget)
                               if isinstance(w, QCommandLinkButton) or isinstance(w, QLineEdit) and w.isClearButtonEnabled()]}}))
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                 "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown == {"visible": True, "icon": [16, 24, 32, 48, 64, 128, 256], "icon drawn": True, "loaded": [],
                     "every widget type": False, "QIcon's enums": False, "conversation before showing": [],
                     "actions before showing": False, "menus with entries before showing": [],
                     "entries once shown": [len(names) for names in MENUS.values()],
                     "conversation once shown": [], "themed icons asked for": []}


def test_markdown_is_prepared_at_start_only_when_a_chat_will_be_shown_and_its_failing_does_not_stop_the_start(
        tmp_path: Path) -> None:
    """A new data directory leaves Markdown unloaded (memory at rest); one with chats has it prepared on the
    start-up thread, with the last chat's answers rendered there, before the chat is shown; and a failure
    there only costs that time. The conversation view is made on the UI thread once its modules are in, while the
    thread goes on (`build_conversation`)."""
    probe = """
import json, sys, threading
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
import gemchat.app as gemchat_app
directory, mode = Path(sys.argv[1]), sys.argv[2]
if mode != "new":
    from gemchat.paths import database_path
    from gemchat.storage.store import ChatStore
    from gemchat.core.messages import Role
    directory.mkdir(parents=True, exist_ok=True)
    store = ChatStore.open(database_path(directory))
    chat = store.create_chat("gemini-3.6-flash", "Kept").id
    store.add_message(chat, Role.USER, "Hello")
    store.add_message(chat, Role.MODEL, "**Hi** there")
    store.close()
if mode == "failing":
    import gemchat.core.markdown as markdown
    def broken(*_args):
        raise RuntimeError("no lexers here")
        yield
    markdown.warm_up = broken
builds = []
def build_conversation():
    builds.append([threading.current_thread() is threading.main_thread(), "gemchat.ui.chat_view" in sys.modules])
(store, _recovered, _files), made = gemchat_app._load_behind_the_window(directory, (False, "#5f6368", "#ffffff"),
                                                                        build_conversation)
html = [piece for pieces in (made[1].values() if made else ()) for piece in pieces]
print(json.dumps({"markdown": "markdown_it" in sys.modules, "chats": len(store.list_chats()), "builds": builds,
                  "answers_rendered": "<b>Hi</b>" in "".join(html) or "<strong>Hi</strong>" in "".join(html)}))
"""
    seen = {}
    for mode in ("new", "chats", "failing"):
        result = subprocess.run([sys.executable, "-c", probe, str(tmp_path / mode), mode], cwd=ROOT,
                                capture_output=True, text=True, timeout=60,
                                env={"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                     "HOME": str(tmp_path)})
        assert result.returncode == 0, result.stderr
        seen[mode] = json.loads(result.stdout.strip().splitlines()[-1])
    made_once_on_the_ui_thread = [[True, True]]
    assert seen == {"new": {"markdown": False, "chats": 0, "builds": made_once_on_the_ui_thread, "answers_rendered": False},
                    "chats": {"markdown": True, "chats": 1, "builds": made_once_on_the_ui_thread, "answers_rendered": True},
                    "failing": {"markdown": True, "chats": 1, "builds": made_once_on_the_ui_thread,
                                "answers_rendered": False}}
    log = (tmp_path / "failing" / "logs" / "gemchat.log").read_text(encoding="utf-8")
    assert "Markdown could not be prepared at start" in log and "no lexers here" in log


def test_the_garbage_collector_waits_until_the_window_is_shown_and_runs_again_once_the_chats_are_loaded(
        tmp_path: Path) -> None:
    """Left on, it walked everything the start made 49 times before the first paint (1.7 % of the start);
    off, the start's garbage is collected once after that paint, and what is loaded then is frozen."""
    probe = f"""
import gc, json, os, sys
import gemchat.app as app_module
seen = {{}}
show_window, load = app_module.show_window, app_module._load_behind_the_window
def shown(*args, **kwargs):
    seen["on while the window was made"] = gc.isenabled()
    show_window(*args, **kwargs)
def loaded(*args, **kwargs):
    seen["young objects once shown"] = gc.get_count()[0]
    outcome = load(*args, **kwargs)
    seen["on once loaded"] = gc.isenabled()
    seen["frozen"] = gc.get_freeze_count() > 10_000
    print(json.dumps(seen), flush=True)
    os._exit(0)
app_module.show_window, app_module._load_behind_the_window = shown, loaded
from gemchat.cli import main
sys.exit(main(["--data-dir", {str(tmp_path / "data")!r}]))
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                 "HOME": str(tmp_path), "GEMINI_API_KEY": "test-key"})
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["young objects once shown"] < 1_000  # collected after the paint: not the start's tens of thousands
    assert seen == {"on while the window was made": False, "young objects once shown": seen["young objects once shown"],
                    "on once loaded": True, "frozen": True}


def test_the_modules_the_window_imports_are_not_read_again_as_source_and_kept_in_memory(tmp_path: Path) -> None:
    """PySide6 reads the source of every module imported after it (to look for `from __feature__ import`) and
    linecache keeps it; gemchat answers that question from the module's name (gemchat.pyside_scan), and forgets
    what was read before it could (enum.py's among them)."""
    probe = f"""
import json, linecache, sys
from pathlib import Path
from gemchat.app import build_window, qt_application
app = qt_application()
window = build_window(Path({str(tmp_path)!r}))
import asyncio, qasync, gemchat.session
import shibokensupport.feature as feature
package = {str(ROOT / "gemchat")!r} + "/"  # not "gemchat" anywhere in a path: a clone may be in a folder so named
print(json.dumps({{"kept": [name for name in linecache.cache
                           if name.startswith(package) or "/asyncio/" in name or name.endswith("/enum.py")],
                  "gemchat": feature.pyside_feature_dict.get("gemchat.ui.main_window"),
                  "asyncio": feature.pyside_feature_dict.get("asyncio.base_events")}}))
"""
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                 "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"kept": [], "gemchat": 0, "asyncio": -1}


def test_text_typed_and_sent_before_the_chats_load_is_sent_into_the_last_chat(
        qloop: Any, gemini_env: FakeGemini, data_dir: Path, qtbot: Any) -> None:
    from gemchat.app import build_app, build_window, run_app
    from gemchat.paths import drafts_path

    # A chat from an earlier run, with a draft left in its box.
    earlier = build_app(data_dir)
    gemini_env.enqueue(Reply.text(["First answer."]))
    run(qloop, earlier.session.new_chat())
    earlier.session.send("First question")
    run(qloop, until(lambda: rows(data_dir, "SELECT status FROM messages WHERE role='model'") == [("complete",)]))
    chat_id = earlier.session.chat.id
    earlier.session.save_draft(chat_id, "a draft from before")
    run(qloop, earlier.session.shutdown())
    earlier.db.close()
    earlier.window.allow_close()
    earlier.window.close()
    assert json.loads(drafts_path(data_dir).read_text(encoding="utf-8")).get(str(chat_id)) == "a draft from before"

    # The next start: the window is up, the user types and presses Enter before the session exists.
    window = build_window(data_dir)
    window.show()
    # Keys that act on a chat wait for it: the first opening would undo them (Ctrl+G, Ctrl+N).
    assert not window.ready and not window.actions_by_name["google_search"].isEnabled()
    qtbot.keyClicks(window.composer, "Sent at once")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.keyClicks(window.composer, "still typing")
    gemini_env.enqueue(Reply.text(["Second answer."]))
    app = build_app(data_dir, window=window)
    task = qloop.create_task(run_app(app))
    answers = "SELECT text, status FROM messages WHERE role='model' ORDER BY id"
    run(qloop, until(lambda: len(rows(data_dir, answers)) >= 2 and rows(data_dir, answers)[-1][1] != "streaming",
                     what="second answer"))
    assert rows(data_dir, answers) == [("First answer.", "complete"), ("Second answer.", "complete")]
    assert window.ready and all(action.isEnabled() for action in window.actions_by_name.values())
    assert rows(data_dir, "SELECT chat_id, text FROM messages WHERE role='user' ORDER BY id") == [
        (chat_id, "First question"), (chat_id, "Sent at once")]
    # Neither the stored draft nor what was typed after Enter is lost.
    assert window.composer.toPlainText() == "a draft from before\n\nstill typing"
    window.close()
    run(qloop, task)


def test_text_typed_after_the_session_attaches_but_before_the_first_chat_shows_stays_in_the_box(
        qloop: Any, gemini_env: FakeGemini, data_dir: Path, qtbot: Any) -> None:
    """The session attaches (`build_app`) a moment before the first chat is shown (`run_app`): a key typed
    between the two was replaced by the chat's draft, and a question sent then went out empty."""
    from gemchat.app import build_app, build_window, run_app
    from gemchat.ui.draft_keeper import DRAFT_SAVE_MS

    window = build_window(data_dir)
    window.show()
    qtbot.keyClicks(window.composer, "typed before ")
    app = build_app(data_dir, window=window)  # the session is attached; no chat is shown yet
    assert not window.ready
    qtbot.keyClicks(window.composer, "and after the session came")
    qtbot.wait(DRAFT_SAVE_MS + 100)  # a pause in typing: not saved as a new chat's draft, to come back twice
    task = qloop.create_task(run_app(app))
    run(qloop, until(lambda: window.ready, what="the first chat shown"))
    assert window.composer.toPlainText() == "typed before and after the session came"
    gemini_env.enqueue(Reply.text(["Answered."]))
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    run(qloop, until(lambda: rows(data_dir, "SELECT status FROM messages WHERE role='model'") == [("complete",)],
                     what="the answer"))
    assert rows(data_dir, "SELECT text FROM messages WHERE role='user'") == [
        ("typed before and after the session came",)]
    run(qloop, app.session.new_chat())
    assert window.composer.toPlainText() == ""  # the next new chat starts empty: it was no draft of one
    window.close()
    run(qloop, task)


def test_closing_the_window_while_the_chats_load_quits_once_they_have(
        qloop: Any, gemini_env: FakeGemini, data_dir: Path, qtbot: Any) -> None:
    """The close button (or SIGTERM, which asks the same way) before `run_app` runs is not lost.

    `run_gui` installs its SIGTERM handler before the loop starts `run_app`, which is what listens
    for the request: a quit asked in between used to be dropped, and the window stayed open.
    """
    from gemchat.app import build_app, build_window, run_app

    window = build_window(data_dir)
    window.show()
    window.close()  # the user gives up waiting; nothing is loaded yet to be shut down in order
    assert window.isVisible()
    app = build_app(data_dir, window=window)
    run(qloop, run_app(app), 10)  # returns only once the app has quit
    assert not window.isVisible()
