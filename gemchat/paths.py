"""Where gemchat keeps its files.

One directory holds everything the app writes (database, settings, logs), so
`--data-dir` or `GEMCHAT_DATA_DIR` can point a test, a second profile or a
portable install somewhere else without leaving anything behind. The one
exception is the API key file a user may choose when no system keyring exists:
it lives in the OS's config directory, never in the data directory, so that no
copy, backup or export of the data directory carries the key.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "GEMCHAT_DATA_DIR"
KEY_FILE_NAME = "api-key"


def data_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the command line wins, then the environment, then the OS default."""
    if override:
        return Path(override).expanduser().resolve()
    if env := os.environ.get(DATA_DIR_ENV):
        return Path(env).expanduser().resolve()
    from platformdirs import user_data_dir

    return Path(user_data_dir("gemchat", appauthor=False))


def database_path(directory: Path) -> Path:
    return directory / "gemchat.db"


def attachments_dir(directory: Path) -> Path:
    """Copies of the files sent with questions, each named by its SHA-256."""
    return directory / "attachments"


def drafts_path(directory: Path) -> Path:
    return directory / "drafts.json"


def settings_path(directory: Path) -> Path:
    return directory / "settings.json"


def log_path(directory: Path) -> Path:
    return directory / "logs" / "gemchat.log"


def config_dir() -> Path:
    """gemchat's folder in the OS's user config directory: `$XDG_CONFIG_HOME/gemchat`, else `~/.config/gemchat`."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("gemchat", appauthor=False))


def key_file_path(directory: Path) -> Path | None:
    """Where the user may keep the API key when no system keyring exists.

    None when the config directory is the data directory or inside it (a `--data-dir`
    of `~/.config`; Windows and macOS, whose config and data directories are one, and
    which always have a keyring): the key must never be among the data directory's files.
    """
    config, data = config_dir().resolve(), directory.expanduser().resolve()
    if config == data or data in config.parents:
        return None
    return config / KEY_FILE_NAME
