"""Image models: the Gemini models that answer with pictures, and the options they take.

Gemini's image models (`gemini-2.5-flash-image`, `gemini-3-pro-image-preview`,
`gemini-3.1-flash-image`...) answer through generateContent like the others,
with pictures as `inlineData` parts; the request may say which kinds of
answer it wants (`responseModalities`: text and pictures, or pictures only)
and the pictures' shape and size (`imageConfig`: `aspectRatio`, `imageSize`;
ai.google.dev/gemini-api/docs/image-generation). Options a model refuses are
left out like any other refused setting (`gemchat.core.gemini.refused_settings`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
IMAGE_SIZES = ("1K", "2K", "4K")

_IMAGE_MODEL = re.compile(r"(?:^|/)gemini-[\w.-]*-image(?:-|$)|image-generation")


def is_image_model(model: str) -> bool:
    """Whether `model` is one of Gemini's image models (by name: the model list does not say)."""
    return bool(_IMAGE_MODEL.search(model.strip().lower()))


@dataclass(frozen=True, slots=True)
class ImageOptions:
    """A chat's options for an image model; empty fields leave the choice to the model.

    Attributes:
        aspect_ratio: one of `ASPECT_RATIOS`, or "".
        image_size: one of `IMAGE_SIZES`, or "".
        pictures_only: answers are pictures without words (`responseModalities: ["IMAGE"]`).
    """

    aspect_ratio: str = ""
    image_size: str = ""
    pictures_only: bool = False

    def to_json(self) -> dict[str, object]:
        """Only what is set, so a chat with none keeps nothing."""
        found: dict[str, object] = {}
        if self.aspect_ratio:
            found["aspect_ratio"] = self.aspect_ratio
        if self.image_size:
            found["image_size"] = self.image_size
        if self.pictures_only:
            found["pictures_only"] = True
        return found

    @classmethod
    def from_json(cls, value: object) -> ImageOptions:
        """Options from `to_json`'s form; anything unknown or malformed is left to the model."""
        if not isinstance(value, dict):
            return cls()
        ratio, size = value.get("aspect_ratio"), value.get("image_size")
        return cls(ratio if ratio in ASPECT_RATIOS else "", size if size in IMAGE_SIZES else "",
                   value.get("pictures_only") is True)
