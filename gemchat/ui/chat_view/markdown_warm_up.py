"""Markdown's parser and the common lexers, prepared on a thread, once, when an answer may come.

On a thread: importing Markdown and compiling a lexer's rules take 10-100 ms
each, a stall wherever the UI thread did it. Not at start: a new chat would keep
them unused (4.7 MB of the 91 MB at rest then); a question typed, a message added
or an answer begun ask for it, and Gemini's first words take longer to come than
the 0.1-0.3 s it takes. A chat with messages at start has them prepared by the
start-up thread (`app._load_behind_the_window`).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QTimer

WARM_AFTER_MS = 60
"""How long after it is asked for the preparation starts (after the first paint, if asked before it)."""


class MarkdownWarmUp:
    def __init__(self) -> None:
        self._thread: threading.Thread | None = None

    def start(self, dark: bool) -> None:
        """Starts the preparation, the first time only; `dark` picks the lexers' base style."""
        if self._thread is None:
            self._thread = threading.Thread(target=_prepare, args=(dark,), name="gemchat-warm-up", daemon=True)
            QTimer.singleShot(WARM_AFTER_MS, self._thread.start)


def _prepare(dark: bool) -> None:
    """Prepares the Markdown parser and the common lexers (what they build is shared, and built once).

    No Qt here (the palette's colours are the UI thread's): the lexers' styles are the base ones.
    It waits for the start-up thread's imports (`app._load_behind_the_window`) to end first:
    two threads importing at once while PySide6 watches every import crashed the process.
    """
    for thread in threading.enumerate():
        if thread.name == "gemchat-start":
            thread.join()
    from gemchat.core.markdown import DARK, LIGHT, warm_up

    for _ in warm_up(DARK if dark else LIGHT):
        pass
