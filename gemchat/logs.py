"""gemchat's own log: a file in the data directory, started once the window shows, rotated at each start.

Rotated when gemchat starts, not while it runs: `logging.handlers.RotatingFileHandler`
would do it mid-run, but importing `logging.handlers` (and the `pickle` it brings)
kept 0.7 MB for the whole run, and a run logs a few lines per answer (no message
text), so a file past `MAX_BYTES` is moved aside at the next start instead.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from gemchat.paths import log_path

NOISY_LOGGERS = ("httpx", "httpx2", "httpcore", "google_genai")
MAX_BYTES = 1_000_000
"""A log this long at start is moved aside: `gemchat.log.1`, the older ones to `.2` and `.3`."""
BACKUPS = 3


def setup_logging(directory: Path, owner: bool = True) -> logging.Handler:
    """A rotating log in the data directory; message text never goes in it (unless `debug_log` is set).

    `owner`: this process holds the data directory's lock, so it may rotate the log;
    a launch that only hands over to the running gemchat (or fails to) appends.
    Returns the handler, so a caller that is not the whole process (a test) can remove it.
    """
    path = log_path(directory)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if owner:
            rotate(path)
        handler: logging.Handler = logging.FileHandler(path, encoding="utf-8")
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


def rotate(path: Path) -> None:
    """Moves a log of `MAX_BYTES` or more aside, as RotatingFileHandler names them; the oldest beyond `BACKUPS` goes."""
    try:
        if path.stat().st_size < MAX_BYTES:
            return
    except FileNotFoundError:
        return
    for n in range(BACKUPS - 1, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        if older.exists():
            older.replace(path.with_name(f"{path.name}.{n + 1}"))
    path.replace(path.with_name(f"{path.name}.1"))


def logs_to_stderr() -> bool:
    """Whether the log already goes to stderr (the data directory could not hold it)."""
    return any(type(h) is logging.StreamHandler for h in logging.getLogger().handlers)
