"""The frozen executable's entry point: the same `main` as the `gemchat` script and `python -m gemchat`.

The Linux build loads the system's own libraries (OpenSSL, SQLite, GLib, X11...:
packaging/gemchat.spec leaves them out), so on a system without one the first
import fails deep inside Python. That is said plainly here instead, with the
one apt-get line README's Packaging gives for a minimal Debian or Ubuntu.
"""

import sys

# What a fresh Debian 12 needs for the packaged folder (tried in a debootstrap minbase system):
# Qt's X11 plugin's libraries, GL and fontconfig, then what Python's ssl, sqlite3 and Qt's GLib
# and D-Bus support link to, and the certificates answers are checked against.
DEBIAN_PACKAGES = (
    "libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xkb1 libxkbcommon-x11-0 "
    "libxcb-shape0 libxcb-randr0 libxcb-cursor0 libegl1 libgl1 libfontconfig1 "
    "libssl3 libglib2.0-0 libsqlite3-0 libdbus-1-3 ca-certificates"
)


def _cannot_start(missing: str) -> str:
    return (f"gemchat cannot start: a library it takes from the system is missing ({missing}).\n"
            f"On Debian or Ubuntu: sudo apt-get install {DEBIAN_PACKAGES}")


def _run() -> int | str:
    """main()'s exit status, or what to print when a system library is missing (sys.exit prints it, status 1)."""
    if sys.platform.startswith("linux"):
        try:  # OpenSSL, which hashlib loads first thing anyway: without it, it logs a traceback per hash
            import _hashlib  # noqa: F401
        except ImportError as error:
            return _cannot_start(str(error))
    from gemchat.cli import main

    try:
        return main()
    except ImportError as error:
        if not sys.platform.startswith("linux") or "cannot open shared object file" not in str(error):
            raise
        return _cannot_start(str(error))


if __name__ == "__main__":
    sys.exit(_run())
