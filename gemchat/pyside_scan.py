"""PySide6's question about every module imported after it, answered from the module's name instead of its source.

Once loaded, PySide6 asks of each newly imported module whether it uses PySide6
(for its opt-in `from __feature__ import snake_case`), by reading the module's
whole source (`shibokensupport.feature._mod_uses_pyside`, through
`inspect.getsource`), and `linecache` keeps every line it read. By the end of
gemchat's start-up that was 160 modules: 2.6 MB of source held as 71,000
strings, and about 0.27 ms a module (napari #8584 measured the same). gemchat
uses no `__feature__`, so the answer only picks between two defaults that behave
alike here (0, "no feature", and -1, "ignore"); it is given from the name.
"""

from __future__ import annotations

import sys
from types import ModuleType

USERS = ("PySide6", "shiboken6", "qasync", "gemchat")
"""Packages whose modules are said to use PySide6 (the rest are said not to)."""


def _uses_pyside(module: ModuleType) -> bool:
    name = getattr(module, "__name__", "") or ""
    return name.split(".", 1)[0] in USERS


def answer_from_names() -> bool:
    """Replaces PySide6's source scan with `_uses_pyside`; False (and nothing done) if this PySide6 has none."""
    feature = sys.modules.get("shibokensupport.feature")
    if feature is None or not callable(getattr(feature, "_mod_uses_pyside", None)):
        return False
    feature._mod_uses_pyside = _uses_pyside  # type: ignore[attr-defined]
    # What the scan read before this (enum, types, PySide6's own modules: 0.2 MB of source) is never read again.
    import linecache

    linecache.clearcache()
    return True
