"""A loopback stand-in for Google's Gemini REST API (v1beta), for tests and manual runs.

The real `google-genai` SDK talks to it unchanged (point `HttpOptions.base_url`
at `FakeGemini.base_url`), so the app's whole network path, HTTP client
included, is exercised without the internet. Faults are injected at the wire
level (slow first byte, abrupt close, stall, broken event, Google's error
bodies) because that is where the real service fails, and the SDK's own
reaction to them is part of what the app must cope with.

Stdlib only, so it runs anywhere the tests run. It binds 127.0.0.1 and never
makes an outgoing connection.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as _dt
import hashlib
import json
import re
import secrets
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "MODELS",
    "FakeFile",
    "FakeGemini",
    "RecordedRequest",
    "Reply",
    "camel_case",
    "decode_bytes",
    "echo_reply",
    "grounding_for",
]

DEFAULT_MODEL_VERSION = "gemini-3.6-flash"
_LOOPBACK = "127.0.0.1"
_API_VERSIONS = ("v1beta", "v1", "v1alpha")
# Every wait in the server is cut into slices this long, so stop() and
# release() are noticed quickly whatever the configured delays are.
_TICK = 0.02
# Upper bound for anything a reply asks the server to wait for.
_MAX_WAIT = 300.0
_MAX_BODY = 32 * 1024 * 1024
# The Gemini API refuses generate requests larger than this (inline data included).
REQUEST_LIMIT_BYTES = 20 * 1024 * 1024
FILE_LIFETIME = _dt.timedelta(hours=48)

RequestKind = Literal["stream", "generate", "count", "list", "get", "upload", "file", "other"]

MODELS: list[dict[str, Any]] = [
    {
        "name": "models/gemini-3.6-flash",
        "version": "3.6",
        "displayName": "Gemini 3.6 Flash",
        "description": "Fast and versatile multimodal model for everyday tasks.",
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"],
        "temperature": 1.0,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2.0,
        "thinking": True,
    },
    {
        "name": "models/gemini-3.6-pro",
        "version": "3.6",
        "displayName": "Gemini 3.6 Pro",
        "description": "Most capable model for complex reasoning and coding.",
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"],
        "temperature": 1.0,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2.0,
        "thinking": True,
    },
    {
        "name": "models/gemini-embedding-001",
        "version": "001",
        "displayName": "Gemini Embedding 001",
        "description": "Obtain a distributed representation of a text.",
        "inputTokenLimit": 2048,
        "outputTokenLimit": 1,
        "supportedGenerationMethods": ["embedContent", "countTextTokens", "countTokens", "asyncBatchEmbedContent"],
    },
]

_FALLBACK_PARAGRAPH = (
    "This is the fake Gemini server talking. It streams this paragraph in small pieces so "
    "that the typing effect, scrolling and the stop button can be tried by hand without a "
    "network. Markdown works too: **bold**, *italic*, `code`, and a list:\n\n"
    "- one\n- two\n- three\n\n"
    "```python\nprint('hello from the fake server')\n```\n"
)


# --------------------------------------------------------------------------- replies


def _split(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _error_body(code: int, status: str, message: str, details: Sequence[dict[str, Any]] | None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = list(details)
    return {"error": error}


@dataclass(frozen=True)
class Reply:
    """One scripted answer to a generate request, built with the class methods.

    A frozen value so a test can enqueue the same Reply twice without the
    server's bookkeeping leaking between uses.
    """

    kind: Literal["text", "blocked", "error"]
    chunks: tuple[str, ...] = ()
    chunk_delay: float = 0.0
    first_byte_delay: float = 0.0
    finish_reason: str | None = "STOP"  # None: the stream ends without one, as a cut proxy stream can
    finish_message: str | None = None  # the service's own words on a finish other than STOP
    signature: str | None = None  # a thoughtSignature (base64), on a last part with empty text, as Gemini 3 streams it
    # Parts streamed after the text chunks, one event each, as the API's JSON: code execution's
    # `executableCode` and `codeExecutionResult`, more text, an `inlineData` image...
    raw_parts: tuple[dict[str, Any], ...] = ()
    url_context: dict[str, Any] | None = None  # `urlContextMetadata`, with the last event
    usage: dict[str, Any] | None = None
    model_version: str = DEFAULT_MODEL_VERSION
    drop_after: int | None = None
    stall_after: int | None = None
    stall_seconds: float = 30.0
    malformed_after: int | None = None
    thoughts: tuple[str, ...] = ()
    grounding: dict[str, Any] | None = None
    block_reason: str = "SAFETY"
    block_reason_message: str | None = None
    status_code: int = 200
    error_json: dict[str, Any] | None = None

    # -- constructors

    @classmethod
    def text(
        cls,
        chunks: list[str] | str,
        *,
        chunk_delay: float = 0.0,
        first_byte_delay: float = 0.0,
        finish_reason: str | None = "STOP",
        finish_message: str | None = None,
        signature: str | None = None,
        raw_parts: list[dict[str, Any]] | None = None,
        url_context: dict[str, Any] | None = None,
        usage: dict[str, Any] | None = None,
        model_version: str = DEFAULT_MODEL_VERSION,
        drop_after: int | None = None,
        stall_after: int | None = None,
        stall_seconds: float = 30.0,
        malformed_after: int | None = None,
        thoughts: list[str] | None = None,
        grounding: dict[str, Any] | None = None,
    ) -> Reply:
        """An answer streamed as `chunks`; the fault options count events, thoughts included.

        `grounding` is a `groundingMetadata` object (camelCase, as on the wire), sent
        with the last event, where the service sends it; see `grounding_for`.
        """
        pieces = _split(chunks, 40) if isinstance(chunks, str) else list(chunks)
        return cls(
            kind="text",
            chunks=tuple(pieces),
            chunk_delay=chunk_delay,
            first_byte_delay=first_byte_delay,
            finish_reason=finish_reason,
            finish_message=finish_message,
            signature=signature,
            raw_parts=tuple(raw_parts or ()),
            url_context=url_context,
            usage=usage,
            model_version=model_version,
            drop_after=drop_after,
            stall_after=stall_after,
            stall_seconds=stall_seconds,
            malformed_after=malformed_after,
            thoughts=tuple(thoughts or ()),
            grounding=grounding,
        )

    @classmethod
    def blocked(cls, block_reason: str = "SAFETY", *, first_byte_delay: float = 0.0,
                message: str | None = None) -> Reply:
        """The prompt itself was refused: promptFeedback and no candidates, as the service does."""
        return cls(kind="blocked", block_reason=block_reason, first_byte_delay=first_byte_delay,
                   block_reason_message=message)

    @classmethod
    def error(
        cls,
        code: int,
        status: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        *,
        first_byte_delay: float = 0.0,
    ) -> Reply:
        """Any error in Google's `{"error": {...}}` shape, sent before any stream starts."""
        return cls(
            kind="error",
            status_code=code,
            error_json=_error_body(code, status, message, details),
            first_byte_delay=first_byte_delay,
        )

    @classmethod
    def invalid_argument(cls, message: str) -> Reply:
        """400 INVALID_ARGUMENT, as Gemini refuses a generation setting a model does not take
        (say "Thinking level MINIMAL is not supported for this model.")."""
        return cls.error(400, "INVALID_ARGUMENT", message)

    @classmethod
    def invalid_key(cls) -> Reply:
        return cls.error(
            400,
            "INVALID_ARGUMENT",
            "API key not valid. Please pass a valid API key.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                },
                {
                    "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                    "locale": "en-US",
                    "message": "API key not valid. Please pass a valid API key.",
                },
            ],
        )

    @classmethod
    def quota(cls, retry_delay: str | None = "2s", *, model: str = DEFAULT_MODEL_VERSION,
              quota_id: str = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
              quota_value: str = "10") -> Reply:
        """429 as the free tier sends it; `retry_delay=None` leaves out the RetryInfo.

        `quota_id` names the quota used up (a per-day one: "GenerateRequestsPerDayPerProjectPerModel-FreeTier");
        `quota_value` "0" is a model the key's tier may not use at all.
        """
        details: list[dict[str, Any]] = [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "quotaId": quota_id,
                        "quotaDimensions": {"location": "global", "model": model},
                        "quotaValue": quota_value,
                    }
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            },
        ]
        if retry_delay is not None:
            details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
        return cls.error(
            429,
            "RESOURCE_EXHAUSTED",
            "You exceeded your current quota, please check your plan and billing details. For more "
            "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
            details,
        )

    @classmethod
    def internal(cls) -> Reply:
        return cls.error(
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting",
        )

    @classmethod
    def unavailable(cls) -> Reply:
        return cls.error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")

    @classmethod
    def model_not_found(cls, model: str) -> Reply:
        name = model if model.startswith("models/") else f"models/{model}"
        return cls.error(
            404,
            "NOT_FOUND",
            f"{name} is not found for API version v1beta, or is not supported for generateContent. "
            "Call ListModels to see the list of available models and their supported methods.",
        )

    @classmethod
    def permission_denied(cls, message: str = "The caller does not have permission") -> Reply:
        return cls.error(403, "PERMISSION_DENIED", message)

    @property
    def full_text(self) -> str:
        return "".join(self.chunks)


# --------------------------------------------------------------------------- requests


@dataclass
class RecordedRequest:
    """What the client sent, kept so tests can assert on the wire payload itself."""

    method: str
    path: str
    model: str | None
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    kind: RequestKind
    received_at: float = field(default_factory=time.monotonic)


def _field(mapping: Any, camel: str) -> Any:
    """A field of a request object: Google's JSON parser takes lowerCamelCase and the proto's snake_case
    (the SDK sends `inlineData` with `mime_type` inside), so the fake reads both."""
    if not isinstance(mapping, dict):
        return None
    if camel in mapping:
        return mapping[camel]
    return mapping.get(re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), camel))


def decode_bytes(text: str) -> bytes:
    """A `bytes` field as Google's JSON parser reads it: standard or URL-safe base64 (the SDK sends
    URL-safe), padding optional. Raises ValueError for anything else."""
    cleaned = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)


def camel_case(value: Any) -> Any:
    """`value` with every key in lowerCamelCase: the one spelling tests compare wire JSON in."""
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): camel_case(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_case(v) for v in value]
    return value


def _text_of_parts(content: Any) -> str:
    if not isinstance(content, dict):
        return ""
    return "".join(p["text"] for p in content.get("parts") or [] if isinstance(p, dict) and isinstance(p.get("text"), str))


def last_user_text(request: RecordedRequest) -> str:
    """The newest user turn's text, which is what an echo reply should repeat."""
    body = request.body if isinstance(request.body, dict) else {}
    for content in reversed(body.get("contents") or []):
        if isinstance(content, dict) and content.get("role", "user") == "user":
            text = _text_of_parts(content)
            if text:
                return text
    return ""


MEDIA_TOKENS = 258  # what Gemini counts for one image; the fake uses it for every media part


def _token_count(text_length: int) -> int:
    return text_length // 4 + 1


def prompt_tokens(body: Any) -> int:
    """A deterministic stand-in for the tokenizer: about four characters a token."""
    if not isinstance(body, dict):
        return 1
    contents = list(body.get("contents") or [])
    generate_request = body.get("generateContentRequest")  # countTokens may wrap the request
    if isinstance(generate_request, dict):
        contents += list(generate_request.get("contents") or [])
    total = sum(len(_text_of_parts(c)) for c in contents)
    total += len(_text_of_parts(body.get("systemInstruction")))
    media = sum(1 for c in contents if isinstance(c, dict) for p in c.get("parts") or []
                if _field(p, "inlineData") is not None or _field(p, "fileData") is not None)
    return _token_count(total) + MEDIA_TOKENS * media


FAKE_SOURCES: tuple[tuple[str, str], ...] = (
    ("https://en.wikipedia.org/wiki/Example", "Example — Wikipedia"),
    ("https://www.example.org/über/straße?q=1&x=<2>", "Ünïcode & <b>escaped</b> title"),
    ("https://docs.example.com/guide", "The example guide"),
)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


def grounding_for(
    text: str,
    sources: Sequence[tuple[str, str]] = FAKE_SOURCES,
    queries: Sequence[str] = ("example query",),
    *,
    entry_point: bool = True,
) -> dict[str, Any]:
    """`groundingMetadata` as Google Search grounding sends it, for `text`.

    Each sentence is a support citing one or two sources in turn. Segment
    indices are byte offsets into the UTF-8 text, and `startIndex` is left out
    when it is 0, as the service's JSON does (proto3 drops zero values).
    """
    chunks = [{"web": {"uri": uri, "title": title}} for uri, title in sources]
    supports: list[dict[str, Any]] = []
    for n, match in enumerate(m for m in _SENTENCE.finditer(text) if m.group().strip()):
        start, end = match.start() + len(match.group()) - len(match.group().lstrip()), match.end()
        segment: dict[str, Any] = {
            "endIndex": len(text[:end].encode("utf-8")),
            "text": text[start:end],
        }
        start_byte = len(text[:start].encode("utf-8"))
        if start_byte:
            segment["startIndex"] = start_byte
        indices = [n % len(chunks)] if n % 2 == 0 or len(chunks) < 2 else [n % len(chunks), (n + 1) % len(chunks)]
        supports.append({"segment": segment, "groundingChunkIndices": indices,
                         "confidenceScores": [0.9] * len(indices)})
    metadata: dict[str, Any] = {
        "webSearchQueries": list(queries),
        "groundingChunks": chunks,
        "groundingSupports": supports,
    }
    if entry_point:
        chips = "".join(f'<a class="chip" href="https://www.google.com/search?q={q}">{q}</a>' for q in queries)
        metadata["searchEntryPoint"] = {
            "renderedContent": "<style>.container { display: flex; } .chip { border-radius: 16px; }</style>"
                               f'<div class="container"><div class="carousel">{chips}</div></div>'
        }
    return metadata


def wants_search(request: RecordedRequest) -> bool:
    """Whether the request enables the `google_search` tool."""
    body = request.body if isinstance(request.body, dict) else {}
    return any(_field(t, "googleSearch") is not None for t in body.get("tools") or [])


def wants_thoughts(request: RecordedRequest) -> bool:
    """Whether the request asks for thought summaries (`thinkingConfig.includeThoughts`)."""
    config = _field(request.body, "generationConfig") or {}
    return bool(_field(_field(config, "thinkingConfig"), "includeThoughts"))


def echo_reply(request: RecordedRequest, *, chunk_size: int = 4, chunk_delay: float = 0.0) -> Reply:
    """The default answer: deterministic and derived from the prompt, so tests can predict it.

    Like the service, it thinks aloud only when thought summaries are asked for,
    and grounds its answer only when the `google_search` tool is on.
    """
    said = last_user_text(request)
    if request.kind == "generate" and said:
        # Non-streaming calls are the app's small side requests (chat titles): answer like one.
        last_line = said.strip().splitlines()[-1]
        return Reply.text([" ".join(last_line.split()[:5]).capitalize()])
    text = f"You said: {said}" if said else _FALLBACK_PARAGRAPH
    attached = attached_parts(request)
    if attached:
        text += " (attached: " + ", ".join(f"{kind} {mime}" for kind, mime in attached) + ")"
    thoughts = None
    if wants_thoughts(request):
        thoughts = ["**Reading the question**\n\nThe user wrote something; I should ",
                    "repeat it back.\n\n", "**Answering**\n\nI will echo it."]
    grounding = None
    if wants_search(request):
        text = f"Searching found this. {text} Sources agree."
        grounding = grounding_for(text, queries=(said[:60] or "example query",))
    return Reply.text(_split(text, chunk_size), chunk_delay=chunk_delay, thoughts=thoughts, grounding=grounding)


def attached_parts(request: RecordedRequest) -> list[tuple[str, str]]:
    """("inline" or "file", MIME type) for each media part of the newest user turn."""
    body = request.body if isinstance(request.body, dict) else {}
    for content in reversed(body.get("contents") or []):
        if isinstance(content, dict) and content.get("role", "user") == "user":
            found = []
            for part in content.get("parts") or []:
                if _field(part, "inlineData") is not None:
                    found.append(("inline", str(_field(_field(part, "inlineData"), "mimeType"))))
                elif _field(part, "fileData") is not None:
                    found.append(("file", str(_field(_field(part, "fileData"), "mimeType"))))
            return found
    return []


# --------------------------------------------------------------------------- HTTP


class _Aborted(Exception):
    """The connection must end now (drop fault, or the server is stopping)."""


_PATH = re.compile(r"^/(?P<version>v1beta|v1|v1alpha)/models(?:/(?P<model>[^/:]+)(?::(?P<action>[A-Za-z]+))?)?/?$")
_UPLOAD_PATH = re.compile(r"^/upload/(?P<version>v1beta|v1|v1alpha)/files/?$")
_FILE_PATH = re.compile(r"^/(?P<version>v1beta|v1|v1alpha)/files/(?P<id>[a-z0-9-]+)/?$")


def _rfc3339(when: _dt.datetime) -> str:
    return when.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class FakeFile:
    """A file held by the fake Files API, as `files.upload` left it."""

    name: str  # "files/abc123"
    uri: str
    mime_type: str
    data: bytes
    display_name: str | None
    created: _dt.datetime
    expires: _dt.datetime
    processing_polls: int = 0  # `files.get` calls still answered with state PROCESSING

    @property
    def state(self) -> str:
        return "PROCESSING" if self.processing_polls > 0 else "ACTIVE"

    def to_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "name": self.name,
            "mimeType": self.mime_type,
            "sizeBytes": str(len(self.data)),
            "createTime": _rfc3339(self.created),
            "updateTime": _rfc3339(self.created),
            "expirationTime": _rfc3339(self.expires),
            "sha256Hash": base64.b64encode(hashlib.sha256(self.data).hexdigest().encode()).decode(),
            "uri": self.uri,
            "state": self.state,
            "source": "UPLOADED",
        }
        if self.display_name:
            found["displayName"] = self.display_name
        return found


@dataclass
class _UploadSession:
    size: int
    mime_type: str
    display_name: str | None
    received: bytearray = field(default_factory=bytearray)


def _file_gone(file_id: str) -> Reply:
    """What the service answers for a file that expired, was deleted or belongs to another project."""
    return Reply.error(403, "PERMISSION_DENIED",
                       f"You do not have permission to access the File {file_id} or it may not exist.")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeGemini

    def process_request(self, request: Any, client_address: Any) -> None:
        # Own thread tracking (ThreadingMixIn keeps none for daemon threads), so
        # stop() can close live connections and join their threads.
        thread = threading.Thread(
            target=self._serve_connection, args=(request, client_address), daemon=True, name="fake-gemini-conn"
        )
        self.fake._track(request, thread)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            self.fake._untrack(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients going away mid-reply is routine in fault tests; keep stderr quiet.
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, _Aborted)) or self.fake._stopping.is_set():
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "scaffolding on HTTPServer2"
    sys_version = ""
    timeout = 120  # an idle keep-alive connection cannot pin a thread forever
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    # -- routing

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        try:
            raw = self._read_body()
            split = urlsplit(self.path)
            match = _PATH.match(split.path)
            model = match["model"] if match else None
            action = match["action"] if match else None
            kind: RequestKind = "other"
            if _UPLOAD_PATH.match(split.path) or _FILE_PATH.match(split.path):
                kind = "upload" if split.path.startswith("/upload/") else "file"
            elif match and method == "GET" and model is None:
                kind = "list"
            elif match and method == "GET" and action is None:
                kind = "get"
            elif match and method == "POST" and model:
                kind = {"streamGenerateContent": "stream", "generateContent": "generate", "countTokens": "count"}.get(
                    action or "", "other"
                )  # type: ignore[assignment]
            try:
                body = json.loads(raw) if raw and kind != "upload" else None
            except ValueError:
                body = None
            if kind == "upload" and "upload_id" not in split.query and raw:
                with contextlib.suppress(ValueError):
                    body = json.loads(raw)
            recorded = RecordedRequest(
                method=method,
                path=split.path,
                model=model,
                query=dict(parse_qsl(split.query, keep_blank_values=True)),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                kind=kind,
            )
            fake._record(recorded)

            if fake.api_key is not None and recorded.headers.get("x-goog-api-key") != fake.api_key \
                    and "upload_id" not in recorded.query:
                self._send_error_reply(Reply.invalid_key())
            elif kind == "upload":
                self._serve_upload(recorded, raw)
            elif kind == "file":
                self._serve_file(recorded, method)
            elif kind in ("stream", "generate"):
                if raw and body is None:
                    self._send_error_reply(Reply.error(400, "INVALID_ARGUMENT", "Invalid JSON payload received."))
                    return
                if len(raw) > REQUEST_LIMIT_BYTES:
                    self._send_error_reply(Reply.error(
                        400, "INVALID_ARGUMENT",
                        f"Request payload size exceeds the limit: {REQUEST_LIMIT_BYTES} bytes."))
                    return
                refusal = fake._check_parts(body)
                if refusal is not None:
                    self._send_error_reply(refusal)
                    return
                reply = fake._next_reply(recorded)
                if kind == "stream":
                    self._serve_stream(reply, recorded)
                else:
                    self._serve_generate(reply, recorded)
            elif kind == "count" and not any(m["name"] == f"models/{model}" for m in fake.models):
                self._send_error_reply(Reply.model_not_found(model or ""))
            elif kind == "count":
                if fake.count_delay:
                    fake._pause(fake.count_delay)
                tokens = prompt_tokens(body) if fake.count_override is None else fake.count_override
                self._send_json(200, {"totalTokens": tokens} if tokens else {})  # proto3 JSON drops a zero
            elif kind == "list":
                self._send_json(200, {"models": [dict(m) for m in fake.models]})
            elif kind == "get":
                found = next((m for m in fake.models if m["name"] == f"models/{model}"), None)
                if found is None:
                    self._send_error_reply(
                        Reply.error(404, "NOT_FOUND", f"models/{model} is not found for API version {match['version']}.")  # type: ignore[index]
                    )
                else:
                    self._send_json(200, dict(found))
            else:
                self._send_error_reply(
                    Reply.error(404, "NOT_FOUND", f"The requested URL {split.path} was not found on this server.")
                )
        except (_Aborted, OSError):
            self._abort()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            size_total = 0
            while size_total <= _MAX_BODY:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline(1024)
                size_total += size
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, _MAX_BODY)) if length > 0 else b""

    # -- the Files API

    def _serve_upload(self, request: RecordedRequest, raw: bytes) -> None:
        """The resumable upload protocol: a start request, then chunks at increasing offsets."""
        fake = self.server.fake
        headers = request.headers
        upload_id = request.query.get("upload_id")
        if upload_id is None:
            fault, fake.upload_fault = fake.upload_fault, None
            if isinstance(fault, Reply):
                self._send_error_reply(fault)
                return
            if fault == "drop":
                raise _Aborted
            if fault == "no upload url":
                self._send_json(200, {})
                return
            if headers.get("x-goog-upload-command", "").strip() != "start":
                self._send_error_reply(Reply.error(400, "INVALID_ARGUMENT", "Upload must start with 'start'."))
                return
            info = _field(request.body, "file") or {}
            session = _UploadSession(
                size=int(headers.get("x-goog-upload-header-content-length") or 0),
                mime_type=headers.get("x-goog-upload-header-content-type") or _field(info, "mimeType") or "",
                display_name=_field(info, "displayName"),
            )
            new_id = fake._start_upload(session)
            url = f"{fake.base_url}/upload/v1beta/files?upload_id={new_id}&upload_protocol=resumable"
            self.send_response(200)
            self.send_header("X-Goog-Upload-URL", url)
            self.send_header("X-Goog-Upload-Status", "active")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        session_or_none = fake._upload_session(upload_id)
        if session_or_none is None:
            self._send_error_reply(Reply.error(404, "NOT_FOUND", "No such upload."))
            return
        session = session_or_none
        command = headers.get("x-goog-upload-command", "")
        offset = int(headers.get("x-goog-upload-offset") or -1)
        if offset != len(session.received):
            self._send_error_reply(Reply.error(400, "INVALID_ARGUMENT",
                                               f"Offset {offset} does not match {len(session.received)}."))
            return
        session.received.extend(raw)
        fake._count_upload_chunk()
        if fake.upload_chunk_delay:
            fake._pause(fake.upload_chunk_delay)
        if "finalize" not in command:
            self.send_response(200)
            self.send_header("X-Goog-Upload-Status", "active")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if len(session.received) != session.size:
            self._send_error_reply(Reply.error(400, "INVALID_ARGUMENT", "Upload size mismatch."))
            return
        stored = fake._finish_upload(upload_id, session)
        data = json.dumps({"file": stored.to_json()}).encode()
        self.send_response(200)
        self.send_header("X-Goog-Upload-Status", "final")
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _serve_file(self, request: RecordedRequest, method: str) -> None:
        fake = self.server.fake
        file_id = request.path.rstrip("/").rsplit("/", 1)[-1]
        found = fake._live_file(f"files/{file_id}")
        if found is None:
            self._send_error_reply(_file_gone(file_id))
        elif method == "DELETE":
            fake._delete_file(found.name)
            self._send_json(200, {})
        else:
            self._send_json(200, fake._poll_file(found))

    # -- plain responses

    def _send_json(self, code: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Vary", "Origin, X-Origin, Referer")
        self.end_headers()
        self.wfile.write(data)

    def _send_error_reply(self, reply: Reply) -> None:
        self.server.fake._pause(reply.first_byte_delay)
        self._send_json(reply.status_code, reply.error_json)

    # -- generate

    def _serve_generate(self, reply: Reply, request: RecordedRequest) -> None:
        """The whole answer as one JSON document; faults are mapped to their unary forms."""
        fake = self.server.fake
        if reply.kind == "error":
            self._send_error_reply(reply)
            return
        fake._pause(reply.first_byte_delay)
        if reply.kind == "blocked":
            self._send_json(200, _blocked_event(reply, request))
            return
        if reply.stall_after is not None:
            fake._stall(reply.stall_seconds)
        payload = _whole_response(reply, request)
        data = b"{not json" if reply.malformed_after is not None else json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if reply.drop_after is not None:
            # Promise the whole body, deliver half: a protocol error, as for streams.
            self.wfile.write(data[: len(data) // 2])
            raise _Aborted
        self.wfile.write(data)

    # -- stream

    def _serve_stream(self, reply: Reply, request: RecordedRequest) -> None:
        fake = self.server.fake
        if reply.kind == "error":
            self._send_error_reply(reply)
            return
        fake._pause(reply.first_byte_delay)
        events = [_blocked_event(reply, request)] if reply.kind == "blocked" else _stream_events(reply, request)

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Disposition", "attachment")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Vary", "Origin, X-Origin, Referer")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.flush()

        for index in range(len(events) + 1):
            if reply.drop_after == index:
                raise _Aborted
            if reply.stall_after == index:
                fake._stall(reply.stall_seconds)
            if reply.malformed_after == index:
                self._write_chunk(b"data: {not json\r\n\r\n")
                break
            if index == len(events):
                break
            if index > 0:
                fake._pause(reply.chunk_delay)
            self._write_chunk(b"data: " + json.dumps(events[index]).encode() + b"\r\n\r\n")
            fake._count_event()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _abort(self) -> None:
        """Ends the connection without a terminating chunk: a truncated body for the client."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass


def _usage(reply: Reply, request: RecordedRequest) -> dict[str, Any]:
    if reply.usage is not None:
        return dict(reply.usage)
    prompt = prompt_tokens(request.body)
    usage: dict[str, Any] = {"promptTokenCount": prompt}
    if reply.kind == "text":
        answer = _token_count(len(reply.full_text))
        usage["candidatesTokenCount"] = answer
        total = prompt + answer
        if reply.thoughts:
            thoughts = _token_count(sum(len(t) for t in reply.thoughts))
            usage["thoughtsTokenCount"] = thoughts
            total += thoughts
        usage["totalTokenCount"] = total
    else:
        usage["totalTokenCount"] = prompt
    usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    return usage


def _response_id() -> str:
    return secrets.token_urlsafe(16)


def _stream_events(reply: Reply, request: RecordedRequest) -> list[dict[str, Any]]:
    response_id = _response_id()

    def event(parts: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "candidates": [{"content": {"parts": parts, "role": "model"}, "index": 0}],
            "modelVersion": reply.model_version,
            "responseId": response_id,
        }

    events = [event([{"text": t, "thought": True}]) for t in reply.thoughts]
    events += [event([{"text": c}]) for c in (reply.chunks or ("",))]
    events += [event([dict(p)]) for p in reply.raw_parts]
    if reply.signature is not None:
        events.append(event([{"text": "", "thoughtSignature": reply.signature}]))
    last = events[-1]
    if reply.finish_reason is not None:
        last["candidates"][0]["finishReason"] = reply.finish_reason
    if reply.finish_message is not None:
        last["candidates"][0]["finishMessage"] = reply.finish_message
    if reply.grounding is not None:
        last["candidates"][0]["groundingMetadata"] = reply.grounding
    if reply.url_context is not None:
        last["candidates"][0]["urlContextMetadata"] = reply.url_context
    last["usageMetadata"] = _usage(reply, request)
    return events


def _whole_response(reply: Reply, request: RecordedRequest) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if reply.thoughts:
        parts.append({"text": "".join(reply.thoughts), "thought": True})
    parts.append({"text": reply.full_text})
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "finishReason": reply.finish_reason,
                                 "index": 0}
    if reply.grounding is not None:
        candidate["groundingMetadata"] = reply.grounding
    return {
        "candidates": [candidate],
        "usageMetadata": _usage(reply, request),
        "modelVersion": reply.model_version,
        "responseId": _response_id(),
    }


def _blocked_event(reply: Reply, request: RecordedRequest) -> dict[str, Any]:
    feedback = {"blockReason": reply.block_reason}
    if reply.block_reason_message is not None:
        feedback["blockReasonMessage"] = reply.block_reason_message
    return {
        "promptFeedback": feedback,
        "usageMetadata": _usage(reply, request),
        "modelVersion": reply.model_version,
        "responseId": _response_id(),
    }


# --------------------------------------------------------------------------- the server


class FakeGemini:
    """The fake service: a ThreadingHTTPServer on 127.0.0.1 in a daemon thread.

    Replies are scripted per test with `enqueue`; when none is queued,
    `default_reply` answers so tests that only care about the app still get a
    predictable echo.
    """

    def __init__(self, api_key: str | None = None, *, port: int = 0) -> None:
        self.api_key = api_key
        self.port = port
        self.models: list[dict[str, Any]] = [dict(m) for m in MODELS]
        self.default_reply: Callable[[RecordedRequest], Reply] = echo_reply
        self._replies: deque[Reply] = deque()
        self._unary_replies: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._cond = threading.Condition()
        self._release_generation = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: dict[Any, threading.Thread] = {}
        self._events_sent = 0
        self.files: dict[str, FakeFile] = {}
        self._uploads: dict[str, _UploadSession] = {}
        self.upload_chunks = 0
        self.upload_chunk_delay = 0.0
        # What the next upload's start request gets instead of an upload URL, once: an error reply (the
        # Files API refusing the file), "drop" (the connection cut), or "no upload url" (a 200 without
        # the URL header, as a proxy in the way may answer).
        self.upload_fault: Reply | Literal["drop", "no upload url"] | None = None
        # countTokens: how long it takes to answer, and a count to answer instead of the stand-in's.
        self.count_delay = 0.0
        self.count_override: int | None = None
        # Video files stay PROCESSING for this many `files.get` calls, as the service keeps them a while.
        self.video_processing_polls = 0

    # -- lifecycle

    def start(self) -> FakeGemini:
        if self._server is not None:
            raise RuntimeError("FakeGemini already started")
        self._stopping.clear()
        server = _Server((_LOOPBACK, self.port), _Handler)
        server.fake = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="fake-gemini"
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Ends stalls, closes every socket and joins the threads, all within `timeout`."""
        server, thread = self._server, self._thread
        if server is None:
            return
        deadline = time.monotonic() + timeout
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        server.shutdown()  # returns within one poll interval
        server.server_close()
        with self._cond:
            live = dict(self._connections)
        for sock in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass
        for conn_thread in [thread, *live.values()]:
            if conn_thread is not None and conn_thread.is_alive():
                conn_thread.join(max(0.0, deadline - time.monotonic()))
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeGemini:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeGemini is not started")
        return f"http://{_LOOPBACK}:{self.port}"

    # -- scripting

    def enqueue(self, reply: Reply, *more: Reply) -> None:
        """Scripts the next streamed answers (`streamGenerateContent`), in order."""
        for item in (reply, *more):
            if not isinstance(item, Reply):
                raise TypeError(f"expected a Reply, got {type(item).__name__}")
        with self._cond:
            self._replies.extend((reply, *more))

    def release(self) -> None:
        """Ends the stalls in progress now; later stalls still stall."""
        with self._cond:
            self._release_generation += 1
            self._cond.notify_all()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._cond:
            return list(self._requests)

    @property
    def pending_replies(self) -> int:
        with self._cond:
            return len(self._replies)

    @property
    def events_sent(self) -> int:
        """Server-sent events written so far, over all streams (what a client may have seen)."""
        with self._cond:
            return self._events_sent

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._requests)} of {n} requests arrived within {timeout}s")
                self._cond.wait(min(left, 0.1))
            return list(self._requests)

    # -- used by the handler

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self._requests.append(request)
            self._cond.notify_all()

    # -- the Files API

    def expire_file(self, name: str) -> None:
        """Makes a stored file expire now (the service deletes files 48 hours after upload)."""
        with self._cond:
            found = self.files.get(name)
            if found is not None:
                found.expires = _dt.datetime.now(_dt.UTC) - _dt.timedelta(seconds=1)

    def uploaded(self) -> list[FakeFile]:
        """Every file uploaded so far, expired or not, oldest first."""
        with self._cond:
            return list(self.files.values())

    def _start_upload(self, session: _UploadSession) -> str:
        upload_id = secrets.token_hex(8)
        with self._cond:
            self._uploads[upload_id] = session
        return upload_id

    def _upload_session(self, upload_id: str) -> _UploadSession | None:
        with self._cond:
            return self._uploads.get(upload_id)

    def _count_upload_chunk(self) -> None:
        with self._cond:
            self.upload_chunks += 1

    def _finish_upload(self, upload_id: str, session: _UploadSession) -> FakeFile:
        now = _dt.datetime.now(_dt.UTC)
        file_id = secrets.token_hex(6)
        stored = FakeFile(
            name=f"files/{file_id}",
            uri=f"{self.base_url}/v1beta/files/{file_id}",
            mime_type=session.mime_type,
            data=bytes(session.received),
            display_name=session.display_name,
            created=now,
            expires=now + FILE_LIFETIME,
            processing_polls=self.video_processing_polls if session.mime_type.startswith("video/") else 0,
        )
        with self._cond:
            self._uploads.pop(upload_id, None)
            self.files[stored.name] = stored
        return stored

    def _live_file(self, name: str) -> FakeFile | None:
        with self._cond:
            found = self.files.get(name)
        if found is None or found.expires <= _dt.datetime.now(_dt.UTC):
            return None
        return found

    def _poll_file(self, found: FakeFile) -> dict[str, Any]:
        with self._cond:
            payload = found.to_json()
            if found.processing_polls > 0:
                found.processing_polls -= 1
        return payload

    def _delete_file(self, name: str) -> None:
        with self._cond:
            self.files.pop(name, None)

    def _check_parts(self, body: Any) -> Reply | None:
        """The service's refusal of a request's media parts, or None when they are fine."""
        if not isinstance(body, dict):
            return None
        for c, content in enumerate(body.get("contents") or []):
            for p, part in enumerate((content or {}).get("parts") or [] if isinstance(content, dict) else []):
                if not isinstance(part, dict):
                    continue
                if _field(part, "inlineData") is not None:
                    inline = _field(part, "inlineData") or {}
                    try:
                        decode_bytes(str(inline.get("data") or ""))
                    except ValueError:
                        return Reply.error(400, "INVALID_ARGUMENT",
                                           f"Invalid value at 'contents[{c}].parts[{p}].inline_data.data' "
                                           "(TYPE_BYTES), Base64 decoding failed")
                    if not _field(inline, "mimeType"):
                        return Reply.error(400, "INVALID_ARGUMENT", "Missing mime type in inline_data.")
                elif _field(part, "fileData") is not None:
                    uri = str(_field(_field(part, "fileData"), "fileUri") or "")
                    file_id = uri.rstrip("/").rsplit("/", 1)[-1]
                    found = self._live_file(f"files/{file_id}")
                    if found is None or not uri.startswith(self.base_url):
                        return _file_gone(file_id)
                    if found.state != "ACTIVE":
                        return Reply.error(400, "FAILED_PRECONDITION",
                                           f"The File {file_id} is not in an ACTIVE state and usage is not allowed.")
        return None

    def enqueue_unary(self, reply: Reply, *more: Reply) -> None:
        """Scripts the answers to plain `generateContent` calls (the app's side requests, like titles).

        Kept apart from `enqueue`, which scripts the streamed answers, so a
        background title request never takes a reply meant for the chat.
        """
        with self._cond:
            self._unary_replies.extend((reply, *more))

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._cond:
            queue = self._replies if request.kind == "stream" else self._unary_replies
            if queue:
                return queue.popleft()
        return self.default_reply(request)

    def _count_event(self) -> None:
        with self._cond:
            self._events_sent += 1

    def _track(self, sock: Any, thread: threading.Thread) -> None:
        with self._cond:
            self._connections[sock] = thread

    def _untrack(self, sock: Any) -> None:
        with self._cond:
            self._connections.pop(sock, None)

    def _pause(self, seconds: float) -> None:
        """Sleeps, but not past stop()."""
        if seconds <= 0:
            return
        if self._stopping.wait(min(seconds, _MAX_WAIT)):
            raise _Aborted

    def _stall(self, seconds: float) -> None:
        """Waits `seconds`, or until release() or stop()."""
        deadline = time.monotonic() + min(max(seconds, 0.0), _MAX_WAIT)
        with self._cond:
            generation = self._release_generation
            while self._release_generation == generation and not self._stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, _TICK * 5))
        if self._stopping.is_set():
            raise _Aborted


# --------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a fake Gemini API on 127.0.0.1 for manual runs.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--chunk-delay", type=float, default=0.03, help="seconds between events")
    parser.add_argument("--chunk-size", type=int, default=12, help="characters per event")
    parser.add_argument("--reply-file", type=Path, help="answer every prompt with this file's text")
    parser.add_argument("--api-key", help="reject requests whose x-goog-api-key differs")
    args = parser.parse_args(argv)

    fixed = args.reply_file.read_text(encoding="utf-8") if args.reply_file else None

    def reply(request: RecordedRequest) -> Reply:
        if fixed is not None and request.kind == "stream":
            # Grounded and thinking like the echo: only when the request asks for it.
            echo = echo_reply(request)
            return Reply.text(_split(fixed, args.chunk_size), chunk_delay=args.chunk_delay,
                              thoughts=list(echo.thoughts) or None,
                              grounding=grounding_for(fixed) if wants_search(request) else None)
        return echo_reply(request, chunk_size=args.chunk_size, chunk_delay=args.chunk_delay)

    server = FakeGemini(api_key=args.api_key, port=args.port)
    server.default_reply = reply
    server.start()
    print(server.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
