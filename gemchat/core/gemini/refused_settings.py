"""Generation settings a model refused: left out of the next attempt, and of the model's later requests.

One thinking level for every model cannot suit them all: some refuse
`minimal` or `medium`, models that do not think refuse any thinking setting,
and a few refuse a temperature or the Google Search tool. Gemini says so with
400 INVALID_ARGUMENT naming the setting. Rather than leave the chat failing on
every message, the answer is asked for once more without that setting, the
user is told which one it was, and the model is not sent it again in this run.
"""

from __future__ import annotations

import dataclasses
import re

from gemchat.core.errors import ErrorKind, GemchatError
from gemchat.core.messages import GenerationRequest

# What the API's message names, most specific first: (pattern, setting).
_NAMED = (
    (re.compile(r"thinking[ _]?level", re.IGNORECASE), "thinking level"),
    (re.compile(r"thinking|include[ _]?thoughts", re.IGNORECASE), "thinking"),
    (re.compile(r"temperature", re.IGNORECASE), "temperature"),
    (re.compile(r"aspect[ _]?ratio", re.IGNORECASE), "aspect ratio"),
    (re.compile(r"image[ _]?size", re.IGNORECASE), "picture size"),
    (re.compile(r"response[ _]?modalit", re.IGNORECASE), "pictures only"),
    (re.compile(r"code[ _]?execution", re.IGNORECASE), "code execution"),
    (re.compile(r"url[ _]?context", re.IGNORECASE), "URL context"),
    (re.compile(r"google[ _]?search|search as tool|tool", re.IGNORECASE), "Google Search"),
)


def refused_setting(error: GemchatError, request: GenerationRequest) -> str | None:
    """The setting a 400 INVALID_ARGUMENT names, if the request sent it; None otherwise."""
    if error.kind is not ErrorKind.BAD_REQUEST or "INVALID_ARGUMENT" not in error.detail:
        return None
    for pattern, setting in _NAMED:
        if pattern.search(error.detail) and _sends(request, setting):
            return setting
    return None


def _sends(request: GenerationRequest, setting: str) -> bool:
    return {
        "thinking level": bool(request.thinking_level),
        "thinking": bool(request.thinking_level) or request.include_thoughts,
        "temperature": request.temperature is not None,
        "Google Search": request.google_search,
        "code execution": request.code_execution,
        "aspect ratio": request.image_options is not None and bool(request.image_options.aspect_ratio),
        "picture size": request.image_options is not None and bool(request.image_options.image_size),
        "pictures only": request.image_options is not None and request.image_options.pictures_only,
        "URL context": request.url_context,
    }[setting]


def without(request: GenerationRequest, settings: set[str]) -> GenerationRequest:
    """`request` with these settings left out (each as if it had never been set)."""
    changes: dict[str, object] = {}
    if "thinking level" in settings or "thinking" in settings:
        changes["thinking_level"] = ""
    if "thinking" in settings:
        changes["include_thoughts"] = False
    if "temperature" in settings:
        changes["temperature"] = None
    if "Google Search" in settings:
        changes["google_search"] = False
    if "code execution" in settings:
        changes["code_execution"] = False
    if request.image_options is not None and settings & {"aspect ratio", "picture size", "pictures only"}:
        options = request.image_options
        changes["image_options"] = dataclasses.replace(
            options, aspect_ratio="" if "aspect ratio" in settings else options.aspect_ratio,
            image_size="" if "picture size" in settings else options.image_size,
            pictures_only=options.pictures_only and "pictures only" not in settings)
    if "URL context" in settings:
        changes["url_context"] = False
    return dataclasses.replace(request, **changes) if changes else request  # type: ignore[arg-type]


def notice(model: str, setting: str, request: GenerationRequest) -> str:
    """What the user is told: which setting, its value, and that the answer came without it."""
    value = {
        "thinking level": f" “{request.thinking_level}”",
        "temperature": f" {request.temperature:g}" if request.temperature is not None else "",
    }.get(setting, "")
    return (f"{model} does not accept the {setting}{value}, so gemchat asked without it "
            "(and will not send it to this model again until gemchat restarts). Change it in Settings.")
