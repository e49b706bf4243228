"""The API key and the settings file as a user meets them: forgetting a key, no keyring, a hand-edited file.

The app is started as `gemchat --data-dir DIR` starts it, against the fake server;
the keyring is `tests/fakes/memory_keyring.py`, or the keyring library's own
backend for "no keyring at all".
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends.fail import Keyring as NoKeyring
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton

from gemchat.app import GemchatApp
from gemchat.paths import settings_path
from gemchat.settings import Settings
from gemchat.ui.api_key_dialog import ApiKeyDialog
from gemchat.ui.settings_dialog import SettingsDialog
from tests.conftest import TEST_KEY, run, until
from tests.driving import last_stream, problems_reported, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini
from tests.fakes.memory_keyring import MemoryKeyring
from tests.ui.conftest import Running

CTRL = Qt.KeyboardModifier.ControlModifier


def key_dialog(app: GemchatApp) -> ApiKeyDialog | None:
    """The API key dialog this app's window shows, if it shows one."""
    return next((w for w in app.window.findChildren(ApiKeyDialog) if w.isVisible()), None)


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def open_settings(qloop: Any, qtbot: Any, app: GemchatApp) -> SettingsDialog:
    app.window.activateWindow()  # back from another dialog, as a window manager does
    qtbot.waitUntil(lambda: QApplication.activeWindow() is app.window, timeout=3000)
    qtbot.keyClick(app.window, Qt.Key.Key_Comma, CTRL)
    dialog = app.window.dialogs.settings_dialog
    assert isinstance(dialog, SettingsDialog) and dialog.isVisible()
    return dialog


def click_forget(qtbot: Any, dialog: SettingsDialog) -> None:
    button = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Forget stored key")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


# -- Forget key ------------------------------------------------------------------------------------


def test_forget_key_takes_the_key_out_of_the_keyring_and_the_next_start_asks_for_one(
        qloop: Any, qtbot: Any, gemini: FakeGemini, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
        memory_keyring: MemoryKeyring, started: list[Running]) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini.base_url)
    memory_keyring.set_password("gemchat", "gemini-api-key", TEST_KEY)
    started.append(first := Running(qloop, qtbot, data_dir))
    app = first.app
    run(qloop, until(lambda: app.backend is not None, 5, "key read from the keyring"))
    dialog = open_settings(qloop, qtbot, app)
    assert dialog.key_label.text() == "Set (kept in the system keyring)."
    click_forget(qtbot, dialog)
    assert dialog.key_label.text() == "No key set."
    run(qloop, until(lambda: memory_keyring.passwords == {}, 5, "key removed from the keyring"))
    run(qloop, until(lambda: "Forgot" in app.window.statusBar().currentMessage(), 5, "told"))
    assert app.window.statusBar().currentMessage() == "Forgot the stored API key: removed it from the system keyring."
    dialog.reject()
    type_and_send(qtbot, app, "still there?")
    wait_answer_done(qloop, app)
    assert "No Gemini API key is set" in app.window.view.toPlainText()
    assert [r for r in gemini.requests if r.kind == "stream"] == []  # the forgotten key is not used either
    first.close()

    started.append(second := Running(qloop, qtbot, data_dir))
    run(qloop, until(lambda: key_dialog(second.app), 5, "asked for a key"))
    assert second.app.backend is None
    key_dialog(second.app).reject()


# -- no keyring at all -----------------------------------------------------------------------------


def test_without_any_keyring_a_pasted_key_works_for_the_session_and_the_user_is_told_it_is_not_kept(
        qloop: Any, qtbot: Any, gemini: FakeGemini, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
        started: list[Running], caplog: pytest.LogCaptureFixture, config_home: Path) -> None:
    """keyring's `fail` backend raises on every call, as on a system with no keyring service.

    This session only is the dialog's default: no file is written unless the user chooses it.
    """
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini.base_url)
    keyring.set_keyring(NoKeyring())  # the memory_keyring fixture puts the previous one back
    started.append(running := Running(qloop, qtbot, data_dir))
    app = running.app
    problems = problems_reported(app)
    run(qloop, until(lambda: key_dialog(app), 5, "asked for a key"))
    dialog = key_dialog(app)
    assert dialog is not None
    assert dialog.session_only.isVisible() and dialog.session_only.isChecked()
    assert dialog.in_file.isVisible() and not dialog.in_file.isChecked()
    dialog.findChild(QLineEdit).setText(TEST_KEY)
    dialog.accept()
    run(qloop, until(lambda: "session only" in app.window.statusBar().currentMessage(), 5, "told"))
    assert "GEMINI_API_KEY" in app.window.statusBar().currentMessage()  # and how to keep it
    type_and_send(qtbot, app, "hello without a keyring")
    wait_answer_done(qloop, app)
    assert "You said: hello without a keyring" in app.window.view.toPlainText()
    assert last_stream(gemini).headers["x-goog-api-key"] == TEST_KEY
    run(qloop, until(lambda: len(app.session.tasks) == 0, 10, "the chat's title made"))  # before its key goes
    settings = open_settings(qloop, qtbot, app)
    assert settings.key_label.text() == "Set for this session only."
    click_forget(qtbot, settings)  # nothing to forget in a keyring that is not there: no crash
    assert settings.key_label.text() == "No key set."
    run(qloop, until(lambda: "No stored API key to forget." in app.window.statusBar().currentMessage(), 5, "told"))
    settings.reject()
    assert list(config_home.rglob("*")) == []  # no key file was written
    assert problems == []
    assert errors_logged(caplog) == []


def test_without_any_keyring_the_key_from_the_environment_is_used_and_forget_leaves_it(
        qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path, started: list[Running],
        caplog: pytest.LogCaptureFixture) -> None:
    keyring.set_keyring(NoKeyring())
    started.append(running := Running(qloop, qtbot, data_dir))
    app = running.app
    problems = problems_reported(app)
    settings = open_settings(qloop, qtbot, app)
    assert settings.key_label.text() == "Set by the environment (GOOGLE_API_KEY / GEMINI_API_KEY)."
    click_forget(qtbot, settings)
    assert settings.key_label.text() == "Set by the environment (GOOGLE_API_KEY / GEMINI_API_KEY)."
    settings.reject()
    type_and_send(qtbot, app, "hello from the environment")
    wait_answer_done(qloop, app)
    assert "You said: hello from the environment" in app.window.view.toPlainText()
    assert key_dialog(app) is None  # never asked: the environment's key is enough
    assert problems == []
    assert errors_logged(caplog) == []


# -- a hand-edited settings.json -------------------------------------------------------------------

HAND_EDITED = """{
  "model": 5,
  "typing_effect": "yes",
  "typing_speed": 1e9,
  "read_timeout": 30,
  "system_instruction": ["not", "text"],
  "thinking_level": "extreme",
  "temperature": NaN,
  "theme": "purple",
  "debug_log": 1,
  "show_thoughts": false,
  "text_zoom": 5000,
  "notifications": "no",
  "colour": "blue"
}"""


def test_a_hand_edited_settings_file_starts_the_app_with_sane_values_and_the_log_names_what_was_ignored(
        qloop: Any, qtbot: Any, gemini_env: FakeGemini, data_dir: Path, started: list[Running],
        caplog: pytest.LogCaptureFixture) -> None:
    settings_path(data_dir).parent.mkdir(parents=True, exist_ok=True)
    settings_path(data_dir).write_text(HAND_EDITED, encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="gemchat.settings")
    started.append(running := Running(qloop, qtbot, data_dir))
    app = running.app
    # The two valid values are kept; every other one is the default.
    assert app.settings == Settings(read_timeout=30.0, show_thoughts=False)
    assert app.window.presenter.typing.enabled and app.window.presenter.typing._typewriter.chars_per_second == 250.0
    warnings = " ".join(r.getMessage() for r in caplog.records if r.name == "gemchat.settings")
    for name in ("model", "typing_effect", "typing_speed", "system_instruction", "thinking_level",
                 "temperature", "theme", "debug_log", "text_zoom", "notifications"):
        assert name in warnings, (name, warnings)
    assert "read_timeout" not in warnings and "show_thoughts" not in warnings
    assert "unknown setting colour" in warnings
    dialog = open_settings(qloop, qtbot, app)  # the dialog opens on the sane values
    assert dialog.theme.currentData() == "system" and dialog.typing_speed.value() == 250
    dialog.reject()
    type_and_send(qtbot, app, "works")
    wait_answer_done(qloop, app)
    assert last_stream(gemini_env).model == Settings().model


@pytest.mark.parametrize(("content", "said"), [
    (b"{not json", "unreadable"),
    (b"", "unreadable"),
    (b"\xff\xfe not UTF-8", "unreadable"),
    (b'["a list", "not settings"]', "holds no settings"),
])
def test_a_settings_file_that_is_not_settings_gives_the_defaults_and_says_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes, said: str) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    caplog.set_level(logging.WARNING, logger="gemchat.settings")
    assert Settings.load(path) == Settings()
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert said in caplog.records[0].getMessage()


def test_the_key_dialog_checks_a_key_with_gemini_before_it_is_kept_and_says_whether_it_works(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any) -> None:
    live.window.dialogs.ask_api_key()
    dialog = key_dialog(live)
    assert dialog is not None and dialog.check_button.isVisible() and not dialog.check_button.isEnabled()
    wrong = "AIzaSyWRONG-key-0123456789abcdefghij"
    qtbot.keyClicks(dialog._edit, wrong)
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    run(qloop, until(lambda: "did not work" in dialog.check_result.text(), 10, "the wrong key checked"))
    said = dialog.check_result.text()
    assert said == "This key did not work: Gemini did not accept it. Check that it was copied whole."

    dialog._edit.clear()
    assert dialog.check_result.isHidden()  # a new key: the old verdict goes
    qtbot.keyClicks(dialog._edit, TEST_KEY)
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    run(qloop, until(lambda: dialog.check_result.text().startswith("The key works"), 10, "the right key checked"))
    assert dialog.check_result.text() == "The key works: Gemini offers it 2 chat models."
    assert [r for r in gemini.requests if r.kind == "list"][-1].headers["x-goog-api-key"] == TEST_KEY
    assert live.backend is not None  # the key in use was not touched by the check
    dialog.reject()
