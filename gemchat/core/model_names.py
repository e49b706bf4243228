"""A model's id as people write it, for the chips, the picker and the line over each answer."""

from __future__ import annotations


def model_name(model: str | None) -> str:
    """A model's id as people write it: "gemini-2.5-flash" is "Gemini 2.5 Flash"."""
    if not model:
        return "Gemini"
    words = model.removeprefix("models/").replace("_", "-").split("-")
    return " ".join(word if any(c.isdigit() for c in word) else word.capitalize() for word in words if word)
