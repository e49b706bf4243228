"""Which models answer with pictures, and a chat's options for them as kept and read back."""

from __future__ import annotations

import pytest

from gemchat.core.image_models import ImageOptions, is_image_model


@pytest.mark.parametrize(("model", "makes_pictures"), [
    ("gemini-3-pro-image-preview", True),
    ("gemini-3.1-flash-image", True),
    ("gemini-2.5-flash-image", True),
    ("models/gemini-2.5-flash-image-preview", True),
    ("gemini-2.0-flash-preview-image-generation", True),
    ("gemini-3.6-flash", False),
    ("gemini-3.6-pro", False),
    ("imagen-4.0-generate-001", False),  # Imagen is not a chat model at all
])
def test_image_models_are_known_by_name(model: str, makes_pictures: bool) -> None:
    assert is_image_model(model) is makes_pictures


def test_options_keep_only_what_is_set_and_anything_unknown_is_left_to_the_model() -> None:
    assert ImageOptions().to_json() == {}
    options = ImageOptions("16:9", "2K", pictures_only=True)
    assert ImageOptions.from_json(options.to_json()) == options
    assert ImageOptions.from_json({"aspect_ratio": "7:1", "image_size": "8K", "pictures_only": "yes"}) == ImageOptions()
    assert ImageOptions.from_json(["16:9"]) == ImageOptions()
