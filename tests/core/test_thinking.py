"""Which thinking levels each model takes, from Google's families and the model list's `thinking` field."""

from __future__ import annotations

import pytest

from gemchat.core.thinking import LEVELS, accepted_levels, level_to_send


@pytest.mark.parametrize(("model", "levels"), [
    ("gemini-3-pro-preview", ("low", "high")),
    ("gemini-3.6-pro", ("low", "high")),
    ("models/gemini-3.1-pro", ("low", "high")),
    ("gemini-3-flash-preview", LEVELS),
    ("gemini-3.6-flash", LEVELS),
    ("gemini-3.1-flash-lite-preview", LEVELS),
    ("gemini-2.5-flash", ()),
    ("gemini-2.5-pro", ()),
    ("gemini-2.0-flash", ()),
    ("gemma-3-27b-it", ()),
    ("learnlm-2.0-flash-experimental", None),
    ("gemini-exp-1206", None),
])
def test_each_family_takes_the_levels_google_documents(model: str, levels: tuple[str, ...] | None) -> None:
    assert accepted_levels(model) == levels


def test_a_model_the_list_says_does_not_think_takes_no_level_whatever_its_name() -> None:
    assert accepted_levels("gemini-3.6-flash", thinks=False) == ()
    assert accepted_levels("gemini-3.6-flash", thinks=True) == LEVELS


@pytest.mark.parametrize(("chosen", "model", "sent"), [
    ("minimal", "gemini-3.6-flash", "minimal"),
    ("minimal", "gemini-3.6-pro", ""),  # Pro takes low and high only: the model decides
    ("high", "gemini-3.6-pro", "high"),
    ("low", "gemini-2.5-flash", ""),
    ("medium", "some-new-model", "medium"),  # unknown: sent, and left out if refused
    ("", "gemini-3.6-flash", ""),
])
def test_only_a_level_the_model_takes_is_sent(chosen: str, model: str, sent: str) -> None:
    assert level_to_send(chosen, model) == sent
