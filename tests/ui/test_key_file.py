"""The API key kept in a file, as a user meets it: offered only where no system keyring exists.

The app is started as `gemchat --data-dir DIR` starts it, against the fake server
(which accepts only TEST_KEY); the keyring is the memory fake, keyring's own
`fail` backend for "no keyring at all", or a locked one that will not take a key.
The key file goes to each test's own config directory (`config_home`).
"""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends.fail import Keyring as NoKeyring
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit, QMessageBox

from gemchat.app import GemchatApp
from gemchat.core.credentials import KEYRING_SERVICE, KEYRING_USER
from gemchat.ui.api_key_dialog import ApiKeyDialog
from tests.conftest import TEST_KEY, run, until
from tests.driving import last_stream, problems_reported, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini
from tests.fakes.memory_keyring import LockedKeyring, MemoryKeyring
from tests.ui.test_keys_and_settings import Running, click_forget, errors_logged, key_dialog, open_settings

pytestmark = pytest.mark.usefixtures("fake_server_url")


@pytest.fixture
def fake_server_url(gemini: FakeGemini, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake server, and no key in the environment: the key comes from the keyring, the file or the dialog."""
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini.base_url)


@pytest.fixture
def started(qloop: Any) -> Iterator[list[Running]]:
    """Apps started by the test; any still running is closed at the end."""
    apps: list[Running] = []
    yield apps
    for running in apps:
        running.close()


@pytest.fixture
def key_path(config_home: Path) -> Path:
    return config_home / "gemchat" / "api-key"


@pytest.fixture
def no_keyring() -> None:
    keyring.set_keyring(NoKeyring())  # the memory_keyring fixture puts its own back afterwards


def start(qloop: Any, qtbot: Any, data_dir: Path, started: list[Running]) -> GemchatApp:
    started.append(running := Running(qloop, qtbot, data_dir))
    return running.app


def status(app: GemchatApp) -> str:
    return app.window.statusBar().currentMessage()


def asked_for_a_key(qloop: Any, app: GemchatApp) -> ApiKeyDialog:
    run(qloop, until(lambda: key_dialog(app), 5, "asked for a key"))
    dialog = key_dialog(app)
    assert dialog is not None
    return dialog


def paste_and_save(qtbot: Any, dialog: ApiKeyDialog, key: str, in_file: bool) -> None:
    """As a user does it: the key into the field, the choice clicked, then Save."""
    qtbot.keyClicks(dialog.findChild(QLineEdit), key)
    if in_file:
        # On the button's circle: a radio button takes clicks on its circle and words, not the space after.
        qtbot.mouseClick(dialog.in_file, Qt.MouseButton.LeftButton, pos=QPoint(6, dialog.in_file.height() // 2))
        assert dialog.in_file.isChecked() and not dialog.session_only.isChecked()
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)


def ask_and_answer(qloop: Any, qtbot: Any, app: GemchatApp, question: str) -> None:
    type_and_send(qtbot, app, question)
    wait_answer_done(qloop, app)
    assert f"You said: {question}" in app.window.view.toPlainText()  # the fake server took the key
    run(qloop, until(lambda: len(app.session.tasks) == 0, 10, "the chat's title made"))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_without_a_keyring_the_key_kept_in_a_file_is_used_at_the_next_start_shown_in_settings_and_forgotten(
        qloop: Any, qtbot: Any, gemini: FakeGemini, data_dir: Path, started: list[Running], key_path: Path,
        no_keyring: None, caplog: pytest.LogCaptureFixture) -> None:
    app = start(qloop, qtbot, data_dir, started)
    problems = problems_reported(app)
    dialog = asked_for_a_key(qloop, app)
    assert dialog.in_file.isVisible() and str(key_path) in dialog._file_note.text()
    assert "Less safe than a system keyring" in dialog._file_note.text()
    paste_and_save(qtbot, dialog, TEST_KEY, in_file=True)
    run(qloop, until(lambda: key_path.exists() and "saved in" in status(app), 5, "the key file written"))
    assert status(app) == (f"API key saved in {key_path}, which only you can read "
                           "(less safe than a system keyring).")
    assert mode(key_path) == 0o600 and mode(key_path.parent) == 0o700
    ask_and_answer(qloop, qtbot, app, "kept in a file")
    settings = open_settings(qloop, qtbot, app)
    assert settings.key_label.text() == f"Set (kept in the file {key_path}, less safe than a system keyring)."
    settings.reject()
    started[-1].close()

    app = start(qloop, qtbot, data_dir, started)
    run(qloop, until(lambda: app.backend is not None, 5, "the key read from the file"))
    assert key_dialog(app) is None  # not asked again
    ask_and_answer(qloop, qtbot, app, "read from the file")
    assert last_stream(gemini).headers["x-goog-api-key"] == TEST_KEY
    settings = open_settings(qloop, qtbot, app)
    assert settings.key_label.text() == f"Set (kept in the file {key_path}, less safe than a system keyring)."
    click_forget(qtbot, settings)
    assert settings.key_label.text() == "No key set."
    run(qloop, until(lambda: "Forgot" in status(app), 5, "told what was removed"))
    assert status(app) == f"Forgot the stored API key: deleted {key_path}."
    assert not key_path.exists()
    settings.reject()
    started[-1].close()

    app = start(qloop, qtbot, data_dir, started)
    asked_for_a_key(qloop, app).reject()  # forgotten: asked again
    assert problems == [] and errors_logged(caplog) == []


def test_with_a_system_keyring_the_key_dialog_offers_no_file(
        qloop: Any, qtbot: Any, data_dir: Path, started: list[Running], config_home: Path,
        memory_keyring: MemoryKeyring) -> None:
    app = start(qloop, qtbot, data_dir, started)
    dialog = asked_for_a_key(qloop, app)
    assert not dialog.in_file.isVisible() and not dialog.session_only.isVisible()
    assert dialog.findChild(QLineEdit).isVisible()
    paste_and_save(qtbot, dialog, TEST_KEY, in_file=False)
    run(qloop, until(lambda: memory_keyring.passwords, 5, "the key saved in the keyring"))
    assert memory_keyring.passwords == {(KEYRING_SERVICE, KEYRING_USER): TEST_KEY}
    assert list(config_home.rglob("*")) == []


def test_a_key_file_other_users_can_read_is_not_used_and_the_user_is_told_why_and_how_to_fix_it(
        qloop: Any, qtbot: Any, data_dir: Path, started: list[Running], key_path: Path, no_keyring: None) -> None:
    key_path.parent.mkdir(mode=0o700)
    key_path.write_text(TEST_KEY + "\n")
    key_path.chmod(0o644)
    app = start(qloop, qtbot, data_dir, started)
    dialog = asked_for_a_key(qloop, app)
    assert app.backend is None
    refused = (f"gemchat did not use the API key in {key_path}: its permissions 0644 let other users read it. "
               f"Make it yours alone with `chmod 600 {key_path}`, or forget it in Settings.")
    assert status(app) == refused
    assert dialog.findChild(type(dialog._where), "key_file_problem").text() == refused
    assert TEST_KEY not in status(app)
    # Saving a key in the file again replaces the loose file with a private one.
    paste_and_save(qtbot, dialog, TEST_KEY, in_file=True)
    run(qloop, until(lambda: mode(key_path) == 0o600, 5, "the file replaced"))
    ask_and_answer(qloop, qtbot, app, "fixed")


def test_the_settings_line_says_why_a_refused_key_file_was_not_used(
        qloop: Any, qtbot: Any, data_dir: Path, started: list[Running], key_path: Path, no_keyring: None,
        caplog: pytest.LogCaptureFixture) -> None:
    key_path.parent.mkdir(mode=0o700)
    key_path.write_text(TEST_KEY + "\n")
    key_path.chmod(0o640)
    app = start(qloop, qtbot, data_dir, started)
    asked_for_a_key(qloop, app).reject()
    settings = open_settings(qloop, qtbot, app)
    assert settings.key_label.text().startswith(f"No key set. gemchat did not use the API key in {key_path}: ")
    click_forget(qtbot, settings)  # the loose file goes too
    run(qloop, until(lambda: not key_path.exists(), 5, "the file deleted"))
    assert settings.key_label.text() == "No key set."
    settings.reject()
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("permissions 0640" in line for line in logged) and not any(TEST_KEY in line for line in logged)


def test_the_environment_wins_over_the_keyring_and_the_keyring_over_the_key_file(
        qloop: Any, qtbot: Any, data_dir: Path, started: list[Running], key_path: Path,
        memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only TEST_KEY gets an answer from the fake server: each round puts it where it should win."""
    key_path.parent.mkdir(mode=0o700)
    key_path.write_text("AIza-the-file-loses\n")
    key_path.chmod(0o600)
    memory_keyring.set_password(KEYRING_SERVICE, KEYRING_USER, "AIza-the-keyring-loses")
    monkeypatch.setenv("GEMINI_API_KEY", TEST_KEY)
    app = start(qloop, qtbot, data_dir, started)
    ask_and_answer(qloop, qtbot, app, "from the environment")
    started[-1].close()

    monkeypatch.delenv("GEMINI_API_KEY")
    memory_keyring.set_password(KEYRING_SERVICE, KEYRING_USER, TEST_KEY)
    app = start(qloop, qtbot, data_dir, started)
    run(qloop, until(lambda: app.backend is not None, 5, "the key read"))
    ask_and_answer(qloop, qtbot, app, "from the keyring")
    assert app.access.status() == "Set (kept in the system keyring)."
    started[-1].close()

    memory_keyring.passwords.clear()
    key_path.write_text(TEST_KEY + "\n")
    app = start(qloop, qtbot, data_dir, started)
    run(qloop, until(lambda: app.backend is not None, 5, "the key read"))
    ask_and_answer(qloop, qtbot, app, "from the file")
    assert app.access.status() == f"Set (kept in the file {key_path}, less safe than a system keyring)."


def test_when_the_keyring_refuses_the_key_the_user_may_keep_it_in_the_file_instead(
        qloop: Any, qtbot: Any, data_dir: Path, started: list[Running], key_path: Path) -> None:
    keyring.set_keyring(LockedKeyring())
    app = start(qloop, qtbot, data_dir, started)
    dialog = asked_for_a_key(qloop, app)
    assert not dialog.in_file.isVisible()  # a keyring is there: nothing else is offered first
    paste_and_save(qtbot, dialog, TEST_KEY, in_file=False)
    run(qloop, until(lambda: app.window.findChild(QMessageBox, "key_file_offer"), 5, "asked about the file"))
    offer = app.window.findChild(QMessageBox, "key_file_offer")
    assert str(key_path) in offer.informativeText() and "Less safe" in offer.informativeText()
    assert offer.defaultButton().text() == "This session only"
    assert status(app) == ("The system keyring did not take the key (KeyringLocked); it is used for this session "
                           "only. Set GEMINI_API_KEY in your environment to keep it.")
    assert not key_path.exists()  # nothing written before the user answers
    keep = next(b for b in offer.buttons() if b.text() == "Keep in a file")
    qtbot.mouseClick(keep, Qt.MouseButton.LeftButton)
    run(qloop, until(lambda: key_path.exists() and "saved in" in status(app), 5, "the key file written"))
    assert key_path.read_text() == TEST_KEY + "\n" and mode(key_path) == 0o600
    assert app.access.status() == f"Set (kept in the file {key_path}, less safe than a system keyring)."
    ask_and_answer(qloop, qtbot, app, "after the keyring refused")


def test_when_the_keyring_refuses_the_key_and_the_user_declines_the_file_nothing_is_written(
        qloop: Any, qtbot: Any, data_dir: Path, started: list[Running], config_home: Path) -> None:
    keyring.set_keyring(LockedKeyring())
    app = start(qloop, qtbot, data_dir, started)
    paste_and_save(qtbot, asked_for_a_key(qloop, app), TEST_KEY, in_file=False)
    run(qloop, until(lambda: app.window.findChild(QMessageBox, "key_file_offer"), 5, "asked about the file"))
    offer = app.window.findChild(QMessageBox, "key_file_offer")
    qtbot.mouseClick(offer.defaultButton(), Qt.MouseButton.LeftButton)
    assert app.access.status() == "Set for this session only."
    ask_and_answer(qloop, qtbot, app, "this session only")
    assert list(config_home.rglob("*")) == []


def test_a_key_saved_in_a_keyring_that_appeared_later_deletes_the_old_key_file(
        qloop: Any, qtbot: Any, data_dir: Path, started: list[Running], key_path: Path,
        memory_keyring: MemoryKeyring) -> None:
    key_path.parent.mkdir(mode=0o700)
    key_path.write_text("AIza-an-old-key\n")
    key_path.chmod(0o600)
    app = start(qloop, qtbot, data_dir, started)
    run(qloop, until(lambda: app.backend is not None, 5, "the old key read from the file"))
    app.window.dialogs.ask_api_key()  # File → API key…
    dialog = asked_for_a_key(qloop, app)
    assert not dialog.in_file.isVisible()
    paste_and_save(qtbot, dialog, TEST_KEY, in_file=False)
    run(qloop, until(lambda: "saved in the system keyring" in status(app), 5, "saved"))
    assert status(app) == f"API key saved in the system keyring. The key file {key_path} was deleted."
    assert not key_path.exists() and memory_keyring.passwords == {(KEYRING_SERVICE, KEYRING_USER): TEST_KEY}
    ask_and_answer(qloop, qtbot, app, "from the keyring now")


def test_with_the_key_from_the_environment_and_no_keyring_change_key_still_offers_the_file(
        qloop: Any, qtbot: Any, data_dir: Path, started: list[Running], key_path: Path, no_keyring: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The keyring is not looked for at start when the environment gives the key: the dialog asks, then offers."""
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-from-the-environment")
    app = start(qloop, qtbot, data_dir, started)
    assert app.access.keyring_available is None
    app.window.dialogs.ask_api_key()  # File → API key…
    dialog = asked_for_a_key(qloop, app)
    run(qloop, until(lambda: dialog.in_file.isVisible(), 5, "the file offered once no keyring was found"))
    paste_and_save(qtbot, dialog, TEST_KEY, in_file=True)
    run(qloop, until(lambda: key_path.exists(), 5, "the key file written"))
    ask_and_answer(qloop, qtbot, app, "the pasted key, in use at once")


def test_without_a_keyring_and_a_data_directory_holding_the_config_folder_no_file_is_offered(
        qloop: Any, qtbot: Any, started: list[Running], config_home: Path, no_keyring: None) -> None:
    """`--data-dir ~/.config/gemchat`: a key file there would be one of the data directory's files."""
    app = start(qloop, qtbot, config_home / "gemchat", started)
    dialog = asked_for_a_key(qloop, app)
    assert not dialog.in_file.isVisible() and not dialog.session_only.isVisible()
    assert "used for this session only" in dialog._where.text() and "GEMINI_API_KEY" in dialog._where.text()
    paste_and_save(qtbot, dialog, TEST_KEY, in_file=False)
    ask_and_answer(qloop, qtbot, app, "this session only")
    assert app.access.status() == "Set for this session only."
    assert not (config_home / "gemchat" / "api-key").exists()
