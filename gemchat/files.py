"""Writing a whole file so that nobody ever reads half of it."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomically(path: Path, text: str) -> None:
    """Writes `text` to a temporary file beside `path`, then renames it over `path`.

    A crash, a full disk or a reader arriving early (another program opening an
    export, gemchat reading its settings) sees the old file or the new one,
    never a part; a failed write leaves the old file as it was.
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
