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
        retryable: False when another attempt now cannot help, whatever the kind says
            (a daily quota used up).
    """

    def __init__(
        self, kind: ErrorKind, message: str, detail: str = "", retry_after: float | None = None,
        retryable: bool = True,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail
        self.retry_after = retry_after
        self.retryable = retryable


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
        return _quota_error(error_json, model, detail)
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


def _quota_violations(error_json: Any) -> list[dict[str, Any]]:
    return [
        violation
        for d in _details(error_json) if str(d.get("@type", "")).endswith("google.rpc.QuotaFailure")
        for violation in (d.get("violations") or []) if isinstance(violation, dict)
    ]


def _quota_error(error_json: Any, model: str, detail: str) -> GemchatError:
    """A 429, told apart by the quota its `QuotaFailure` names.

    A per-minute quota comes back within the minute (retried, after the server's
    `RetryInfo`); a per-day one only the next day, and a quota of 0 means this
    key's tier may not use the model at all: neither is retried, and the user
    is told which it was.
    """
    violations = _quota_violations(error_json)
    ids = " ".join(str(v.get("quotaId", "")) for v in violations)
    free_tier = "FreeTier" in ids or any("free_tier" in str(v.get("quotaMetric", "")) for v in violations)
    if violations and all(str(v.get("quotaValue", "")).strip() == "0" for v in violations):
        return GemchatError(
            ErrorKind.QUOTA,
            f"This API key's {'free tier' if free_tier else 'plan'} has no quota for “{model}”. "
            "Choose another model (Chat → Chat Model and Instructions…), or enable billing for the key's project.",
            detail, retryable=False,
        )
    if "PerDay" in ids:
        return GemchatError(
            ErrorKind.QUOTA,
            f"This API key's daily quota for “{model}” is used up"
            + (" (free tier)" if free_tier else "")
            + ". It resets at midnight Pacific time; until then choose another model, or raise the project's limits.",
            detail, retryable=False,
        )
    delay = retry_delay(error_json)
    wait = f" Gemini asked to wait {delay:g} s." if delay else ""
    return GemchatError(
        ErrorKind.QUOTA,
        "Gemini's quota for this key is used up for now." + wait + " Retry later, or check your plan's limits.",
        detail,
        retry_after=delay,
    )


UNFINISHED = "UNFINISHED"
"""gemchat's own finish reason, never Gemini's: the stream ended and no finish reason had come
(the service, or a proxy, cut it short). The answer is kept as cut off, to be continued."""

# Finish reasons that end an answer early with nothing wrong on our side: shown as cut off, to be continued.
CUT_OFF_REASONS = frozenset({"MAX_TOKENS", "CONTINUATION", UNFINISHED})

# Every other finish reason of the API (google-genai's `FinishReason`), in words, and what sort of failure it is.
_FINISH_WORDS: dict[str, tuple[ErrorKind, str]] = {
    "SAFETY": (ErrorKind.SAFETY, "Gemini stopped this answer: it was blocked by safety filters."),
    "RECITATION": (ErrorKind.SAFETY, "Gemini stopped this answer: it was too close to a copyrighted source."),
    "BLOCKLIST": (ErrorKind.SAFETY, "Gemini stopped this answer: it contained blocked terms."),
    "PROHIBITED_CONTENT": (ErrorKind.SAFETY, "Gemini stopped this answer: it was flagged as prohibited content."),
    "SPII": (ErrorKind.SAFETY, "Gemini stopped this answer: it may contain sensitive personal information."),
    "LANGUAGE": (ErrorKind.SAFETY, "Gemini stopped this answer: the language is not supported."),
    "IMAGE_SAFETY": (ErrorKind.SAFETY, "Gemini stopped this answer: an image was blocked by safety filters."),
    "IMAGE_PROHIBITED_CONTENT": (ErrorKind.SAFETY,
                                 "Gemini did not finish the image: it was flagged as prohibited content."),
    "IMAGE_RECITATION": (ErrorKind.SAFETY,
                         "Gemini did not finish the image: it was too close to an existing source."),
    "IMAGE_OTHER": (ErrorKind.SERVER, "Gemini could not finish the image, and gave no reason. Retry, or rephrase."),
    "NO_IMAGE": (ErrorKind.SERVER, "Gemini was expected to make an image and made none. Retry, or ask for it plainly."),
    "ESCALATION": (ErrorKind.SAFETY, "Gemini stopped this answer: it was filtered by an escalation rule."),
    "MODEL_ARMOR": (ErrorKind.SAFETY, "Gemini stopped this answer: it was blocked by Model Armor."),
    "PUP_LIMITED_DISABLED": (
        ErrorKind.PERMISSION,
        "Gemini stopped this answer: the account is limited or disabled under Google's Prohibited Use Policy."),
    "MALFORMED_FUNCTION_CALL": (ErrorKind.SERVER,
                                "Gemini stopped this answer: it produced a malformed tool call. Retry."),
    "UNEXPECTED_TOOL_CALL": (ErrorKind.SERVER,
                             "Gemini stopped this answer: it called a tool this chat does not offer. Retry."),
    "TOO_MANY_TOOL_CALLS": (ErrorKind.SERVER,
                            "Gemini stopped this answer: it called tools too many times. Retry, or ask for less."),
    "MISSING_THOUGHT_SIGNATURE": (
        ErrorKind.BAD_REQUEST,
        "Gemini refused to go on: the reasoning it attached to an earlier answer was not sent back. "
        "Start a new chat, or retry."),
    "MALFORMED_RESPONSE": (ErrorKind.SERVER, "Gemini produced an answer it could not complete. Retry."),
    "OTHER": (ErrorKind.SERVER, "Gemini stopped this answer early, and gave no reason. Retry."),
}


def from_finish_reason(reason: str, finish_message: str | None = None,
                       secrets: Iterable[str | None] = ()) -> GemchatError:
    """An answer that ended for a reason other than STOP or a cut-off; Gemini's own words added when it sent some."""
    kind, words = _FINISH_WORDS.get(reason, (ErrorKind.SERVER, f"Gemini stopped this answer early ({reason})."))
    said = " ".join((finish_message or "").split())
    if said:
        words += f" Gemini said: “{redact(said[:300], secrets)}”"
    return GemchatError(kind, words, f"finish reason {reason}")




def empty_answer(finish_reason: str | None, function_calls: Iterable[str] = ()) -> GemchatError:
    """A stream that ended normally without a word: a blank bubble would look like a hang or a bug.

    `function_calls`: the functions Gemini asked to call instead of answering (gemchat offers none).
    """
    called = list(dict.fromkeys(function_calls))
    if called:
        names = ", ".join(f"“{name}”" for name in called)
        words = (f"Gemini asked to call {'a function' if len(called) == 1 else 'functions'} ({names}) instead of "
                 "answering, and gemchat offers none. Retry, or rephrase your message.")
        return GemchatError(ErrorKind.EMPTY, words, f"function call only: {', '.join(called)}")
    if finish_reason in CUT_OFF_REASONS:
        words = "Gemini reached its length limit before writing anything. Retry, or ask for less."
    else:
        words = "Gemini sent an empty answer. Retry, or rephrase your message."
    return GemchatError(ErrorKind.EMPTY, words, f"no text; finish reason {finish_reason}")


def from_block_reason(reason: str, message: str | None = None, secrets: Iterable[str | None] = ()) -> GemchatError:
    """The prompt itself was refused (`promptFeedback.blockReason`, with `blockReasonMessage` when sent)."""
    said = " ".join((message or "").split())
    return GemchatError(
        ErrorKind.SAFETY,
        f"Gemini declined to answer this message (blocked: {reason.replace('_', ' ').lower()})."
        + (f" Gemini said: “{redact(said[:300], secrets)}”" if said else ""),
        f"prompt blocked {reason}",
    )
