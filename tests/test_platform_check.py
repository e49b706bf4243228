"""Before Qt aborts with its plugin error, gemchat says what is missing and how to get it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gemchat import platform_check
from gemchat.platform_check import XCB_LIBRARIES, display_problem

ROOT = Path(__file__).resolve().parents[1]
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 checks are for Linux")


@linux_only
def test_a_missing_xcb_library_is_named_with_the_package_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = platform_check._loadable
    monkeypatch.setattr(platform_check, "_loadable", lambda name: name != "libxcb-cursor.so.0" and real(name))
    message = display_problem({"DISPLAY": ":0"})
    assert message is not None and "sudo apt-get install libxcb-cursor0" in message
    assert display_problem({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}) is None
    assert display_problem({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}) is None


@linux_only
def test_every_library_qt_needs_is_checked() -> None:
    assert set(XCB_LIBRARIES.values()) == {
        "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0", "libxcb-xkb1",
        "libxkbcommon-x11-0", "libxcb-shape0", "libxcb-randr0", "libxcb-cursor0"}


@linux_only
def test_the_libraries_installed_here_are_found() -> None:
    # CI installs them all (README's system packages): none may be reported missing.
    assert platform_check.missing_xcb_packages() == []


@linux_only
def test_starting_without_a_display_says_so_instead_of_crashing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM") and not k.startswith(("GEMINI", "GOOGLE"))}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-m", "gemchat", "--data-dir", str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "no display found" in result.stderr and "Traceback" not in result.stderr
