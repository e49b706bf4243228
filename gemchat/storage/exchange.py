"""Export and import: the chats as JSON (lossless) or Markdown (for reading).

The JSON shape is a contract with scripts and with `gemchat import`:
a list of chats, oldest first, each
`{"id", "title", "created_at", "model", "system_instruction", "messages": [...]}`
and each message `{"role", "text", "status", "error", "created_at"}`.
An import is checked whole before anything is written, then written in one
transaction, so a bad file never leaves half its chats behind.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from gemchat.core.messages import Chat, Message, Role, Status, utc_now
from gemchat.storage.errors import ImportFormatError
from gemchat.storage.store import ChatStore

_ROLES = {r.value for r in Role}
_STATUSES = {s.value for s in Status}


def chat_to_dict(chat: Chat, messages: list[Message]) -> dict[str, Any]:
    return {
        "id": chat.id,
        "title": chat.title,
        "created_at": chat.created_at,
        "model": chat.model,
        "system_instruction": chat.system_instruction,
        "messages": [
            {
                "role": m.role.value,
                "text": m.text,
                "status": m.status.value,
                "error": m.error if m.status is Status.ERROR else None,
                "created_at": m.created_at,
            }
            for m in messages
        ],
    }


def export_json(store: ChatStore, chat_id: int | None = None) -> str:
    """Every chat (or one) as JSON; raises LookupError for an unknown id."""
    chats = [chat_to_dict(chat, messages) for chat, messages in store.iter_chats(chat_id)]
    return json.dumps(chats, ensure_ascii=False, indent=2)


def chat_to_markdown(chat: Chat, messages: list[Message]) -> str:
    lines = [f"# {chat.title or 'New chat'}", "", f"*{chat.model} · {chat.created_at}*", ""]
    if chat.system_instruction:
        lines += ["> **System instruction:** " + chat.system_instruction.replace("\n", "\n> "), ""]
    for message in messages:
        lines += [f"### {'You' if message.role is Role.USER else 'Gemini'}", "", message.text, ""]
        if message.status is Status.INTERRUPTED:
            lines += ["*(stopped before the end)*", ""]
        elif message.status is Status.ERROR:
            lines += [f"*(failed: {message.error or 'unknown error'})*", ""]
    return "\n".join(lines)


def export_markdown(store: ChatStore, chat_id: int | None = None) -> str:
    return "\n---\n\n".join(chat_to_markdown(chat, messages) for chat, messages in store.iter_chats(chat_id))


def import_json(store: ChatStore, text: str) -> list[int]:
    """Adds the chats of an export file; returns their new ids. Raises `ImportFormatError`."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ImportFormatError(f"not JSON: {exc}") from exc
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ImportFormatError("expected a list of chats")
    parsed = [_parse_chat(raw, n) for n, raw in enumerate(data, 1)]
    return store.import_chats(parsed)


def _parse_chat(raw: Any, n: int) -> tuple[Chat, list[Message]]:
    where = f"chat {n}"
    if not isinstance(raw, dict):
        raise ImportFormatError(f"{where}: expected an object, found {type(raw).__name__}")
    title = _string(raw, "title", where, default="")
    model = _string(raw, "model", where)
    if not model.strip():
        raise ImportFormatError(f"{where}: \"model\" is empty")
    created = _timestamp(raw, "created_at", where)
    system = raw.get("system_instruction")
    if system is not None and not isinstance(system, str):
        raise ImportFormatError(f"{where}: \"system_instruction\" must be text or null")
    raw_messages = raw.get("messages", [])
    if not isinstance(raw_messages, list):
        raise ImportFormatError(f"{where}: \"messages\" must be a list")
    messages = [_parse_message(m, f"{where}, message {k}") for k, m in enumerate(raw_messages, 1)]
    updated = max([created, *(m.created_at for m in messages)])
    return Chat(0, title, created, updated, model, system or None), messages


def _parse_message(raw: Any, where: str) -> Message:
    if not isinstance(raw, dict):
        raise ImportFormatError(f"{where}: expected an object, found {type(raw).__name__}")
    role = raw.get("role")
    if role not in _ROLES:
        raise ImportFormatError(f"{where}: \"role\" must be \"user\" or \"model\", not {json.dumps(role)}")
    text = _string(raw, "text", where)
    status = raw.get("status", "complete")
    if status not in _STATUSES:
        raise ImportFormatError(
            f"{where}: \"status\" must be one of {', '.join(sorted(_STATUSES))}, not {json.dumps(status)}")
    if status == Status.STREAMING:
        status = Status.INTERRUPTED.value  # nothing is streaming into an imported chat
    error = raw.get("error")
    if error is not None and not isinstance(error, str):
        raise ImportFormatError(f"{where}: \"error\" must be text or null")
    return Message(0, 0, Role(role), text, Status(status), _timestamp(raw, "created_at", where),
                   error if status == Status.ERROR else None)


def _string(raw: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str):
        found = "missing" if key not in raw else f"a {type(value).__name__}"
        raise ImportFormatError(f"{where}: \"{key}\" must be text, found {found}")
    return value


def _timestamp(raw: dict[str, Any], key: str, where: str) -> str:
    """ISO 8601 timestamps, normalised to gemchat's UTC form; missing means now."""
    value = raw.get(key)
    if value is None:
        return utc_now()
    if not isinstance(value, str):
        raise ImportFormatError(f"{where}: \"{key}\" must be an ISO 8601 time")
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ImportFormatError(f"{where}: \"{key}\" is not an ISO 8601 time: {value!r}") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
