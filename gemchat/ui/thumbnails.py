"""Small previews of attached images, for chips in the message box and in the conversation.

QImageReader decodes straight to the small size (JPEG is scaled while it is
decoded) and applies the EXIF rotation, so a phone photo is neither slow nor
sideways. Previews are cached by content hash: a chat re-rendered (theme
change, scrolling back) never decodes a picture twice.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader

_CACHE: OrderedDict[tuple[str, int], QImage] = OrderedDict()
_CACHE_SIZE = 128


def thumbnail(sha256: str, path: Path | None, side: int) -> QImage | None:
    """The image at `path` scaled to fit a `side`-pixel square, or None when Qt cannot read it (HEIC)."""
    key = (sha256, side)
    cached = _CACHE.get(key)
    if cached is not None:
        _CACHE.move_to_end(key)
        return cached
    if path is None:
        return None
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid() and (size.width() > side or size.height() > side):
        reader.setScaledSize(size.scaled(QSize(side, side), Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return None
    if image.width() > side or image.height() > side:  # a reader that ignores the scaled size
        image = image.scaled(QSize(side, side), Qt.AspectRatioMode.KeepAspectRatio)
    _CACHE[key] = image
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return image

