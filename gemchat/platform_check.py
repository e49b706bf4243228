"""Says which system packages are missing before Qt aborts without saying so.

Qt's xcb platform plugin needs a handful of X libraries that minimal Linux
installs lack; without them Qt prints a plugin error and aborts. This checks
for them first and names the Debian/Ubuntu packages to install.
"""

from __future__ import annotations

import ctypes.util
import os
import sys

# library name for find_library -> Debian/Ubuntu package
XCB_LIBRARIES: dict[str, str] = {
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-xkb": "libxcb-xkb1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "xcb-shape": "libxcb-shape0",
    "xcb-randr": "libxcb-randr0",
    "xcb-cursor": "libxcb-cursor0",
}


def uses_xcb(environ: dict[str, str] | None = None) -> bool:
    """Whether Qt will pick its X11 plugin on this system."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return False
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform:
        return platform.split(";")[0].split(":")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def missing_xcb_packages() -> list[str]:
    return [pkg for lib, pkg in XCB_LIBRARIES.items() if ctypes.util.find_library(lib) is None]


def display_problem(environ: dict[str, str] | None = None) -> str | None:
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
