"""What went wrong, in words a user understands.

The SDK raises `ClientError`/`ServerError` with HTTP codes and Google's error
details, and the HTTP stack raises its own exceptions for dropped or stalled
connections. The window should not show any of that. `classify` turns each
into a `GemchatError` whose `kind` decides what the user is told and whether
Retry can help, with the API key scrubbed from every piece of text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    AUTH = "auth"
    QUOTA = "quota"
    NETWORK = "network"
    TIMEOUT = "timeout"
    SAFETY = "safety"
    MODEL = "model"
    PERMISSION = "permission"
    SERVER = "server"
    BAD_REQUEST = "bad_request"
    EMPTY = "empty"
    BUG = "bug"


class GemchatError(Exception):
    """An error the user sees on an answer.

    Attributes:
        kind: what sort of failure it was.
        message: one or two sentences for the user; never contains the key.
        detail: technical text for the log, redacted.
        retry_after: seconds the server asked us to wait, when it said.
    """

    def __init__(
        self, kind: ErrorKind, message: str, detail: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail
        self.retry_after = retry_after


_KEY_SHAPE = re.compile(r"AIza[0-9A-Za-z_\-]{20,}")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Text with every given secret, and anything shaped like a Google API key, masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[redacted]")
    return _KEY_SHAPE.sub("[redacted]", text)


def _details(error_json: Any) -> list[dict[str, Any]]:
    """The `details` list of a Google error body, whatever shape the SDK kept it in."""
    if isinstance(error_json, dict):
        inner = error_json.get("error", error_json)
        if isinstance(inner, dict) and isinstance(inner.get("details"), list):
            return [d for d in inner["details"] if isinstance(d, dict)]
    return []


def retry_delay(error_json: Any) -> float | None:
    """Seconds from a `google.rpc.RetryInfo` detail ("12s", "1.5s"), if the server sent one."""
    for detail in _details(error_json):
        if str(detail.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)s\s*", str(detail.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def _error_reasons(error_json: Any) -> set[str]:
    return {
        str(d.get("reason"))
        for d in _details(error_json)
        if str(d.get("@type", "")).endswith("google.rpc.ErrorInfo") and d.get("reason")
    }


def from_api_error(code: int, status: str | None, message: str | None, error_json: Any, model: str,
                   secrets: Iterable[str | None] = ()) -> GemchatError:
    """Maps an HTTP error from the Gemini API to what the user is told."""
    secrets = list(secrets)
    detail = redact(f"{code} {status}: {message}", secrets)
    reasons = _error_reasons(error_json)
    if "API_KEY_INVALID" in reasons or code == 401 or (
        code == 400 and message and "api key" in message.lower()
    ):
        return GemchatError(
            ErrorKind.AUTH,
            "Your Gemini API key was not accepted. Set a valid key (File → API key…) and retry.",
            detail,
        )
    if code == 429:
        delay = retry_delay(error_json)
        wait = f" Gemini asked to wait {delay:g} s." if delay else ""
        return GemchatError(
            ErrorKind.QUOTA,
            "Gemini's quota for this key is used up for now." + wait
            + " Retry later, or check your plan's limits.",
            detail,
            retry_after=delay,
        )
    if code == 404:
        return GemchatError(
            ErrorKind.MODEL,
            f"The model “{model}” was not found or does not support chat. Choose another model.",
            detail,
        )
    if code == 403:
        return GemchatError(
            ErrorKind.PERMISSION,
            f"This API key may not use the model “{model}”. Check the key's project and permissions.",
            detail,
        )
    if code >= 500:
        busy = code == 503
        return GemchatError(
            ErrorKind.SERVER,
            "Gemini is overloaded right now. Retry in a moment." if busy
            else "Gemini had an internal error. Retry in a moment.",
            detail,
            retry_after=retry_delay(error_json),
        )
    return GemchatError(
        ErrorKind.BAD_REQUEST,
        "Gemini refused the request: " + redact(message or f"HTTP {code}", secrets),
        detail,
    )


# Finish reasons that end an answer early with nothing wrong on our side.
CUT_OFF_REASONS = frozenset({"MAX_TOKENS"})

_FINISH_WORDS = {
    "SAFETY": "Gemini stopped this answer: it was blocked by safety filters.",
    "RECITATION": "Gemini stopped this answer: it was too close to a copyrighted source.",
    "BLOCKLIST": "Gemini stopped this answer: it contained blocked terms.",
    "PROHIBITED_CONTENT": "Gemini stopped this answer: it was flagged as prohibited content.",
    "SPII": "Gemini stopped this answer: it may contain sensitive personal information.",
    "LANGUAGE": "Gemini stopped this answer: the language is not supported.",
    "IMAGE_SAFETY": "Gemini stopped this answer: an image was blocked by safety filters.",
    "MALFORMED_FUNCTION_CALL": "Gemini stopped this answer: it produced a malformed tool call.",
}


def from_finish_reason(reason: str) -> GemchatError:
    """An answer that ended for a reason other than STOP or MAX_TOKENS."""
    words = _FINISH_WORDS.get(reason, f"Gemini stopped this answer early ({reason}).")
    kind = ErrorKind.SAFETY if reason in _FINISH_WORDS else ErrorKind.SERVER
    return GemchatError(kind, words, f"finish reason {reason}")


def empty_answer(finish_reason: str | None) -> GemchatError:
    """A stream that ended normally without a word: a blank bubble would look like a hang or a bug."""
    if finish_reason in CUT_OFF_REASONS:
        words = "Gemini reached its length limit before writing anything. Retry, or ask for less."
    else:
        words = "Gemini sent an empty answer. Retry, or rephrase your message."
    return GemchatError(ErrorKind.EMPTY, words, f"no text; finish reason {finish_reason}")


def from_block_reason(reason: str) -> GemchatError:
    """The prompt itself was refused (`promptFeedback.blockReason`)."""
    return GemchatError(
        ErrorKind.SAFETY,
        f"Gemini declined to answer this message (blocked: {reason.replace('_', ' ').lower()}).",
        f"prompt blocked {reason}",
    )
