"""A large library in the sidebar: listed in turns of the event loop, filtered and selected as it fills;
and the database opened away from the window's thread."""

from __future__ import annotations

import dataclasses
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


def test_a_chat_renamed_in_place_is_found_by_its_new_title_and_no_longer_by_its_old_one(qtbot: Any) -> None:
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    chats = library(30)
    sidebar.set_chats(chats, current=None)
    with qtbot.waitSignal(sidebar.rename_requested):
        sidebar._item_for(7).setText("Harbour lights")  # what the in-place editor does on Enter
    sidebar.filter_titles("harbour")
    assert shown(sidebar) == [7]
    sidebar.filter_titles("river")
    assert 7 not in shown(sidebar) and len(shown(sidebar)) == 26


def test_a_folded_folder_keeps_its_chats_hidden_while_filtering_and_its_heading_shown(qtbot: Any) -> None:
    from gemchat.core.messages import Folder

    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    chats = [dataclasses.replace(c, folder_id=1) if c.id <= 5 else c for c in library(20)]
    sidebar.set_chats(chats, current=None, folders=[Folder(1, "Archive", collapsed=True)])
    sidebar.filter_titles("chat")
    assert not sidebar.item(0).isHidden() and sidebar.item(0).text() == "▸ Archive"
    assert shown(sidebar) == [c.id for c in chats if c.id > 5]
    sidebar.filter_titles("nothing like this")
    assert shown(sidebar) == [] and not sidebar.item(0).isHidden()
    assert all(sidebar.item(r).isHidden() for r in range(1, sidebar.count()))  # the "Older" heading too


def shown_library(qtbot: Any) -> Sidebar:
    """A sidebar on screen, 500 px tall, with `library(1000)` listed whole."""
    sidebar = Sidebar()
    qtbot.addWidget(sidebar)
    sidebar.resize(260, 500)
    sidebar.show()
    sidebar.set_chats(library(1000), current=None)
    qtbot.waitUntil(lambda: sidebar.count() == 1001, timeout=3000)
    return sidebar


def _in_sight(sidebar: Sidebar, chat_id: int) -> bool:
    row = next(r for r in range(sidebar.count()) if sidebar.item(r).data(CHAT_ID) == chat_id)
    return sidebar.viewport().rect().intersects(sidebar.visualItemRect(sidebar.item(row)))


def test_the_open_chat_far_down_a_long_list_is_scrolled_into_sight_even_right_after_a_filter_key(qtbot: Any) -> None:
    """Qt lays the list out in batches after a change (`LAYOUT_BATCH`): a row past the first had no place yet,
    and Qt's own scrolling did nothing, leaving the open chat out of sight."""
    sidebar = shown_library(qtbot)
    qtbot.wait(50)
    sidebar.select_chat(3)  # near the bottom
    qtbot.wait(50)
    assert _in_sight(sidebar, 3)
    sidebar.filter_titles("river")  # rows hidden: the list is laid out again, in batches
    sidebar.select_chat(11)  # at once, before the batches are done
    qtbot.wait(50)
    assert _in_sight(sidebar, 11)
    sidebar.filter_titles("")
    sidebar.select_chat(1000)  # the top, back up
    qtbot.wait(50)
    assert _in_sight(sidebar, 1000)


def test_end_and_page_keys_in_a_long_filtered_list_keep_the_chosen_chat_in_sight(qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    sidebar = shown_library(qtbot)
    sidebar.filter_titles("river")
    sidebar.setFocus()
    sidebar.setCurrentRow(2)  # chat 999 (1000, above it, is hidden now)
    qtbot.keyClick(sidebar, Qt.Key.Key_End)  # before the batches are done
    qtbot.wait(50)
    assert sidebar.currentItem().data(CHAT_ID) == 1 and _in_sight(sidebar, 1)
    qtbot.keyClick(sidebar, Qt.Key.Key_PageUp)
    qtbot.wait(50)
    assert _in_sight(sidebar, sidebar.currentItem().data(CHAT_ID))


def test_clearing_the_filter_brings_back_the_whole_list_with_the_open_chat_in_sight(qtbot: Any) -> None:
    sidebar = shown_library(qtbot)
    sidebar.select_chat(500)  # lighthouse, half way down
    sidebar.filter_titles("lighthouse")
    qtbot.wait(50)
    sidebar.verticalScrollBar().setValue(0)  # the user looked at the top of the results
    sidebar.filter_titles("")
    qtbot.wait(50)
    assert _in_sight(sidebar, 500)
