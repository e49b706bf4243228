"""Installs gemchat's launcher entry and icons for the current user (`make install-desktop`).

Linux desktops (GNOME, KDE, XFCE...) list an application when a .desktop file
is in $XDG_DATA_HOME/applications and find its icon by name in the hicolor
theme under $XDG_DATA_HOME/icons. Nothing goes outside $XDG_DATA_HOME
(default ~/.local/share), so no root is needed and `--uninstall` undoes it.

The entry runs the packaged app (dist/gemchat/gemchat) when it has been built
with `make package`, else the virtualenv's `gemchat` script; either way by
absolute path, since a launcher does not see the PATH of a shell. The Debian
package (packaging/build_deb.py) renders its entry with `desktop_entry` too,
from the same template, with the command `gemchat` instead.

The file is named for the reverse-DNS id AppStream asks for (DESKTOP_ID), the
name Qt gives Wayland compositors as the window's app id (setDesktopFileName in
gemchat/app.py); StartupWMClass matches the WM_CLASS Qt sets on X11 ("gemchat",
the application name). Either way the window is grouped under this launcher.

Stdlib only, so it also runs with a Python that has not got gemchat installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import gemchat

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "gemchat" / "resources"
TEMPLATE = RESOURCES / "gemchat.desktop"
FROZEN_EXECUTABLE = ROOT / "dist" / "gemchat" / "gemchat"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
DESKTOP_ID = gemchat.DESKTOP_ID
ICON_NAME = "gemchat"
# What earlier versions of this script installed the entry as; removed on install and uninstall.
LEGACY_DESKTOP_FILE = "gemchat.desktop"


def data_home() -> Path:
    """$XDG_DATA_HOME if set to an absolute path (the spec says to ignore a relative one), else ~/.local/share."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def default_executable() -> Path | None:
    """The packaged app if built, else the `gemchat` script beside the Python running this."""
    if os.access(FROZEN_EXECUTABLE, os.X_OK):
        return FROZEN_EXECUTABLE
    script = Path(sysconfig.get_path("scripts")) / "gemchat"
    return script if os.access(script, os.X_OK) else None


def exec_value(executable: Path) -> str:
    """The Exec key's value: quoted as the Desktop Entry spec asks when the path needs it.

    Inside double quotes, `"`, `` ` ``, `$` and `\\` are escaped with a backslash,
    and then every backslash is doubled again by the key file's own escaping.
    """
    path = str(executable)
    if not any(c in path for c in ' \t\n"\'\\><~|&;$*?#()`'):
        return path
    quoted = "".join("\\" + c if c in '"`$\\' else c for c in path)
    return ('"' + quoted + '"').replace("\\", "\\\\")


def desktop_entry(executable: Path | str) -> str:
    """The template with Exec (and TryExec, so a deleted build hides the entry) running `executable`.

    `executable` is an absolute path, or a bare command name looked up in PATH
    (the Debian package's `gemchat`). The template's arguments after its own
    command (the `%F` that passes files dropped on the launcher) are kept.
    """
    lines: list[str] = []
    for line in TEMPLATE.read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            _command, _, arguments = line.removeprefix("Exec=").partition(" ")
            lines.append(" ".join(filter(None, (f"Exec={exec_value(Path(executable))}", arguments))))
            lines.append(f"TryExec={str(executable).replace(chr(92), chr(92) * 2)}")
        elif not line.startswith("TryExec="):
            lines.append(line)
    return "\n".join(lines) + "\n"


def installed_paths(base: Path) -> dict[Path, Path | None]:
    """Destination -> source (None for the generated .desktop file)."""
    paths: dict[Path, Path | None] = {base / "applications" / f"{DESKTOP_ID}.desktop": None}
    for size in ICON_SIZES:
        paths[base / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"] = (
            RESOURCES / f"gemchat-{size}.png"
        )
    paths[base / "icons" / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg"] = RESOURCES / "gemchat.svg"
    return paths


def _remove_legacy_entry(base: Path) -> list[Path]:
    """The entry an earlier version installed under the old name, so the menu does not list gemchat twice.

    Only a file this script wrote is removed: its StartupWMClass says so.
    """
    legacy = base / "applications" / LEGACY_DESKTOP_FILE
    try:
        ours = "StartupWMClass=gemchat" in legacy.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    if ours:
        legacy.unlink()
        return [legacy]
    return []


def _refresh_caches(base: Path) -> None:
    """Menus notice new entries by themselves on most desktops; these tools make it immediate where present.

    The icon cache is only refreshed when one exists: creating one would make
    GTK overlook icons other programs add later without updating it.
    """
    commands = [["update-desktop-database", "-q", str(base / "applications")]]
    hicolor = base / "icons" / "hicolor"
    if (hicolor / "icon-theme.cache").exists():
        commands.append(["gtk-update-icon-cache", "-q", "-t", "-f", str(hicolor)])
    for command in commands:
        if shutil.which(command[0]):
            subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def validate(desktop_file: Path) -> bool:
    """Runs desktop-file-validate when installed (Debian: desktop-file-utils); True when it finds no error."""
    if shutil.which("desktop-file-validate") is None:
        return True
    result = subprocess.run(["desktop-file-validate", str(desktop_file)], capture_output=True, text=True)
    for line in (result.stdout + result.stderr).splitlines():
        if " hint: " not in line:  # hints (e.g. two main categories) are advice, not faults
            print(line, file=sys.stderr)
    return result.returncode == 0


def install(base: Path, executable: Path) -> list[Path]:
    written: list[Path] = []
    for destination, source in installed_paths(base).items():
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            destination.write_text(desktop_entry(executable), encoding="utf-8")
        else:
            shutil.copyfile(source, destination)
        destination.chmod(0o644)
        written.append(destination)
    _remove_legacy_entry(base)
    _refresh_caches(base)
    return written


def uninstall(base: Path) -> list[Path]:
    removed = [path for path in installed_paths(base) if path.exists()]
    for path in removed:
        path.unlink()
    removed += _remove_legacy_entry(base)
    _refresh_caches(base)
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install gemchat's launcher entry and icons for this user.")
    parser.add_argument("--exec", dest="executable", type=Path, metavar="PATH",
                        help="what the launcher runs (default: dist/gemchat/gemchat if built, "
                             "else the virtualenv's gemchat script)")
    parser.add_argument("--uninstall", action="store_true", help="remove what an install put there")
    args = parser.parse_args(argv)
    base = data_home()
    if args.uninstall:
        for path in uninstall(base):
            print(f"removed {path}")
        return 0
    executable = args.executable or default_executable()
    if executable is None:
        print("install_desktop: nothing to launch yet: run `make package` (packaged app) or `make run` "
              "(virtualenv) first, or pass --exec PATH", file=sys.stderr)
        return 1
    executable = executable.expanduser().absolute()
    if not os.access(executable, os.X_OK):
        print(f"install_desktop: {executable} is not an executable file", file=sys.stderr)
        return 1
    written = install(base, executable)
    desktop_file = written[0]
    print(f"installed {desktop_file} (runs {executable})")
    print(f"installed {len(written) - 1} icons under {base / 'icons' / 'hicolor'}")
    return 0 if validate(desktop_file) else 1


if __name__ == "__main__":
    sys.exit(main())
