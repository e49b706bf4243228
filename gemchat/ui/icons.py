"""The application icon, loaded from the package so a frozen build finds it too."""

from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QIcon, QPixmap

SIZES = (16, 24, 32, 48, 64, 128, 256)


def app_icon() -> QIcon:
    """PNGs at each size rather than the SVG, so no image-format plugin is needed."""
    icon = QIcon()
    base = resources.files("gemchat") / "resources"
    for size in SIZES:
        data = (base / f"gemchat-{size}.png").read_bytes()
        pixmap = QPixmap()
        pixmap.loadFromData(data, "PNG")
        icon.addPixmap(pixmap)
    return icon
