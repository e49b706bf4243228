"""Which thinking levels a model takes: Google's documented families, and what the model list says.

`thinking_level` is Gemini 3's setting (ai.google.dev/gemini-api/docs/thinking):
Gemini 3 Pro models take `low` and `high`; Gemini 3 Flash models (Flash-Lite
included) take `minimal`, `low`, `medium` and `high`. Earlier models (2.5 and
before) set thinking with a token budget and refuse a level; so do models the
API lists as not thinking (`thinking: false`). A model outside these families
is unknown: every level is offered, and if Gemini refuses one it is left out
(`gemchat.core.gemini.refused_settings`).
"""

from __future__ import annotations

import re

LEVELS = ("minimal", "low", "medium", "high")

_FAMILY = re.compile(r"^(?:models/)?gemini-(\d+)(?:\.\d+)?-(pro|flash)\b")


def accepted_levels(model: str, thinks: bool | None = None) -> tuple[str, ...] | None:
    """The levels `model` takes: () for none, None when its family is unknown.

    `thinks` is the model list's `thinking` field for it, when known.
    """
    if thinks is False:
        return ()
    found = _FAMILY.match(model.strip().lower())
    if found is None:
        return () if model.strip().lower().startswith(("gemma", "models/gemma")) else None
    if int(found.group(1)) < 3:
        return ()
    return ("low", "high") if found.group(2) == "pro" else LEVELS


def level_to_send(chosen: str, model: str, thinks: bool | None = None) -> str:
    """The level a request carries: `chosen` if the model takes it, else "" (the model's own default)."""
    accepted = accepted_levels(model, thinks)
    return chosen if chosen and (accepted is None or chosen in accepted) else ""
