"""Desktop notifications: an answer that ends where the user is not looking is announced on the desktop.

Everything is real but the desktop: a private `dbus-daemon` per module, and on it
`tests/fakes/notification_server.py`, a separate process owning
`org.freedesktop.Notifications` through QtDBus, which records what it is asked to
show and clicks a notification when told. The app runs as `gemchat --data-dir DIR`
runs it, against the loopback Gemini server.

That a notification was *not* sent is checked by a later one that was: both go
out, in order, on the app's one connection to the bus, so if the first had been
sent the service would have recorded it first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QWidget

from gemchat.app import GemchatApp
from gemchat.launch_listener import LaunchListener
from gemchat.paths import settings_path
from gemchat.ui.settings_dialog import SettingsDialog
from tests.conftest import TEST_KEY, run, until
from tests.driving import press, problems_reported, rows, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, Reply
from tests.fakes.notification_server import FakeNotificationService, PrivateBus, dbus_daemon
from tests.ui.test_quick_ask import answer_shown, ask, summon

pytestmark = pytest.mark.skipif(dbus_daemon() is None, reason="needs dbus-daemon (Debian: apt-get install dbus-daemon)")


@pytest.fixture(scope="module")
def session_bus() -> Iterator[PrivateBus]:
    with PrivateBus() as bus:
        yield bus


@pytest.fixture
def on_the_bus(session_bus: PrivateBus, monkeypatch: pytest.MonkeyPatch) -> str:
    """The app's session bus is the private one (as a desktop session sets it)."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus.address)
    return session_bus.address


@pytest.fixture
def desktop(on_the_bus: str) -> Iterator[FakeNotificationService]:
    """The desktop's notification service, on the app's session bus."""
    with FakeNotificationService(on_the_bus) as service:
        yield service


def shown(qloop: Any, desktop: FakeNotificationService, count: int) -> list[dict[str, Any]]:
    run(qloop, until(lambda: len(desktop.notifications) >= count, what=f"{count} notification(s) shown"))
    return desktop.notifications


def answer_in_another_chat(qloop: Any, qtbot: Any, app: GemchatApp, gemini: FakeGemini, question: str,
                           reply: Reply) -> int:
    """Asks in the open chat, then starts a new chat (Ctrl+N) while the answer is on its way; the first chat's id."""
    gemini.enqueue(reply)
    type_and_send(qtbot, app, question)
    run(qloop, until(lambda: app.session.chat is not None and app.session.is_generating(), what="the answer coming"))
    chat_id = app.session.chat.id
    press(qtbot, app, "Ctrl+N")
    run(qloop, until(lambda: app.session.chat is None, what="a new chat open"))
    return chat_id


def look_away(qtbot: Any) -> QWidget:
    """The user goes to another window: none of gemchat's is active."""
    other = QWidget()
    other.setWindowTitle("Another application")
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is other, timeout=3000)
    return other


def slowly(*chunks: str) -> Reply:
    return Reply.text(list(chunks), chunk_delay=0.25)


def test_an_answer_that_ends_in_another_chat_is_announced_with_the_chats_title_and_its_first_line(
        live: GemchatApp, gemini: FakeGemini, desktop: FakeNotificationService, qloop: Any, qtbot: Any) -> None:
    chat_id = answer_in_another_chat(qloop, qtbot, live, gemini, "Plan a trip to Lisbon",
                                     slowly("## Three days in Lisbon\n\n", "Day one: Alfama ", "and the castle."))
    wait_answer_done(qloop, live)

    [notification] = shown(qloop, desktop, 1)
    assert notification["summary"] == "Plan a trip to Lisbon"  # the chat's title
    assert notification["body"] == "Three days in Lisbon"  # the answer's first line, without Markdown's marks
    assert notification["app_name"] == "gemchat" and notification["replaces_id"] == 0
    assert notification["actions"] == ["default", "Open"]
    assert notification["hints"] == {"desktop-entry": "io.github.gemchat.gemchat"}  # the launcher's id
    assert notification["app_icon"].startswith("file://") and notification["app_icon"].endswith("gemchat-128.png")
    assert Path(notification["app_icon"].removeprefix("file://")).is_file()
    assert notification["expire_timeout"] == -1

    # The same chat's next answer replaces its notification instead of piling up another.
    press(qtbot, live, "Ctrl+1")  # the first chat of the list
    run(qloop, until(lambda: live.session.chat is not None and live.session.chat.id == chat_id, what="back in it"))
    answer_in_another_chat(qloop, qtbot, live, gemini, "And a fourth day?", slowly("Day four: Sintra.", " Take the train."))
    wait_answer_done(qloop, live)
    second = shown(qloop, desktop, 2)[1]
    assert second["replaces_id"] == notification["id"] and second["body"] == "Day four: Sintra. Take the train."


def test_an_answer_that_ends_while_the_user_is_in_another_window_is_announced_but_not_one_in_front_of_them(
        live: GemchatApp, gemini: FakeGemini, desktop: FakeNotificationService, qloop: Any, qtbot: Any) -> None:
    type_and_send(qtbot, live, "Seen as it arrives")  # the window active, this chat open: nothing to announce
    wait_answer_done(qloop, live)

    gemini.enqueue(slowly("Answered ", "while you ", "were away."))
    type_and_send(qtbot, live, "Answer while I read something else")
    run(qloop, until(live.session.is_generating, what="the answer coming"))
    look_away(qtbot)
    wait_answer_done(qloop, live)

    notifications = shown(qloop, desktop, 1)
    assert [(n["summary"], n["body"]) for n in notifications] == [("Seen as it arrives", "Answered while you were away.")]


def test_clicking_the_notification_opens_its_chat_in_the_main_window_and_brings_the_window_forward(
        live: GemchatApp, gemini: FakeGemini, desktop: FakeNotificationService, qloop: Any, qtbot: Any) -> None:
    chat_id = answer_in_another_chat(qloop, qtbot, live, gemini, "Where is the answer?",
                                     slowly("Here it ", "is, in its chat."))
    live.window.showMinimized()
    qtbot.waitUntil(live.window.isMinimized)
    wait_answer_done(qloop, live)
    [notification] = shown(qloop, desktop, 1)

    desktop.click(notification["id"])

    run(qloop, until(lambda: live.session.chat is not None and live.session.chat.id == chat_id, what="its chat open"))
    assert "Here it is, in its chat." in live.window.view.toPlainText()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is live.window, timeout=3000)
    assert not live.window.isMinimized()


def test_a_failed_answer_is_announced_as_failed_with_the_errors_first_line_and_never_the_api_key(
        live: GemchatApp, gemini: FakeGemini, desktop: FakeNotificationService, qloop: Any, qtbot: Any,
        data_dir: Path) -> None:
    answer_in_another_chat(qloop, qtbot, live, gemini, "Will this fail?", Reply.error(
        400, "INVALID_ARGUMENT", f"API key not valid: {TEST_KEY}. Please pass a valid API key.",
        [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}], first_byte_delay=0.5))
    wait_answer_done(qloop, live)

    [notification] = shown(qloop, desktop, 1)
    [(error,)] = rows(data_dir, "select error from messages where role = 'model'")
    assert notification["summary"] == "Answer failed — Will this fail?"
    assert notification["body"] == error.splitlines()[0] and "API key was not accepted" in notification["body"]
    assert TEST_KEY not in json.dumps(notification)


def test_markup_in_an_answer_is_shown_as_text_and_a_long_first_line_is_cut(
        live: GemchatApp, gemini: FakeGemini, desktop: FakeNotificationService, qloop: Any, qtbot: Any) -> None:
    answer_in_another_chat(qloop, qtbot, live, gemini, "Some HTML?",
                           slowly("Use <b>bold</b> & <a href='x'>links</a>", "\n\nThe rest."))
    wait_answer_done(qloop, live)
    assert shown(qloop, desktop, 1)[0]["body"] == "Use &lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href='x'&gt;links&lt;/a&gt;"

    answer_in_another_chat(qloop, qtbot, live, gemini, "A long line?", slowly("word " * 100, "\n\nThe rest."))
    wait_answer_done(qloop, live)
    body = shown(qloop, desktop, 2)[1]["body"]
    assert len(body) == 200 and body.endswith("…") and body.startswith("word word")


def test_an_answer_stopped_by_deleting_its_chat_is_not_announced(
        live: GemchatApp, gemini: FakeGemini, desktop: FakeNotificationService, qloop: Any, qtbot: Any,
        data_dir: Path) -> None:
    gemini.enqueue(Reply.text(["Never ", "finished "] + ["more "] * 40, chunk_delay=0.2))
    type_and_send(qtbot, live, "Delete me while you answer")
    run(qloop, until(lambda: "Never" in live.window.view.toPlainText(), what="the answer coming"))
    press(qtbot, live, "Ctrl+Shift+Backspace")  # the chat goes; its answer is stopped, in a chat no longer open
    run(qloop, until(lambda: rows(data_dir, "select status from messages where role = 'model'") == [("interrupted",)],
                     what="the answer stopped"))

    gemini.enqueue(slowly("This one ", "is announced."))
    type_and_send(qtbot, live, "And this one?")
    run(qloop, until(live.session.is_generating, what="the answer coming"))
    look_away(qtbot)
    wait_answer_done(qloop, live)
    assert [n["summary"] for n in shown(qloop, desktop, 1)] == ["And this one?"]


def set_notifications(qtbot: Any, app: GemchatApp, on: bool) -> None:
    """Settings (Ctrl+,) → the notifications check box → OK."""
    press(qtbot, app, "Ctrl+,")
    dialog = app.window.dialogs.settings_dialog
    assert isinstance(dialog, SettingsDialog) and dialog.isVisible()
    box = next(b for b in dialog.findChildren(QCheckBox) if b.text().startswith("Desktop notification"))
    if box.isChecked() != on:
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    dialog.accept()
    app.window.activateWindow()  # back from the dialog, as a window manager does
    qtbot.waitUntil(lambda: QApplication.activeWindow() is app.window, timeout=3000)


def test_with_notifications_turned_off_in_settings_nothing_is_announced(
        live: GemchatApp, gemini: FakeGemini, desktop: FakeNotificationService, qloop: Any, qtbot: Any,
        data_dir: Path) -> None:
    set_notifications(qtbot, live, False)
    assert json.loads(settings_path(data_dir).read_text(encoding="utf-8"))["notifications"] is False
    answer_in_another_chat(qloop, qtbot, live, gemini, "Quietly, please", slowly("Shh, ", "done."))
    wait_answer_done(qloop, live)

    set_notifications(qtbot, live, True)
    answer_in_another_chat(qloop, qtbot, live, gemini, "Now out loud", slowly("Ding, ", "done."))
    wait_answer_done(qloop, live)
    assert [n["summary"] for n in shown(qloop, desktop, 1)] == ["Now out loud"]


@pytest.mark.parametrize("bus", ["no session bus", "a session bus with no notification service",
                                 "a session bus address where nothing listens"])
def test_without_a_notification_service_answers_end_and_are_saved_nothing_is_shown_and_the_log_says_it_once(
        bus: str, live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Path, tmp_path: Path,
        session_bus: PrivateBus, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    if bus == "a session bus with no notification service":
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus.address)
    elif bus == "a session bus address where nothing listens":
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus-here'}")
    caplog.set_level(logging.INFO, logger="gemchat")
    problems = problems_reported(live)
    for question in ("First while nobody shows it", "Second while nobody shows it"):
        answer_in_another_chat(qloop, qtbot, live, gemini, question, slowly("Saved ", "all the same."))
        wait_answer_done(qloop, live)
    assert rows(data_dir, "select text, status from messages where role = 'model'") \
        == [("Saved all the same.", "complete")] * 2
    assert problems == [] and live.window.statusBar().currentMessage() == ""

    # A notification service that starts later is used from then on.
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session_bus.address)
    with FakeNotificationService(session_bus.address) as desktop:
        answer_in_another_chat(qloop, qtbot, live, gemini, "Third, with a desktop", slowly("Shown ", "at last."))
        wait_answer_done(qloop, live)
        assert [n["body"] for n in shown(qloop, desktop, 1)] == ["Shown at last."]
    said = [r for r in caplog.records if r.name == "gemchat.desktop_notifications"]
    assert [(r.levelno, r.getMessage().split(":")[0]) for r in said] \
        == [(logging.INFO, "desktop notifications are not shown")]  # once, not at every answer
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_no_notification_for_a_quick_answer_read_in_the_quick_window_but_one_for_an_answer_that_ends_after_esc(
        running: tuple[GemchatApp, LaunchListener], qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path,
        tmp_path: Path, desktop: FakeNotificationService) -> None:
    app, _listener = running
    quick = summon(qloop, gemini_env, data_dir, app, tmp_path)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is quick, timeout=3000)
    ask(qtbot, quick, "Read here")
    answer_shown(qloop, quick, "You said: Read here")

    gemini_env.enqueue(slowly("Finished ", "while hidden."))
    ask(qtbot, quick, "Finish without me")
    run(qloop, until(lambda: quick.stop_button.isVisible(), what="the answer coming"))
    qtbot.keyClick(quick.composer, Qt.Key.Key_Escape)
    assert not quick.isVisible()

    assert [(n["summary"], n["body"]) for n in shown(qloop, desktop, 1)] == [("Read here", "Finished while hidden.")]
