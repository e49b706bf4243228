"""The processes `benchmarks/startup_instructions.py` counts (not a benchmark itself).

    bare               QMainWindow + QTextEdit, as `_desktop_child.py bare`
    gemchat DATA_DIR   the real app (gemchat.cli.main)

Each ends when the main window's `show()` returns: the request to map it
has gone to the X server (issue 12's figure is start to the window mapped). Between phases it calls
`os.getppid()`: valgrind dumps its counts when that function is entered
(`--dump-before=os_getppid`), so each dump is one phase. The phases:
Python, PySide6 and the QApplication (gemchat imports some of PySide6 in
`qt_application`, the bare window before it: they are one phase for that); the
window's modules; building the window; showing it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

mark = os.getppid  # valgrind's phase marker


def end_when_shown(window: Any) -> None:
    """Ends the process when `window.show()` returns: the request to map it has gone to the X server."""
    from PySide6.QtWidgets import QMainWindow

    def show() -> None:
        QMainWindow.show(window)
        mark()
        os._exit(0)

    window.show = show


def bare() -> None:
    from PySide6.QtWidgets import QApplication, QMainWindow, QTextEdit

    app = QApplication([sys.argv[0]])
    mark()
    mark()  # the bare window has no modules of its own
    window = QMainWindow()
    window.setCentralWidget(QTextEdit())
    window.resize(900, 720)
    mark()
    end_when_shown(window)
    window.show()
    app.exec()


def gemchat(data_dir: str) -> None:
    import gemchat.app as app_module

    make_qt_application = app_module.qt_application
    build_window = app_module.build_window

    def qt_application() -> Any:
        qt_app = make_qt_application()
        mark()
        return qt_app

    def build(directory: Path) -> Any:
        import gemchat.ui.main_window  # noqa: F401 (the window's modules, a phase of their own)

        mark()
        window = build_window(directory)
        mark()
        end_when_shown(window)
        return window

    app_module.qt_application = qt_application  # type: ignore[assignment]
    app_module.build_window = build  # type: ignore[assignment]
    from gemchat.cli import main

    sys.argv = ["gemchat", "--data-dir", data_dir]
    main()


if __name__ == "__main__":
    if sys.argv[1] == "bare":
        bare()
    else:
        gemchat(sys.argv[2])
