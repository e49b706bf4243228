"""An answer's parts as Gemini sent them, gathered from its stream, to be sent back as they came.

Gemini 3 attaches a `thoughtSignature` (its reasoning, encrypted) to parts of
an answer, in a stream often to a last part with empty text, and wants it back
unchanged, in the same place, in the next turn's history
(ai.google.dev/gemini-api/docs/thought-signatures). google-genai's own chat
keeps every chunk's content as it came. Here consecutive plain text of one
kind (answer or thought) is joined, which the API reads the same way and which
keeps a long answer from becoming thousands of parts; any part with anything
else on it (a signature, code, a function call, an image) is kept whole, in order.
"""

from __future__ import annotations

import base64
from typing import Any

from gemchat.core.messages import ModelImage

_PLAIN = frozenset({"text", "thought"})


def wire_part(part: Any) -> dict[str, Any]:
    """An SDK `Part` as the API's JSON (camelCase; bytes, signatures included, in base64)."""
    dumped: dict[str, Any] = part.model_dump(mode="json", by_alias=True, exclude_none=True)
    return dumped


def image_reference(image: ModelImage, signature: bytes | None = None) -> dict[str, Any]:
    """A picture's part as gemchat keeps it: its bytes by SHA-256 in the attachment store, not in the database.

    `{"inlineData": {"mimeType", "sha256"}}`, with the part's signature; the
    bytes are put back when the part is sent (`gemchat.core.gemini.wire`).
    """
    part: dict[str, Any] = {"inlineData": {"mimeType": image.mime_type, "sha256": image.sha256}}
    if signature:
        part["thoughtSignature"] = base64.b64encode(signature).decode("ascii")
    return part


def _plain_text(part: dict[str, Any]) -> bool:
    return "text" in part and set(part) <= _PLAIN


class AnswerParts:
    """The parts of one answer so far, in the order they came."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Any]] = []

    def add(self, part: dict[str, Any]) -> None:
        if not part:
            return
        last = self.parts[-1] if self.parts else None
        if (last is not None and _plain_text(last) and _plain_text(part)
                and bool(last.get("thought")) == bool(part.get("thought"))):
            last["text"] += part["text"]
        else:
            self.parts.append(dict(part))


_OUTCOMES = {
    "OUTCOME_FAILED": "The code failed:",
    "OUTCOME_DEADLINE_EXCEEDED": "The code ran out of time:",
}


def answer_text(part: dict[str, Any]) -> str:
    """What a part adds to the answer's Markdown: its text, or code execution as fenced blocks.

    Gemini's code execution sends the code it ran (`executableCode`) and what
    came of it (`codeExecutionResult`) as parts of their own: they are shown as
    a code block labelled with its language, then an `output` block, with a line
    before it when the code failed or ran out of time. Thoughts add nothing here.
    """
    if part.get("thought"):
        return ""
    if isinstance(part.get("text"), str):
        return str(part["text"])
    code = part.get("executableCode")
    if isinstance(code, dict):
        language = str(code.get("language") or "").lower().replace("language_unspecified", "")
        return f"\n\n```{language}\n{str(code.get('code') or '').rstrip()}\n```\n\n"
    result = part.get("codeExecutionResult")
    if isinstance(result, dict):
        before = _OUTCOMES.get(str(result.get("outcome") or ""), "")
        output = str(result.get("output") or "").rstrip() or "(no output)"
        return (f"\n\n{before}" if before else "") + f"\n\n```output\n{output}\n```\n\n"
    return ""


def visible_text(parts: list[dict[str, Any]]) -> str:
    """The answer's text as the user reads it, from its parts (see `answer_text`)."""
    return "".join(answer_text(p) for p in parts)
