"""What the user reads when Gemini ends an answer early or refuses the question.

The window shows `GemchatError.message` under the answer; `kind` decides what it
offers (Retry, Continue); `detail` goes to the log. The whole app's versions of
these are rows of tests/test_faults.py; here each mapping is pinned by itself.
"""

from __future__ import annotations

import pytest

from gemchat.core.errors import ErrorKind, empty_answer, from_api_error, from_block_reason, from_finish_reason


@pytest.mark.parametrize(("reason", "says"), [
    ("SAFETY", "Gemini stopped this answer: it was blocked by safety filters."),
    ("RECITATION", "Gemini stopped this answer: it was too close to a copyrighted source."),
    ("PROHIBITED_CONTENT", "Gemini stopped this answer: it was flagged as prohibited content."),
])
def test_an_answer_stopped_by_a_filter_says_which_in_plain_words(reason: str, says: str) -> None:
    error = from_finish_reason(reason)
    assert (error.kind, error.message, error.detail) == (ErrorKind.SAFETY, says, f"finish reason {reason}")
    assert str(error) == says


def test_an_answer_stopped_for_a_reason_gemchat_does_not_know_names_the_reason() -> None:
    error = from_finish_reason("SOMETHING_NEW")
    assert error.kind is ErrorKind.SERVER
    assert error.message == "Gemini stopped this answer early (SOMETHING_NEW)."
    assert error.detail == "finish reason SOMETHING_NEW"


def test_a_refused_question_says_why_in_lower_case_words() -> None:
    error = from_block_reason("PROHIBITED_CONTENT")
    assert error.kind is ErrorKind.SAFETY
    assert error.message == "Gemini declined to answer this message (blocked: prohibited content)."
    assert error.detail == "prompt blocked PROHIBITED_CONTENT"


def test_an_empty_answer_says_whether_it_hit_the_length_limit() -> None:
    assert empty_answer("MAX_TOKENS").message.startswith("Gemini reached its length limit before writing anything")
    assert empty_answer("STOP").message == "Gemini sent an empty answer. Retry, or rephrase your message."
    assert empty_answer(None).kind is ErrorKind.EMPTY and empty_answer(None).detail == "no text; finish reason None"


def test_a_key_google_calls_invalid_is_an_auth_error_whatever_the_message_says() -> None:
    details = {"error": {"details": [
        {"@type": "type.googleapis.com/google.rpc.Help"},
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"},
    ]}}
    error = from_api_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", details, "m")
    assert error.kind is ErrorKind.AUTH and "API key was not accepted" in error.message
    other_reason = {"details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SOMETHING_ELSE"},
                                {"@type": "type.googleapis.com/google.rpc.BadRequest", "reason": "API_KEY_INVALID"}]}
    refused = from_api_error(400, "INVALID_ARGUMENT", "Bad field.", other_reason, "m")
    assert (refused.kind, refused.message) == (ErrorKind.BAD_REQUEST, "Gemini refused the request: Bad field.")


RETRY_IN_12S = {"error": {"details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}]}}


@pytest.mark.parametrize(("code", "details", "kind", "says", "retry_after"), [
    (401, None, ErrorKind.AUTH,
     "Your Gemini API key was not accepted. Set a valid key (File → API key…) and retry.", None),
    (429, RETRY_IN_12S, ErrorKind.QUOTA,
     "Gemini's quota for this key is used up for now. Gemini asked to wait 12 s. Retry later, or check "
     "your plan's limits.", 12.0),
    (429, None, ErrorKind.QUOTA,
     "Gemini's quota for this key is used up for now. Retry later, or check your plan's limits.", None),
    (404, None, ErrorKind.MODEL,
     "The model “gemini-x” was not found or does not support chat. Choose another model.", None),
    (403, None, ErrorKind.PERMISSION,
     "This API key may not use the model “gemini-x”. Check the key's project and permissions.", None),
    (503, RETRY_IN_12S, ErrorKind.SERVER, "Gemini is overloaded right now. Retry in a moment.", 12.0),
    (500, None, ErrorKind.SERVER, "Gemini had an internal error. Retry in a moment.", None),
    (400, None, ErrorKind.BAD_REQUEST, "Gemini refused the request: Bad field AIza[redacted].", None),
])
def test_each_http_error_tells_the_user_what_happened_and_what_to_do(
    code: int, details: dict | None, kind: ErrorKind, says: str, retry_after: float | None
) -> None:
    message = "Bad field AIzaSECRETSECRETSECRETSECRET." if code == 400 else "from Google"
    error = from_api_error(code, "STATUS", message, details, "gemini-x", secrets=["SECRETSECRETSECRETSECRET"])
    assert (error.kind, error.message, error.retry_after) == (kind, says, retry_after)
    assert error.detail == f"{code} STATUS: " + ("Bad field AIza[redacted]." if code == 400 else "from Google")


def test_a_400_without_a_message_names_its_code_and_one_about_the_key_is_an_auth_error() -> None:
    assert from_api_error(400, None, None, None, "m").message == "Gemini refused the request: HTTP 400"
    assert from_api_error(400, None, "API key not valid. Please pass a valid API key.", None, "m").kind is ErrorKind.AUTH
