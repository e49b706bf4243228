"""Where the API key comes from: the environment, the OS keyring, or a file the user chose.

The key is never written to the database, the settings file or a log. An
environment variable wins over the keyring so a shell or CI can override a
stored key; GOOGLE_API_KEY wins over GEMINI_API_KEY, as in the SDK. The key
file is the one exception to "keyring or environment, nowhere else": offered
only when no keyring exists, kept only if the user chooses it, and read last.
"""

from __future__ import annotations

import enum
import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

ENV_VARS = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
KEYRING_SERVICE = "gemchat"
KEYRING_USER = "gemini-api-key"
KEYS_URL = "https://aistudio.google.com/apikey"
KEY_FILE_MAX_BYTES = 4096  # a Gemini key is 39 characters; anything this long is not one


class KeyPlace(enum.StrEnum):
    """Where the key in use came from, or where a pasted key is to be kept."""

    ENVIRONMENT = "environment"
    KEYRING = "keyring"
    FILE = "file"
    SESSION = "session"  # in memory only, until gemchat quits


def key_from_env() -> str | None:
    for name in ENV_VARS:
        if value := os.environ.get(name, "").strip():
            return value
    return None


class KeyringUnavailable(Exception):
    """No OS keyring can store the key; it can still be used for this run."""


class KeyFileRefused(Exception):
    """A key file is there but is not used: others may read it, another user owns it, or it holds no key."""


class KeyFileError(Exception):
    """The key file could not be written or deleted; the message says which file and why."""


class KeyStore:
    """The key in the OS keyring, behind calls that never raise a keyring error
    except `save`, which says clearly when nothing could be stored."""

    def available(self) -> bool:
        """Whether a keyring that can keep a key exists: keyring's `fail` and `null` stand-ins cannot.

        Finding the backend may ask D-Bus: call it off the UI thread.
        """
        try:
            import keyring
            from keyring.backends import chainer, fail, null

            ring = keyring.get_keyring()
            if isinstance(ring, chainer.ChainerBackend):
                return bool(ring.backends)
            return not isinstance(ring, fail.Keyring | null.Keyring)
        except Exception as exc:
            log.info("no keyring backend: %s", type(exc).__name__)
            return False

    def load(self) -> str | None:
        try:
            import keyring

            return keyring.get_password(KEYRING_SERVICE, KEYRING_USER) or None
        except Exception as exc:  # no backend, locked keyring, D-Bus trouble
            log.info("keyring not readable: %s", type(exc).__name__)
            return None

    def save(self, key: str) -> None:
        keep_it = "Set GEMINI_API_KEY in your environment to keep it."
        if not self.available():  # the `null` backend would "save" without keeping anything
            raise KeyringUnavailable(
                f"No system keyring is available to store the key; it is used for this session only. {keep_it}")
        try:
            import keyring

            keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key)
        except Exception as exc:  # a locked wallet whose prompt was dismissed, D-Bus trouble
            raise KeyringUnavailable(
                f"The system keyring did not take the key ({type(exc).__name__}); it is used for this session "
                f"only. {keep_it}") from exc

    def delete(self) -> bool:
        """Removes the stored key; whether there was one to remove."""
        try:
            import keyring

            keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)
        except Exception as exc:  # none stored, or no keyring at all
            log.info("keyring delete failed: %s", type(exc).__name__)
            return False
        return True


class KeyFile:
    """The key in a file only the user can read: mode 0600, in a folder of mode 0700.

    Less safe than a keyring (any program running as the user can read it), so it
    is used only when the user chose it. Like ssh with a private key, a file that
    other users may read, or that another user owns, is refused rather than used
    or silently repaired. Writes replace the file whole: it never holds half a key,
    and is never readable by others, not even for an instant.

    Attributes:
        path: the file, in the config directory (never the data directory).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> str | None:
        """The key; None when there is no file or it is empty. Raises KeyFileRefused.

        Call it off the UI thread.
        """
        try:  # O_NONBLOCK: a FIFO put there would otherwise hang the open
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KeyFileRefused(f"gemchat could not read the API key file {self.path}: {exc.strerror}.") from exc
        try:
            if problem := key_file_problem(self.path, os.fstat(fd)):  # what was opened, not what the name is now
                raise KeyFileRefused(f"gemchat did not use the API key in {self.path}: {problem}.")
            data = os.read(fd, KEY_FILE_MAX_BYTES + 1)
        finally:
            os.close(fd)
        if len(data) > KEY_FILE_MAX_BYTES:
            raise KeyFileRefused(f"gemchat did not use the API key in {self.path}: it is too large to be a key.")
        try:
            key = data.decode("utf-8").strip()
        except UnicodeDecodeError:
            key = "\n"  # refused just below, without saying anything of what the file holds
        if not key.isprintable() or any(char.isspace() for char in key):
            raise KeyFileRefused(f"gemchat did not use the API key in {self.path}: "
                                 "it does not hold a key on one line of text.")
        return key or None

    def save(self, key: str) -> None:
        """Writes the key, replacing the file whole (a new file, then a rename). Raises KeyFileError."""
        folder = self.path.parent
        temp = folder / f".{self.path.name}.{os.urandom(6).hex()}.tmp"
        try:
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            _make_private(folder)
            # Created 0600 (never wider, whatever the umask), so no other user can open it even while it is written.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
            fd = os.open(temp, flags, 0o600)
            try:
                with os.fdopen(fd, "wb") as file:
                    if hasattr(os, "fchmod"):
                        os.fchmod(file.fileno(), 0o600)  # exactly 0600, even under a umask like 0277
                    file.write(key.encode("utf-8") + b"\n")
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temp, self.path)
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
            _sync_folder(folder)
        except OSError as exc:
            raise KeyFileError(f"The API key could not be written to {self.path}: {exc.strerror or exc}.") from exc

    def delete(self) -> bool:
        """Deletes the file; whether there was one. Raises KeyFileError."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise KeyFileError(f"The API key file {self.path} could not be deleted: {exc.strerror or exc}.") from exc
        return True


def key_file_problem(path: Path, status: os.stat_result) -> str | None:
    """Why a key file with this `os.stat` must not be used, in words for the user; None when it is fine."""
    if not stat.S_ISREG(status.st_mode):
        return "it is not a regular file"
    if os.name != "posix":  # Windows: the file inherits the private ACL of the user's profile
        return None
    if status.st_uid != os.geteuid():
        return f"it belongs to another user (uid {status.st_uid})"
    if mode := status.st_mode & 0o077:
        who = "read" if mode & 0o044 else "change"
        return (f"its permissions {stat.S_IMODE(status.st_mode):04o} let other users {who} it. "
                f"Make it yours alone with `chmod 600 {path}`, or forget it in Settings")
    return None


def _make_private(folder: Path) -> None:
    """The key's folder is 0700: other users cannot even list it. One of someone else's is left alone."""
    if os.name != "posix":
        return
    status = folder.stat()
    if status.st_uid == os.geteuid() and status.st_mode & 0o077:
        folder.chmod(0o700)


def _sync_folder(folder: Path) -> None:
    """The rename reaches the disk too, so a crash leaves the old key or the new one, not neither."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
