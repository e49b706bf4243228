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
