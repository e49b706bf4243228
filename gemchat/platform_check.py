"""Says which system packages are missing before Qt aborts without saying so.

Qt's xcb platform plugin needs a handful of X libraries that minimal Linux
installs lack; without them Qt prints a plugin error and aborts. This checks
for them first and names the Debian/Ubuntu packages to install.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

# the library's soname, as Qt's xcb plugin loads it -> Debian/Ubuntu package
XCB_LIBRARIES: dict[str, str] = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-cursor.so.0": "libxcb-cursor0",
}


def _loadable(soname: str) -> bool:
    """Whether the dynamic loader finds the library, as it will for Qt.

    Loading it is what Qt does next anyway, and takes microseconds; asking
    `ctypes.util.find_library` runs `ldconfig -p` once per library, which cost
    12 ms (more on a cold disk) on every start. Loaded with QtCore's QLibrary
    (dlopen, the same search), not ctypes: importing ctypes kept 0.4 MB for the
    whole run, for this check alone. Given as a name and a version, so QLibrary
    looks for that one file, not for four spellings of it in each directory
    (1.5 ms of the check's 5 ms; the rest is loading them, which Qt would do next).
    """
    from PySide6.QtCore import QLibrary

    name, version = soname.removeprefix("lib").split(".so.")
    return QLibrary(name, int(version)).load()


def uses_xcb(environ: Mapping[str, str] | None = None) -> bool:
    """Whether Qt will pick its X11 plugin on this system."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return False
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(";")[0].split(":")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def missing_xcb_packages() -> list[str]:
    return [pkg for lib, pkg in XCB_LIBRARIES.items() if not _loadable(lib)]


def display_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """A message for the user when the window cannot open here, else None."""
    env = os.environ if environ is None else environ
    if not uses_xcb(env):
        return None
    if not env.get("DISPLAY"):
        return (
            "gemchat: no display found (DISPLAY is not set). Run it from a desktop session, "
            "or set QT_QPA_PLATFORM=offscreen for a window nobody sees."
        )
    missing = missing_xcb_packages()
    if missing:
        return (
            "gemchat: Qt's X11 support needs system libraries that are missing. Install them with:\n"
            f"    sudo apt-get install {' '.join(missing)}"
        )
    return None
