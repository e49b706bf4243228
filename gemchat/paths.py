"""Where gemchat keeps its files.

One directory holds everything the app writes (database, settings, logs), so
`--data-dir` or `GEMCHAT_DATA_DIR` can point a test, a second profile or a
portable install somewhere else without leaving anything behind.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "GEMCHAT_DATA_DIR"


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
