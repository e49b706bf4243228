"""gemchat's own log: a rotating file in the data directory, started once the window shows."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from gemchat.paths import log_path

NOISY_LOGGERS = ("httpx", "httpx2", "httpcore", "google_genai")


def setup_logging(directory: Path) -> logging.Handler:
    """A rotating log in the data directory; message text never goes in it (unless `debug_log` is set).

    Returns the handler, so a caller that is not the whole process (a test) can remove it.
    """
    import logging.handlers  # not at import: it costs the window's first paint 6 ms (see run_gui)

    path = log_path(directory)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


def logs_to_stderr() -> bool:
    """Whether the log already goes to stderr (the data directory could not hold it)."""
    return any(type(h) is logging.StreamHandler for h in logging.getLogger().handlers)
