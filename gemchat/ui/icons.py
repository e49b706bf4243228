"""The application icon, read from the package's files (a frozen build keeps them beside the code)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QIcon

SIZES = (16, 24, 32, 48, 64, 128, 256)
RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def icon_file(size: int) -> Path:
    """The PNG of the icon at `size` pixels (one of `SIZES`), for what needs a file rather than a QIcon."""
    return RESOURCES / f"gemchat-{size}.png"


def app_icon() -> QIcon:
    """PNGs at each size rather than the SVG, so no image-format plugin is needed.

    `addFile` reads a size only when Qt first draws it, not at start-up.
    """
    icon = QIcon()
    for size in SIZES:
        icon.addFile(str(icon_file(size)))
    return icon
