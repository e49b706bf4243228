"""Where the API key comes from: the environment first, then the OS keyring, which may be missing.

The keyring is the `keyring` library's, with a backend from tests/fakes (the
autouse `memory_keyring` fixture) or the library's own `fail` backend, which is
what a machine with no keyring service gets.
"""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from gemchat.core.credentials import KEYRING_SERVICE, KEYRING_USER, KeyringUnavailable, KeyStore, key_from_env
from tests.fakes.memory_keyring import MemoryKeyring


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
