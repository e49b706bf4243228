"""The context meter's numbers: how many tokens the chat's next request starts with.

The meter under the composer shows them; these pin what it counts from Gemini's
own reports and what it can only estimate.
"""

from __future__ import annotations

from gemchat.core.context import MEDIA_TOKENS_GUESS, chat_tokens, estimate_tokens, thinking_tokens
from gemchat.core.messages import Attachment, Message, Role, Status


def message(role: Role, text: str, status: Status = Status.COMPLETE, usage: dict | None = None,
            files: int = 0) -> Message:
    attachments = [Attachment(f"{n:064x}", f"photo{n}.png", "image/png", 10) for n in range(files)]
    return Message(0, 1, role, text, status, "2025-01-01T00:00:00.000Z", usage=usage, attachments=attachments)


def test_typed_text_is_guessed_at_four_characters_a_token_rounded_up() -> None:
    assert [estimate_tokens("x" * n) for n in (0, 1, 4, 5, 8, 9)] == [0, 1, 1, 2, 2, 3]


def test_the_meter_counts_from_the_last_answer_gemini_reported_on_plus_what_came_after() -> None:
    reported = {"prompt_token_count": 300, "candidates_token_count": 20}  # not what estimates would give
    chat = [
        message(Role.USER, "x" * 400),  # before the reported answer: already in its prompt count
        message(Role.MODEL, "y" * 80, usage=reported),
        message(Role.USER, "z" * 40),  # a question whose answer failed
        message(Role.MODEL, "never counted: failed", Status.ERROR),
        message(Role.USER, "w" * 8, files=2),
    ]
    assert chat_tokens(chat) == 300 + 20 + 10 + 2 + 2 * MEDIA_TOKENS_GUESS


def test_the_newest_report_wins_over_an_older_one() -> None:
    chat = [
        message(Role.USER, "q"),
        message(Role.MODEL, "a", usage={"prompt_token_count": 5, "candidates_token_count": 5}),
        message(Role.USER, "q"),
        message(Role.MODEL, "a", usage={"prompt_token_count": 50, "candidates_token_count": 7}),
    ]
    assert chat_tokens(chat) == 57


def test_reports_in_the_apis_camel_case_count_as_well() -> None:
    chat = [message(Role.USER, "q"), message(Role.MODEL, "a", usage={"promptTokenCount": 30,
                                                                        "candidatesTokenCount": 4})]
    assert chat_tokens(chat) == 34


def test_without_any_report_every_message_is_estimated_but_answers_still_arriving_or_failed() -> None:
    chat = [
        message(Role.USER, "x" * 12),
        message(Role.MODEL, "y" * 20, Status.INTERRUPTED),
        message(Role.USER, "z" * 4),
        message(Role.MODEL, "streaming so far", Status.STREAMING),
    ]
    assert chat_tokens(chat) == 3 + 5 + 1
    assert chat_tokens([]) == 0


def test_a_question_is_never_taken_for_a_report_even_with_usage() -> None:
    chat = [message(Role.USER, "x" * 8, usage={"prompt_token_count": 1000})]
    assert chat_tokens(chat) == 2


def test_thinking_tokens_come_from_the_report_and_are_zero_when_it_says_nothing() -> None:
    assert thinking_tokens({"thoughts_token_count": 12}) == 12
    assert thinking_tokens({"thoughtsTokenCount": 7}) == 7
    assert thinking_tokens({"thoughts_token_count": "12"}) == 0  # not a number: not shown
    assert thinking_tokens({}) == 0
    assert thinking_tokens(None) == 0
