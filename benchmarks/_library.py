"""A large, deterministic library of chats for the desktop benchmark (not a benchmark itself).

1,000 chats of 100 messages each (100,000 messages), in 30 folders (a third of
the chats; a third of the folders collapsed) with 20 pinned, their last activity
spread over two years with a few today, yesterday and this week, so every
heading of the chat list shows. Written with the app's own code:
`ChatStore.import_chats` (what `gemchat import` calls, FTS triggers included),
`ChatStore.folders` and `ChatStore.set_pinned`.

Questions are a sentence of Zipf-weighted words (benchmarks/search.py's
vocabulary); answers are the answer-like Markdown of benchmarks/_corpus.py, 200
to 3,000 characters.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

CHATS = 1000
MESSAGES_PER_CHAT = 100
FOLDERS = 30
PINNED = 20
SEARCH_WORD = "lighthouse"  # in some titles and messages, for the Ctrl+K and filter measurements


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_library(data_dir: Path, chats: int = CHATS, per_chat: int = MESSAGES_PER_CHAT, seed: int = 12) -> None:
    """Writes the library into `data_dir` (a gemchat data directory; its database must not exist yet)."""
    from benchmarks._corpus import answer
    from benchmarks.search import vocabulary
    from gemchat.core.messages import Chat, Message, Role, Status
    from gemchat.paths import database_path
    from gemchat.storage.store import ChatStore

    rng = random.Random(seed)
    words, weights = vocabulary(rng)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = ChatStore.open(database_path(data_dir))
    now = dt.datetime.now(dt.UTC)
    try:
        batch: list[tuple[Chat, list[Message]]] = []
        for c in range(chats):
            # Oldest first, as they were made; the last 15 in the past week, 3 of them today.
            age = dt.timedelta(days=730 * (chats - 1 - c) / chats) if c < chats - 15 else \
                dt.timedelta(hours=(chats - 1 - c) * 11)
            ended = now - age
            started = ended - dt.timedelta(minutes=per_chat)
            title = " ".join(rng.choices(words, weights, k=rng.randint(2, 6))).capitalize()
            chat = Chat(0, title, _stamp(started), _stamp(ended), "gemini-3.6-flash")
            messages = []
            for i in range(per_chat):
                when = _stamp(started + dt.timedelta(minutes=i))
                if i % 2 == 0:
                    text = " ".join(rng.choices(words, weights, k=rng.randint(6, 40))).capitalize() + "?"
                    role = Role.USER
                else:
                    text = answer(rng.randint(200, 3000), seed=c * per_chat + i)
                    role = Role.MODEL
                messages.append(Message(0, 0, role, text, Status.COMPLETE, when))
            batch.append((chat, messages))
            if len(batch) == 50:
                store.import_chats(batch)
                batch = []
        if batch:
            store.import_chats(batch)
        ids = store.chat_ids()
        folders = [store.folders.create(f"Folder {n + 1:02d} {rng.choice(words)}") for n in range(FOLDERS)]
        for n, folder in enumerate(folders):
            if n % 3 == 0:
                store.folders.set_collapsed(folder.id, True)
        for n, chat_id in enumerate(ids):
            if n % 3 == 1:
                store.folders.move_chat(chat_id, folders[n % FOLDERS].id)
        for chat_id in rng.sample(ids, PINNED):
            store.set_pinned(chat_id, True)
    finally:
        store.close()
