"""Where the API key comes from: the environment or the OS keyring, nowhere else.

The key is never written to the database, the settings file or a log. An
environment variable wins over the keyring so a shell or CI can override a
stored key; GOOGLE_API_KEY wins over GEMINI_API_KEY, as in the SDK.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

ENV_VARS = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
KEYRING_SERVICE = "gemchat"
KEYRING_USER = "gemini-api-key"
KEYS_URL = "https://aistudio.google.com/apikey"


def key_from_env() -> str | None:
    for name in ENV_VARS:
        if value := os.environ.get(name, "").strip():
            return value
    return None


class KeyringUnavailable(Exception):
    """No OS keyring can store the key; it can still be used for this run."""


class KeyStore:
    """The key in the OS keyring, behind three calls that never raise a keyring error
    except `save`, which says clearly when nothing could be stored."""

    def load(self) -> str | None:
        try:
            import keyring

            return keyring.get_password(KEYRING_SERVICE, KEYRING_USER) or None
        except Exception as exc:  # no backend, locked keyring, D-Bus trouble
            log.info("keyring not readable: %s", type(exc).__name__)
            return None

    def save(self, key: str) -> None:
        try:
            import keyring

            keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key)
        except Exception as exc:
            raise KeyringUnavailable(
                "No system keyring is available to store the key; it is used for this session only. "
                "Set GEMINI_API_KEY in your environment to keep it."
            ) from exc

    def delete(self) -> None:
        try:
            import keyring

            keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)
        except Exception as exc:
            log.info("keyring delete failed: %s", type(exc).__name__)
