"""A tiny Gemini endpoint on 127.0.0.1, used only by `gemchat --self-test`.

A packaged build has no test suite beside it, yet it must prove that the
frozen SDK, HTTP stack and SSE parsing still work. This serves the same wire
format as the test suite's fake server (`tests/fakes/gemini_server.py`):
`POST /v1beta/models/{model}:streamGenerateContent?alt=sse` answered with
server-sent events (`data: {GenerateContentResponse}\\r\\n\\r\\n`) over a
chunked body, the last event carrying `finishReason` and `usageMetadata`; and
`:generateContent` as one JSON document, which the app uses for chat titles.

Stdlib only; it binds 127.0.0.1 on a free port and never connects anywhere.
It is deliberately small: one scripted answer and one fault (`drop`), not the
test server's whole repertoire.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

MODEL_VERSION = "gemini-3.6-flash"
_PATH = re.compile(r"^/v1(?:beta|alpha)?/models/(?P<model>[^/:]+):(?P<action>streamGenerateContent|generateContent)$")

Fault = Literal["drop"]
FAULTS: tuple[str, ...] = ("drop",)


@dataclass
class LoopbackRequest:
    """What the client sent, so the self-test can check the question crossed the wire intact."""

    path: str
    api_key: str | None
    body: Any


@dataclass
class _Script:
    chunks: tuple[str, ...]
    chunk_delay: float
    fault: Fault | None
    title: str
    requests: list[LoopbackRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _event(parts_text: str, response_id: str) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"parts": [{"text": parts_text}], "role": "model"}, "index": 0}],
        "modelVersion": MODEL_VERSION,
        "responseId": response_id,
    }


def _usage(answer: str) -> dict[str, Any]:
    answer_tokens = len(answer) // 4 + 1
    return {"promptTokenCount": 8, "candidatesTokenCount": answer_tokens, "totalTokenCount": 8 + answer_tokens}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    script: _Script


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # an idle keep-alive connection cannot hold a thread for long
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
        pass

    def do_POST(self) -> None:
        script = self.server.script
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        path = self.path.split("?", 1)[0]
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with script.lock:
            script.requests.append(LoopbackRequest(path, self.headers.get("x-goog-api-key"), body))
        match = _PATH.match(path)
        if match is None:
            self._send_json(404, {"error": {"code": 404, "message": f"{path} not found", "status": "NOT_FOUND"}})
        elif match["action"] == "generateContent":
            response = _event(script.title, "loopback-title")
            response["candidates"][0]["finishReason"] = "STOP"
            response["usageMetadata"] = _usage(script.title)
            self._send_json(200, response)
        else:
            self._stream(script)

    def _send_json(self, code: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, script: _Script) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        events = [_event(chunk, "loopback-answer") for chunk in script.chunks]
        events[-1]["candidates"][0]["finishReason"] = "STOP"
        events[-1]["usageMetadata"] = _usage("".join(script.chunks))
        # The drop fault cuts the body mid-answer, after some text, as a lost connection does.
        cut_at = len(events) // 2 if script.fault == "drop" else None
        for index, event in enumerate(events):
            if index == cut_at:
                self._drop()
                return
            if index:
                time.sleep(script.chunk_delay)
            data = b"data: " + json.dumps(event).encode() + b"\r\n\r\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _drop(self) -> None:
        """Ends the connection without the final zero-length chunk: a truncated body."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class LoopbackGemini:
    """Serves one scripted answer to every streamed request, from a daemon thread.

    Use as a context manager; `base_url` is what GOOGLE_GEMINI_BASE_URL should say.
    """

    def __init__(
        self,
        chunks: Sequence[str],
        *,
        chunk_delay: float = 0.01,
        fault: Fault | None = None,
        title: str = "Self-test",
    ) -> None:
        if not chunks:
            raise ValueError("an answer needs at least one chunk")
        if fault is not None and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        self._script = _Script(tuple(chunks), chunk_delay, fault, title)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LoopbackGemini:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.script = self._script
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="loopback-gemini"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LoopbackGemini:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the loopback server is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[LoopbackRequest]:
        with self._script.lock:
            return list(self._script.requests)
