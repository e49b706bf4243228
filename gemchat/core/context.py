"""How much of a model's context window a chat uses, from what Gemini already reported.

Counting the whole chat again before every keystroke would cost a request of
the chat's size each time. Gemini reports, with every answer, how many tokens
the prompt had (`promptTokenCount`) and how many the answer added
(`candidatesTokenCount`); the next request is those plus what is typed since.
Thoughts are not sent back, so their tokens are not counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from gemchat.core.message_labels import Role, Status

if TYPE_CHECKING:
    from gemchat.core.messages import Message

MEDIA_TOKENS_GUESS = 258
"""What Gemini counts for an image (and per page of a PDF); the guess for a file not yet counted."""


def estimate_tokens(text: str) -> int:
    """About four characters a token: the guess shown until `countTokens` answers."""
    return (len(text) + 3) // 4


def _count(usage: Mapping[str, Any], snake: str) -> int:
    head, *rest = snake.split("_")
    value = usage.get(snake, usage.get(head + "".join(w.capitalize() for w in rest)))
    return value if isinstance(value, int) else 0


def thinking_tokens(usage: Mapping[str, Any] | None) -> int:
    """Tokens an answer spent thinking (`thoughtsTokenCount`), 0 when it did not say."""
    return _count(usage or {}, "thoughts_token_count")


def chat_tokens(messages: Sequence[Message]) -> int:
    """Tokens the chat's next request starts with (before what is being typed).

    The newest answer with usage gives its prompt plus its answer; messages
    after it (a question whose answer failed) are estimated.
    """
    total = 0
    start = 0
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.role is Role.MODEL and message.usage:
            total = _count(message.usage, "prompt_token_count") + _count(message.usage, "candidates_token_count")
            start = index + 1
            break
    for message in messages[start:]:
        if message.role is Role.MODEL and message.status in (Status.ERROR, Status.STREAMING):
            continue
        total += estimate_tokens(message.text) + MEDIA_TOKENS_GUESS * len(message.attachments)
    return total
