"""`make install-desktop`: the launcher entry and icons land where desktops look, and nowhere else."""

from __future__ import annotations

import configparser
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "packaging" / "install_desktop.py"
RESOURCES = ROOT / "gemchat" / "resources"
SIZES = (16, 24, 32, 48, 64, 128, 256)
DESKTOP_FILE = "io.github.gemchat.gemchat.desktop"


def run_installer(tmp_path: Path, *args: str, data_home: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = data_home if data_home is not None else str(tmp_path / "share")
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True,
                          timeout=60)


def read_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  (keys are case-sensitive)
    parser.read(path, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def fake_executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_entry_and_icons_are_installed_under_xdg_data_home(tmp_path: Path) -> None:
    result = run_installer(tmp_path)
    assert result.returncode == 0, result.stderr
    share = tmp_path / "share"
    entry = read_entry(share / "applications" / DESKTOP_FILE)
    assert entry["Type"] == "Application" and entry["Name"] == "gemchat"
    assert entry["Icon"] == "gemchat" and entry["StartupWMClass"] == "gemchat"
    assert entry["Terminal"] == "false" and entry["Categories"] == "Network;Chat;Utility;"
    # The packaged app when built, else the virtualenv's script; always by absolute path.
    frozen = ROOT / "dist" / "gemchat" / "gemchat"
    venv_script = Path(sys.executable).parent / "gemchat"
    # %F: files dropped on the launcher are attached, as `gemchat FILE ...` does.
    command, field_code = entry["Exec"].split(" ")
    assert command in (str(frozen), str(venv_script)) and field_code == "%F"
    assert os.path.isabs(command) and os.access(command, os.X_OK)
    assert entry["TryExec"] == command
    for size in SIZES:
        icon = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "gemchat.png"
        assert icon.read_bytes() == (RESOURCES / f"gemchat-{size}.png").read_bytes()
    svg = share / "icons" / "hicolor" / "scalable" / "apps" / "gemchat.svg"
    assert svg.read_bytes() == (RESOURCES / "gemchat.svg").read_bytes()
    assert not (tmp_path / "home").exists(), "nothing may be written outside XDG_DATA_HOME"


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="needs desktop-file-utils")
def test_installed_entry_passes_desktop_file_validate(tmp_path: Path) -> None:
    assert run_installer(tmp_path).returncode == 0
    result = subprocess.run(["desktop-file-validate", str(tmp_path / "share" / "applications" / DESKTOP_FILE)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " error: " not in result.stdout


def test_a_path_with_spaces_and_dollar_is_quoted_in_exec(tmp_path: Path) -> None:
    target = fake_executable(tmp_path / "my apps" / "$gem" / "gemchat")
    result = run_installer(tmp_path, "--exec", str(target))
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "share" / "applications" / DESKTOP_FILE).read_text(encoding="utf-8")
    # Quoting rule (\$ inside double quotes), then the key file's own escaping doubles the backslash.
    assert f'Exec="{tmp_path}/my apps/\\\\$gem/gemchat" %F' in text.splitlines()


def test_relative_xdg_data_home_is_ignored_as_the_spec_says(tmp_path: Path) -> None:
    target = fake_executable(tmp_path / "bin" / "gemchat")
    result = run_installer(tmp_path, "--exec", str(target), data_home="relative/share")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "home" / ".local" / "share" / "applications" / DESKTOP_FILE).is_file()


def test_uninstall_removes_everything_it_installed(tmp_path: Path) -> None:
    assert run_installer(tmp_path).returncode == 0
    result = run_installer(tmp_path, "--uninstall")
    assert result.returncode == 0, result.stderr
    left = [p for p in (tmp_path / "share").rglob("*") if p.is_file() and "gemchat" in p.name]
    assert left == []


def test_a_missing_executable_is_refused_with_a_message(tmp_path: Path) -> None:
    result = run_installer(tmp_path, "--exec", str(tmp_path / "nowhere" / "gemchat"))
    assert result.returncode == 1
    assert "not an executable file" in result.stderr
    assert not (tmp_path / "share" / "applications" / DESKTOP_FILE).exists()


def test_the_entry_an_earlier_version_installed_is_replaced_not_doubled(tmp_path: Path) -> None:
    applications = tmp_path / "share" / "applications"
    applications.mkdir(parents=True)
    (applications / "gemchat.desktop").write_text("[Desktop Entry]\nName=gemchat\nStartupWMClass=gemchat\n")
    (applications / "someone-elses.desktop").write_text("[Desktop Entry]\nName=other\n")
    assert run_installer(tmp_path).returncode == 0
    assert sorted(p.name for p in applications.glob("*.desktop")) == [DESKTOP_FILE, "someone-elses.desktop"]


def test_the_app_tells_the_desktop_the_entry_s_name(qapp: Any) -> None:
    """Wayland compositors and KDE find the window's launcher by this name (Qt's desktopFileName)."""
    from gemchat.app import qt_application

    assert qt_application().desktopFileName() + ".desktop" == DESKTOP_FILE
