"""Imports go one way: ui -> session -> core/storage. Checked here, not hoped for.

Reads every module's import statements (top level and inside functions) with
`ast`, so a lazy import that breaks the layering is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gemchat"


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules("core") + modules("storage"), ids=lambda p: p.name)
def test_core_and_storage_know_nothing_of_qt_the_session_or_widgets(path: Path) -> None:
    bad = {name for name in imports_of(path)
           if name.startswith(("PySide6", "qasync", "gemchat.ui", "gemchat.session", "gemchat.app"))}
    assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", modules("session"), ids=lambda p: p.name)
def test_the_session_uses_no_widgets(path: Path) -> None:
    bad = {name for name in imports_of(path)
           if name.startswith(("PySide6.QtWidgets", "PySide6.QtGui", "gemchat.ui", "gemchat.app"))}
    assert not bad


@pytest.mark.parametrize("path", modules("ui"), ids=lambda p: p.name)
def test_widgets_never_reach_into_storage_or_the_network(path: Path) -> None:
    bad = {name for name in imports_of(path)
           if name.startswith(("gemchat.storage.store", "gemchat.storage.worker", "gemchat.core.gemini",
                               "google", "sqlite3", "gemchat.app"))}
    assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


@pytest.mark.parametrize("path", [PACKAGE / "instance.py", PACKAGE / "launch_listener.py"], ids=lambda p: p.name)
def test_the_single_instance_socket_uses_no_widgets_and_knows_nothing_of_the_chats(path: Path) -> None:
    """import-linter sees PySide6 as one package, so its widget modules are checked here."""
    bad = {name for name in imports_of(path)
           if name.startswith(("PySide6.QtWidgets", "PySide6.QtGui", "gemchat.ui", "gemchat.session",
                               "gemchat.storage", "gemchat.core", "gemchat.app"))}
    assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"


def test_desktop_notifications_use_no_widgets_and_know_nothing_of_the_window_or_the_chats() -> None:
    """The notifier is told what to show and says what was clicked; the window decides when (import-linter too)."""
    path = PACKAGE / "desktop_notifications.py"
    bad = {name for name in imports_of(path)
           if name.startswith(("PySide6.QtWidgets", "PySide6.QtGui", "gemchat.ui", "gemchat.session",
                               "gemchat.storage", "gemchat.core", "gemchat.app"))}
    assert not bad, sorted(bad)
