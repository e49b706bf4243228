"""Export and import: the chats as JSON (lossless) or Markdown (for reading).

The JSON shape is a contract with scripts and with `gemchat import`:
a list of chats, oldest first, each
`{"id", "title", "created_at", "model", "system_instruction", "google_search", "messages": [...]}`
(and `"code_execution": true`, `"url_context": true` for a chat with those tools on,
`"thinking_level"` for a chat with its own, `"image_options"` for one with options for an image model,
`"pinned": true` for a pinned one, `"folder"` with the name of the folder it is in)
and each message `{"role", "text", "status", "error", "created_at", "attachments", "grounding",
"thoughts"}`; `attachments` is a list of `{"name", "mime_type", "sha256", "size"}`. An answer
whose parts gemchat kept also has `"gemini_parts"` (the API's JSON, thought signatures
included) and `"answered_by"` (the model that wrote it), so an imported chat goes on as it was.
An answer's `attachments` are pictures Gemini made.

The attached files themselves travel beside the JSON: an export to
`chats.json` writes them to the folder `chats.attachments/`, each named by its
SHA-256. An import looks for each file there, then beside the JSON, then in
gemchat's own attachment folder, and checks its hash.

An import is checked whole before anything is written (every file found
too), then written in one transaction, so a bad file never leaves half its
chats behind. A chat's `"folder"` goes into the folder of that name, the same
name in other capitals too, which is made if there is none: an export brought
back into the data directory it came from fills the folders it has.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path
from typing import Any

from gemchat.core.attachments import SUPPORTED_TYPES
from gemchat.core.image_models import ASPECT_RATIOS, IMAGE_SIZES, ImageOptions
from gemchat.core.messages import Attachment, Chat, Message, Role, Status, utc_now
from gemchat.files import write_atomically
from gemchat.storage.attachment_files import AttachmentFiles
from gemchat.storage.errors import ImportFormatError
from gemchat.storage.store import ChatStore

_SHA256 = re.compile(r"[0-9a-f]{64}")

_ROLES = {r.value for r in Role}
_THINKING_LEVELS = frozenset({"", "default", "minimal", "low", "medium", "high"})
_STATUSES = {s.value for s in Status}


def chat_to_dict(chat: Chat, messages: list[Message], folder: str | None = None) -> dict[str, Any]:
    """`folder`: the name of the folder the chat is in, if any."""
    return {
        "id": chat.id,
        "title": chat.title,
        "created_at": chat.created_at,
        "model": chat.model,
        "system_instruction": chat.system_instruction,
        "google_search": chat.google_search,
        **{tool: True for tool in ("code_execution", "url_context") if getattr(chat, tool)},
        **({"thinking_level": chat.thinking_level} if chat.thinking_level else {}),
        **({"image_options": chat.image_options.to_json()} if chat.image_options.to_json() else {}),
        **({"pinned": True} if chat.pinned else {}),
        **({"folder": folder} if folder is not None else {}),
        "messages": [
            {
                "role": m.role.value,
                "text": m.text,
                "status": m.status.value,
                "error": m.error if m.status is Status.ERROR else None,
                "created_at": m.created_at,
                "attachments": [
                    {"name": a.name, "mime_type": a.mime_type, "sha256": a.sha256, "size": a.size}
                    for a in m.attachments
                ],
                "grounding": m.grounding,
                "thoughts": m.thoughts,
                **({"gemini_parts": m.gemini_parts, "answered_by": m.answered_by} if m.gemini_parts else {}),
            }
            for m in messages
        ],
    }


def export_json(store: ChatStore, chat_id: int | None = None) -> str:
    """Every chat (or one) as JSON; raises LookupError for an unknown id."""
    names = _folder_names(store)
    chats = [chat_to_dict(chat, messages, names.get(chat.folder_id)) for chat, messages in store.iter_chats(chat_id)]
    return json.dumps(chats, ensure_ascii=False, indent=2)


def _folder_names(store: ChatStore) -> dict[int | None, str]:
    return {folder.id: folder.name for folder in store.folders.list()}


def attachments_folder(json_path: Path) -> Path:
    """Where the files of an export to `json_path` go: `chats.json` -> `chats.attachments/`."""
    return json_path.with_name(json_path.stem + ".attachments")


def export_bundle(store: ChatStore, files: AttachmentFiles, json_path: Path, chat_id: int | None = None) -> int:
    """Writes the JSON export and, beside it, the files its messages carry; returns how many files.

    Files missing from the data directory (deleted by hand) are left out; the
    JSON still names them, and importing it says which one is missing.
    """
    text = export_json(store, chat_id)
    needed = {a["sha256"] for chat in json.loads(text) for m in chat["messages"] for a in m["attachments"]}
    copied = 0
    if needed:
        folder = attachments_folder(json_path)
        folder.mkdir(parents=True, exist_ok=True)
        for sha256 in sorted(needed):
            if files.has(sha256) and not (folder / sha256).exists():
                shutil.copyfile(files.path(sha256), folder / sha256)
                copied += 1
    write_atomically(json_path, text + "\n")
    return copied


def chat_to_markdown(chat: Chat, messages: list[Message], folder: str | None = None) -> str:
    lines = [f"# {chat.title or 'New chat'}", "",
             f"*{chat.model} · {chat.created_at}{f' · in {_md_escape(folder)}' if folder else ''}*", ""]
    if chat.system_instruction:
        lines += ["> **System instruction:** " + chat.system_instruction.replace("\n", "\n> "), ""]
    for message in messages:
        lines += [f"### {'You' if message.role is Role.USER else 'Gemini'}", "", message.text, ""]
        for attachment in message.attachments:
            lines += [f"*Attached: {_md_escape(attachment.name)} ({attachment.mime_type}, {attachment.size:,} bytes)*", ""]
        if message.grounding:
            from gemchat.core.grounding import sources

            found = sources(message.grounding)
            if found:
                lines += ["Sources:", ""] + [
                    f"{s.number}. [{_md_escape(s.title)}](<{s.uri}>)" if s.linkable else f"{s.number}. {_md_escape(s.title)}"
                    for s in found
                ] + [""]
        if message.status is Status.INTERRUPTED:
            lines += ["*(stopped before the end)*", ""]
        elif message.status is Status.ERROR:
            lines += [f"*(failed: {message.error or 'unknown error'})*", ""]
    return "\n".join(lines)


def export_markdown(store: ChatStore, chat_id: int | None = None) -> str:
    names = _folder_names(store)
    return "\n---\n\n".join(chat_to_markdown(chat, messages, names.get(chat.folder_id))
                             for chat, messages in store.iter_chats(chat_id))


def _md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", " ".join(text.split()))


def import_json(store: ChatStore, text: str, files: AttachmentFiles | None = None,
                json_path: Path | None = None) -> list[int]:
    """Adds the chats of an export file; returns their new ids. Raises `ImportFormatError`.

    Attached files are looked for beside `json_path` (see `attachments_folder`)
    and copied into `files` before any chat is written.
    """
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ImportFormatError(f"not JSON: {exc}") from exc
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ImportFormatError("expected a list of chats")
    parsed = [_parse_chat(raw, n) for n, raw in enumerate(data, 1)]
    folders = [_folder_of(raw, n) for n, raw in enumerate(data, 1)]
    _bring_files(parsed, files, json_path)
    return store.import_chats(parsed, folders)


def _folder_of(raw: dict[str, Any], n: int) -> str | None:
    """The name of the folder a chat of the file was in (checked: `_parse_chat` took the rest)."""
    folder = raw.get("folder")
    if folder is not None and (not isinstance(folder, str) or not folder.strip()):
        raise ImportFormatError(f"chat {n}: \"folder\" must be a folder's name, or left out")
    return folder


def _bring_files(chats: list[tuple[Chat, list[Message]]], files: AttachmentFiles | None,
                 json_path: Path | None) -> None:
    """Finds every attached file (all of them, or raises) and copies it into the attachment folder."""
    wanted: dict[str, str] = {}  # sha256 -> where it is named, for the message
    for n, (_chat, messages) in enumerate(chats, 1):
        for k, message in enumerate(messages, 1):
            for attachment in message.attachments:
                wanted.setdefault(attachment.sha256, f"chat {n}, message {k}: {attachment.name}")
    if not wanted:
        return
    if files is None:
        raise ImportFormatError("this import carries attached files, and there is nowhere to keep them")
    places = [] if json_path is None else [attachments_folder(json_path), json_path.parent]
    found: dict[str, Path | None] = {}
    for sha256, where in wanted.items():
        source = next((folder / sha256 for folder in places if (folder / sha256).is_file()), None)
        if source is None and not files.has(sha256):
            folder = attachments_folder(json_path).name if json_path is not None else "the attachments folder"
            raise ImportFormatError(f"{where}: the file {sha256} is not in {folder} beside the JSON")
        found[sha256] = source
    for sha256, source in found.items():
        if source is None:
            continue  # already kept
        try:
            files.add_verified(source, sha256)
        except ValueError as exc:
            raise ImportFormatError(f"{wanted[sha256]}: {exc}") from exc
        except OSError as exc:
            raise ImportFormatError(f"{wanted[sha256]}: {source} could not be copied into gemchat's "
                                    f"attachments ({exc})") from exc


def _parse_chat(raw: Any, n: int) -> tuple[Chat, list[Message]]:
    where = f"chat {n}"
    if not isinstance(raw, dict):
        raise ImportFormatError(f"{where}: expected an object, found {_json_kind(raw)}")
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
    tools = {}
    for tool in ("google_search", "code_execution", "url_context", "pinned"):
        tools[tool] = raw.get(tool, False)
        if not isinstance(tools[tool], bool):
            raise ImportFormatError(f"{where}: \"{tool}\" must be true or false")
    thinking = raw.get("thinking_level", "")
    if thinking not in _THINKING_LEVELS:
        raise ImportFormatError(f"{where}: \"thinking_level\" must be one of "
                                f"{', '.join(sorted(level for level in _THINKING_LEVELS if level))}, or left out")
    image = raw.get("image_options", {})
    if not isinstance(image, dict) or ImageOptions.from_json(image).to_json() != image:
        raise ImportFormatError(f"{where}: \"image_options\" must be an object with \"aspect_ratio\" (one of "
                                f"{', '.join(ASPECT_RATIOS)}), \"image_size\" (one of {', '.join(IMAGE_SIZES)}) "
                                "and \"pictures_only\": true, each optional")
    return Chat(0, title, created, updated, model, system or None, **tools, thinking_level=thinking,
                image_options=ImageOptions.from_json(image)), messages


def _parse_message(raw: Any, where: str) -> Message:
    if not isinstance(raw, dict):
        raise ImportFormatError(f"{where}: expected an object, found {_json_kind(raw)}")
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
    grounding = raw.get("grounding")
    if grounding is not None and not isinstance(grounding, dict):
        raise ImportFormatError(f"{where}: \"grounding\" must be an object or null")
    thoughts = raw.get("thoughts") or ""
    if not isinstance(thoughts, str):
        raise ImportFormatError(f"{where}: \"thoughts\" must be text")
    attachments = _parse_attachments(raw.get("attachments") or [], where)
    if role != Role.USER and any(not a.mime_type.startswith("image/") for a in attachments):
        raise ImportFormatError(f"{where}: an answer (\"role\": \"model\") carries only pictures")
    parts = raw.get("gemini_parts")
    if parts is not None and not (isinstance(parts, list) and all(isinstance(p, dict) for p in parts)):
        raise ImportFormatError(f"{where}: \"gemini_parts\" must be a list of objects or null")
    if parts and role != Role.MODEL:
        raise ImportFormatError(f"{where}: only answers (\"role\": \"model\") carry \"gemini_parts\"")
    answered_by = raw.get("answered_by")
    if answered_by is not None and not isinstance(answered_by, str):
        raise ImportFormatError(f"{where}: \"answered_by\" must be text or null")
    return Message(0, 0, Role(role), text, Status(status), _timestamp(raw, "created_at", where),
                   error if status == Status.ERROR else None, attachments=attachments,
                   grounding=grounding or None, thoughts=thoughts, gemini_parts=parts or None,
                   answered_by=answered_by if parts else None)


def _parse_attachments(raw: Any, where: str) -> list[Attachment]:
    if not isinstance(raw, list):
        raise ImportFormatError(f"{where}: \"attachments\" must be a list")
    found = []
    for n, item in enumerate(raw, 1):
        here = f"{where}, attachment {n}"
        if not isinstance(item, dict):
            raise ImportFormatError(f"{here}: expected an object")
        sha256 = item.get("sha256")
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise ImportFormatError(f"{here}: \"sha256\" must be 64 lowercase hex digits")
        name = _string(item, "name", here)
        mime_type = _string(item, "mime_type", here)
        if mime_type not in SUPPORTED_TYPES:
            raise ImportFormatError(f"{here}: Gemini cannot read {json.dumps(mime_type)} files")
        size = item.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ImportFormatError(f"{here}: \"size\" must be a number of bytes")
        found.append(Attachment(sha256, name or "file", mime_type, size))
    return found


def _string(raw: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str):
        found = "missing" if key not in raw else _json_kind(value)
        raise ImportFormatError(f"{where}: \"{key}\" must be text, found {found}")
    return value


def _json_kind(value: Any) -> str:
    """What a JSON value is, in the words of someone reading the file."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


def _timestamp(raw: dict[str, Any], key: str, where: str) -> str:
    """ISO 8601 timestamps, normalised to gemchat's UTC form; missing means now."""
    value = raw.get(key)
    if value is None:
        return utc_now()
    if not isinstance(value, str):
        raise ImportFormatError(f"{where}: \"{key}\" must be an ISO 8601 time")
    try:
        when = dt.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError as exc:
        raise ImportFormatError(f"{where}: \"{key}\" is not an ISO 8601 time: {value!r}") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
