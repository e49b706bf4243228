"""What the tests of the Gemini backend share: requests, a backend on the loopback server, collected events."""

from __future__ import annotations

import hashlib
from pathlib import Path

from gemchat.core.gemini import GeminiBackend
from gemchat.core.messages import Attachment, GenerationRequest, Message, Role, Status, StreamEvent
from tests.conftest import TEST_KEY
from tests.fakes.gemini_server import FakeGemini, camel_case

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


def msg(mid: int, role: Role, text: str, status: Status = Status.COMPLETE) -> Message:
    return Message(id=mid, chat_id=1, role=role, text=text, status=status, created_at="")


def request(*texts: str, system: str | None = None, model: str = "gemini-3.6-flash") -> GenerationRequest:
    history = [msg(i, Role.USER if i % 2 == 0 else Role.MODEL, t) for i, t in enumerate(texts)]
    return GenerationRequest(model=model, history=history, system_instruction=system)


async def collect(backend: GeminiBackend, req: GenerationRequest) -> list[StreamEvent]:
    events = []
    try:
        async for event in backend.stream(req):
            events.append(event)
    finally:
        await backend.aclose()
    return events


def backend_for(server: FakeGemini, **kw: object) -> GeminiBackend:
    kw.setdefault("backoff", 0.01)
    backend = GeminiBackend(api_key=TEST_KEY, base_url=server.base_url, **kw)  # type: ignore[arg-type]
    backend.processing_poll = 0.01
    return backend


def texts(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events)


class RecordedSleep:
    """The backend's `sleep` (a constructor parameter): records each wait and returns at once,
    so a test can see what would be waited for without waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Files:
    """A stand-in for the app's attachment store: files named by their SHA-256 in a folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add(self, name: str, data: bytes, mime_type: str) -> Attachment:
        sha = hashlib.sha256(data).hexdigest()
        (self.root / sha).write_bytes(data)
        return Attachment(sha, name, mime_type, len(data))

    def path(self, sha256: str) -> Path:
        return self.root / sha256


def question(mid: int, text: str, *attachments: Attachment) -> Message:
    return Message(mid, 1, Role.USER, text, Status.COMPLETE, "", attachments=list(attachments))


def answer(mid: int, text: str) -> Message:
    return Message(mid, 1, Role.MODEL, text, Status.COMPLETE, "")


def stream_bodies(server: FakeGemini) -> list[dict]:
    """Request bodies in one spelling (the SDK mixes camelCase and snake_case; Google reads both)."""
    return [camel_case(r.body) for r in server.requests if r.kind == "stream"]


def media_parts(body: dict) -> list[dict]:
    return [p for c in body["contents"] for p in c["parts"] if "text" not in p]
