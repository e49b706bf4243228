"""Chat titles: the first words of the first question at once, a model's short title later."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from gemchat.core.errors import GemchatError
from gemchat.core.gemini import GeminiBackend
from gemchat.core.messages import Chat, GenerationRequest, Role
from gemchat.storage.worker import StoreWorker
from gemchat.tasks import Tasks

log = logging.getLogger(__name__)

TITLE_PROMPT = (
    "Write a title of at most six words for a conversation that starts with the message below. "
    "Answer with the title only: no quotes, no punctuation at the end.\n\nMessage:\n"
)


def clean_title(raw: str, max_chars: int = 60) -> str:
    """A model's title answer, trimmed to one plain line."""
    line = next((ln for ln in raw.strip().splitlines() if ln.strip()), "")
    line = line.strip().strip("\"'“”‘’*#").strip().rstrip(".")
    return title_from(line, max_chars) if line else ""


def title_from(text: str, max_chars: int = 48) -> str:
    """A chat's first title: the first words of its first question."""
    words = " ".join(text.split())
    if len(words) <= max_chars:
        return words
    cut = words[:max_chars].rsplit(" ", 1)[0] or words[:max_chars]
    return cut + "…"


class Titles:
    """Asks the model for a chat's title once, after its first complete answer, in the background.

    A chat the user named, or one already asked about, is left as it is.
    """

    def __init__(self, db: StoreWorker, backend_factory: Callable[[], GeminiBackend | None],
                 rename: Callable[[int, str], Awaitable[None]], tasks: Tasks) -> None:
        self._db = db
        self._backend_factory = backend_factory
        self._rename = rename
        self._tasks = tasks
        self._settled: set[int] = set()
        self._named: set[int] = set()  # by the user: a model's title arriving later must not replace it

    def keep(self, chat_id: int) -> None:
        """The user named that chat: the model is not asked for a title of it."""
        self._settled.add(chat_id)
        self._named.add(chat_id)

    def after_answer(self, chat: Chat, request: GenerationRequest) -> None:
        """A complete answer arrived in `chat`: the first one asks the model for a title."""
        if chat.id not in self._settled:
            self._settled.add(chat.id)
            self._tasks.start(self._make_title(chat, request))

    async def _make_title(self, chat: Chat, request: GenerationRequest) -> None:
        """The first words of the question stay the title when this fails or the user renamed the chat meanwhile."""
        first = next((m for m in request.history if m.role is Role.USER), None)
        backend = self._backend_factory()
        if first is None or backend is None or chat.title != title_from(first.text):
            return
        try:
            title = clean_title(await backend.generate_text(chat.model, TITLE_PROMPT + first.text[:2000]))
        except GemchatError as exc:
            log.info("no title from the model: %s", exc.kind)
            return
        current = await self._db.run(self._db.store.get_chat, chat.id)
        # Checked after the last wait: a rename by the user that is still on its way to the
        # database is known here, and one made after this goes to the database after ours.
        if title and current is not None and current.title == chat.title and chat.id not in self._named:
            await self._rename(chat.id, title)
