"""The request's `contents` as gemchat sends them: built from the stored messages, sent as the API's JSON."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from gemchat.core.gemini.parts import visible_text
from gemchat.core.messages import Message, Role, Status


def sent_messages(history: Sequence[Message]) -> list[Message]:
    """The messages a request carries: failed answers and empty texts are left out."""
    return [
        m for m in history
        if not (m.status in (Status.ERROR, Status.STREAMING) and m.role is Role.MODEL)
        and (m.text.strip() or m.attachments)
    ]


def build_contents(history: Sequence[Message], follow_up: str | None = None,
                   media: Mapping[str, dict[str, Any]] | None = None, model: str | None = None,
                   ) -> list[dict[str, Any]]:
    """The `contents` of a request, from the chat's stored messages.

    Failed answers and empty texts are left out: the model should not see its
    own error placeholders. Answers the user stopped are kept, since the user
    read them. Consecutive messages of one role (a question re-sent after a
    failure) are joined, so roles alternate as the API expects. A question's
    attachments go before its text (Google's advice for media prompts), as
    the parts `media` holds for their SHA-256: inline data or a file reference.
    An answer `model` wrote goes back as the parts it came in, thought
    signatures included (`replayed_parts`); others as their text.
    """
    contents: list[dict[str, Any]] = []
    for message in sent_messages(history):
        parts: list[dict[str, Any]] = []
        if message.role is Role.USER and media is not None:
            parts += [media[a.sha256] for a in message.attachments if a.sha256 in media]
        if (replayed := replayed_parts(message, model, media)) is not None:
            parts += replayed
        elif message.text.strip():
            parts.append({"text": utf8(message.text)})
        if not parts:
            continue
        if contents and contents[-1]["role"] == message.role.value:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": message.role.value, "parts": parts})
    if follow_up:
        contents.append({"role": Role.USER.value, "parts": [{"text": utf8(follow_up)}]})
    return contents


def replayed_parts(message: Message, model: str | None,
                   media: Mapping[str, dict[str, Any]] | None = None) -> list[dict[str, Any]] | None:
    """The answer's parts as Gemini sent them, to send back; None to send its text instead.

    Only to the model that wrote them: a thought signature means nothing to
    another model. And only while they still say what the user read (a
    continued or recovered answer whose parts cover less falls back to text),
    with every picture in them at hand in `media` (by SHA-256), so that "make
    the sky darker" edits the picture just made.
    """
    if message.role is not Role.MODEL or not message.gemini_parts or model is None:
        return None
    if message.answered_by != model or visible_text(message.gemini_parts) != message.text:
        return None
    parts: list[dict[str, Any]] = []
    for part in message.gemini_parts:
        picture = part.get("inlineData")
        if isinstance(picture, dict) and "sha256" in picture:
            found = (media or {}).get(str(picture["sha256"]))
            if found is None:
                return None
            parts.append({"media": found, "thoughtSignature": part.get("thoughtSignature")})
        else:
            parts.append({"raw": part})
    return parts


def wire_contents(contents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """`build_contents`' output as the REST API's JSON (camelCase keys, file bytes in base64).

    The SDK turns each message of a request into pydantic models and back, about
    135 µs a message, on the event loop (the UI thread): 270 ms of frozen window
    on every send in a 2,000-message chat. Sent as this JSON instead (see
    `gemchat.core.gemini.stream`), the history costs nothing there; this runs on
    a worker thread.
    """
    def part(p: Mapping[str, Any]) -> dict[str, Any]:
        if "raw" in p:  # an answer's part as Gemini sent it: already the API's JSON
            return dict(p["raw"])
        if "media" in p:  # a picture of an answer: its bytes (or upload), with the signature it came with
            sent = part(p["media"])
            if p.get("thoughtSignature"):
                sent["thoughtSignature"] = p["thoughtSignature"]
            return sent
        if "inline_data" in p:
            data = p["inline_data"]
            return {"inlineData": {"mimeType": data["mime_type"], "data": base64.b64encode(data["data"]).decode("ascii")}}
        if "file_data" in p:
            ref = p["file_data"]
            return {"fileData": {"mimeType": ref["mime_type"], "fileUri": ref["file_uri"]}}
        return {"text": p["text"]}

    return [{"role": c["role"], "parts": [part(p) for p in c["parts"]]} for c in contents]


def utf8(text: str) -> str:
    """Text that can be encoded as UTF-8: lone surrogates (a clipboard can hand them over) become U+FFFD.

    A request is built from whatever a caller passes, not only from stored
    (already cleaned) messages, and one bad character must not crash the send.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def enum_name(value: Any) -> str:
    """An SDK enum (a finish reason, a file's state) as the API's name for it; a plain string as is."""
    return str(getattr(value, "value", value))
