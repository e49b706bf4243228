"""A large library in the sidebar: listed in turns of the event loop, filtered and selected as it fills;
and the database opened away from the window's thread."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from gemchat.core.messages import Chat, Role
from gemchat.ui.sidebar import CHAT_ID, FIRST_ROWS, Sidebar

WHEN = "2020-01-01T00:00:00.000Z"


def library(count: int) -> list[Chat]:
    """`count` chats, newest first; every tenth has "lighthouse" in its title."""
    return [Chat(n, f"Chat {n} {'lighthouse' if n % 10 == 0 else 'river'}", WHEN, WHEN, "gemini-3.6-flash")
            for n in range(count, 0, -1)]


def shown(sidebar: Sidebar) -> list[int]:
    return [sidebar.item(row).data(CHAT_ID) for row in range(sidebar.count())
            if sidebar.item(row).data(CHAT_ID) is not None and not sidebar.item(row).isHidden()]


def test_a_thousand_chats_appear_first_rows_at_once_then_the_rest_over_the_next_turns(qtbot: Any) -> None:
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    chats = library(1000)
    sidebar.set_chats(chats, current=chats[-1].id)
    assert FIRST_ROWS <= sidebar.count() < 1000  # what a window shows, not the whole library
    qtbot.waitUntil(lambda: sidebar.count() == 1001, timeout=3000)  # every chat and the "Older" heading
    assert shown(sidebar) == [c.id for c in chats]
    assert sidebar.currentItem().data(CHAT_ID) == chats[-1].id  # selected once its row was made


def test_typing_in_the_filter_while_the_list_fills_filters_the_rows_still_to_come(qtbot: Any) -> None:
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    chats = library(1000)
    sidebar.set_chats(chats, current=None)
    sidebar.filter_titles("LIGHTHOUSE")
    qtbot.waitUntil(lambda: sidebar.count() == 1001, timeout=3000)
    assert shown(sidebar) == [c.id for c in chats if c.id % 10 == 0]
    sidebar.filter_titles("")
    assert shown(sidebar) == [c.id for c in chats]


def test_reading_the_list_while_it_fills_sees_every_chat(qtbot: Any) -> None:
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    chats = library(1000)
    sidebar.set_chats(chats, current=None)
    assert sidebar.chat_ids() == [c.id for c in chats]


def test_the_store_opened_on_another_thread_is_the_one_the_window_lists(qloop: Any, qtbot: Any, data_dir: Path) -> None:
    from gemchat.app import build_app, open_storage, shutdown
    from gemchat.paths import database_path
    from gemchat.storage.store import ChatStore
    from tests.conftest import run, until

    store = ChatStore.open(database_path(data_dir))
    chat = store.create_chat("gemini-3.6-flash", "Kept")
    store.add_message(chat.id, Role.USER, "Hello")
    store.close()
    opened: list[Any] = []
    thread = threading.Thread(target=lambda: opened.append(open_storage(data_dir)))  # as run_gui does
    thread.start()
    thread.join()
    app = build_app(data_dir, storage=opened[0])
    try:
        run(qloop, app.session.refresh_chats())
        run(qloop, until(lambda: app.window.sidebar.chat_ids() == [chat.id], 3, "listed"))
    finally:
        run(qloop, shutdown(app))
