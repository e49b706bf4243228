"""Where the API key comes from: the environment first, then the OS keyring, which may be missing,
then the file the user chose when there was no keyring.

The keyring is the `keyring` library's, with a backend from tests/fakes (the
autouse `memory_keyring` fixture) or the library's own `fail` backend, which is
what a machine with no keyring service gets. Key files go to each test's own
config directory (the autouse `config_home` fixture).
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail, null

from gemchat.core.credentials import (
    KEYRING_SERVICE,
    KEYRING_USER,
    KeyFile,
    KeyFileRefused,
    KeyringUnavailable,
    KeyStore,
    key_file_problem,
    key_from_env,
)
from tests.fakes.memory_keyring import MemoryKeyring

KEY = "AIza-in-the-file-0123456789"


def test_google_api_key_wins_over_gemini_api_key_as_in_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-key")
    assert key_from_env() == "gemini-key"
    monkeypatch.setenv("GOOGLE_API_KEY", "  google-key\n")  # pasted with a newline
    assert key_from_env() == "google-key"


def test_a_blank_environment_variable_is_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "   ")
    assert key_from_env() is None
    monkeypatch.setenv("GEMINI_API_KEY", "the-key")
    assert key_from_env() == "the-key"


def test_a_saved_key_is_loaded_at_the_next_start_and_gone_once_deleted(memory_keyring: MemoryKeyring) -> None:
    assert KeyStore().load() is None
    KeyStore().save("AIza-saved")
    assert memory_keyring.passwords == {(KEYRING_SERVICE, KEYRING_USER): "AIza-saved"}
    assert KeyStore().load() == "AIza-saved"
    KeyStore().delete()
    assert KeyStore().load() is None
    KeyStore().delete()  # deleting what is not there is no error


def test_an_empty_stored_key_counts_as_none(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.passwords[(KEYRING_SERVICE, KEYRING_USER)] = ""
    assert KeyStore().load() is None


def test_without_a_keyring_loading_finds_nothing_and_saving_says_how_to_keep_the_key() -> None:
    keyring.set_keyring(fail.Keyring())  # the memory_keyring fixture puts its own back afterwards
    assert KeyStore().load() is None
    with pytest.raises(KeyringUnavailable) as refused:
        KeyStore().save("AIza-unsaved")
    assert str(refused.value) == ("No system keyring is available to store the key; it is used for this session "
                                  "only. Set GEMINI_API_KEY in your environment to keep it.")
    KeyStore().delete()  # nothing to delete, and no error


def test_the_fail_and_null_stand_ins_count_as_no_keyring_and_null_never_pretends_to_keep_a_key(
        memory_keyring: MemoryKeyring) -> None:
    assert KeyStore().available()
    for stand_in in (fail.Keyring(), null.Keyring()):
        keyring.set_keyring(stand_in)
        assert not KeyStore().available()
        with pytest.raises(KeyringUnavailable):  # `null` would swallow the key and "succeed"
            KeyStore().save("AIza-unsaved")


# -- the key file ---------------------------------------------------------------------------------


@pytest.fixture
def key_file(config_home: Path) -> KeyFile:
    return KeyFile(config_home / "gemchat" / "api-key")


@pytest.fixture
def no_umask() -> Iterator[None]:
    """A umask of 0: every file created as asked for, readable by all unless gemchat asks otherwise."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_key_file_is_0600_in_a_0700_folder_even_with_a_umask_of_0(key_file: KeyFile, no_umask: None) -> None:
    assert key_file.load() is None  # none yet
    key_file.save(KEY)
    assert mode(key_file.path) == 0o600 and mode(key_file.path.parent) == 0o700
    assert key_file.path.read_bytes() == KEY.encode() + b"\n"
    assert key_file.load() == KEY
    assert [p.name for p in key_file.path.parent.iterdir()] == ["api-key"]  # no temporary file left


def test_a_loose_key_folder_of_the_users_is_made_0700_when_a_key_is_saved(key_file: KeyFile) -> None:
    key_file.path.parent.mkdir(mode=0o755)
    key_file.path.parent.chmod(0o755)
    key_file.save(KEY)
    assert mode(key_file.path.parent) == 0o700


def test_a_new_key_replaces_the_file_whole_so_a_reader_never_sees_half_of_one(key_file: KeyFile) -> None:
    key_file.save("AIza-old-key")
    with key_file.path.open("rb") as reading_the_old_one:
        before = os.fstat(reading_the_old_one.fileno()).st_ino
        key_file.save(KEY)
        assert reading_the_old_one.read() == b"AIza-old-key\n"  # the old file, whole, untouched
    assert key_file.path.stat().st_ino != before  # a new file renamed over the old, not rewritten in place
    assert key_file.load() == KEY and mode(key_file.path) == 0o600
    assert [p.name for p in key_file.path.parent.iterdir()] == ["api-key"]


@pytest.mark.parametrize(("permissions", "other_users_may"), [
    (0o640, "read"), (0o644, "read"), (0o604, "read"), (0o620, "change"), (0o666, "read")])
def test_a_key_file_other_users_may_read_or_change_is_refused_with_the_chmod_that_fixes_it(
        key_file: KeyFile, permissions: int, other_users_may: str) -> None:
    key_file.save(KEY)
    key_file.path.chmod(permissions)
    with pytest.raises(KeyFileRefused) as refused:
        key_file.load()
    said = str(refused.value)
    assert said == (f"gemchat did not use the API key in {key_file.path}: its permissions {permissions:04o} let "
                    f"other users {other_users_may} it. Make it yours alone with `chmod 600 {key_file.path}`, "
                    "or forget it in Settings.")
    key_file.path.chmod(0o600)  # as the message says
    assert key_file.load() == KEY


def test_a_key_file_another_user_owns_is_refused(key_file: KeyFile) -> None:
    key_file.save(KEY)
    theirs = os.stat_result((stat.S_IFREG | 0o600, 1, 1, 1, os.geteuid() + 1, 0, 28, 0, 0, 0))
    assert key_file_problem(key_file.path, theirs) == f"it belongs to another user (uid {os.geteuid() + 1})"
    assert key_file_problem(key_file.path, key_file.path.stat()) is None


@pytest.mark.parametrize("content", [
    b"AIza-first\nAIza-second\n", b"AIza key with spaces", b"\xff\xfe\x00binary", b"A" * 5000])
def test_a_key_file_that_is_not_one_key_on_one_line_is_refused_without_quoting_it(
        key_file: KeyFile, content: bytes) -> None:
    key_file.save(KEY)
    key_file.path.write_bytes(content)
    with pytest.raises(KeyFileRefused) as refused:
        key_file.load()
    assert str(refused.value).startswith(f"gemchat did not use the API key in {key_file.path}: ")
    assert "AIza" not in str(refused.value).replace(str(key_file.path), "")


def test_a_key_file_that_is_empty_holds_no_key(key_file: KeyFile) -> None:
    key_file.save(KEY)
    key_file.path.write_bytes(b"  \n")
    assert key_file.load() is None


def test_a_folder_or_a_fifo_where_the_key_file_should_be_is_refused_and_never_waited_on(key_file: KeyFile) -> None:
    key_file.path.parent.mkdir(mode=0o700)
    key_file.path.mkdir()
    with pytest.raises(KeyFileRefused, match="it is not a regular file"):
        key_file.load()
    key_file.path.rmdir()
    os.mkfifo(key_file.path, 0o600)
    said: list[str] = []

    def load() -> None:
        try:
            key_file.load()
        except KeyFileRefused as exc:
            said.append(str(exc))

    loading = threading.Thread(target=load)
    loading.start()
    loading.join(10)
    assert not loading.is_alive()  # opening a FIFO with no writer would block forever
    assert said == [f"gemchat did not use the API key in {key_file.path}: it is not a regular file."]


def test_forgetting_the_key_file_deletes_it_and_forgetting_again_is_no_error(key_file: KeyFile) -> None:
    key_file.save(KEY)
    assert key_file.delete() is True
    assert not key_file.path.exists() and key_file.load() is None
    assert key_file.delete() is False
