"""Export and import round trips: whatever a store holds, `export` then `import` holds again."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from gemchat.core.messages import Role, Status
from gemchat.storage.exchange import export_json, export_markdown, import_json
from gemchat.storage.store import ChatStore
from tests.examples import examples

any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)
# Timestamps as gemchat writes them: UTC, milliseconds, sortable as text.
stamps = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
    lambda d: d.isoformat(timespec="milliseconds") + "Z")
message = st.tuples(st.sampled_from(list(Role)), any_text, st.sampled_from(list(Status)), any_text, stamps)
models = st.text(st.characters(codec=None, exclude_categories=()), min_size=1, max_size=20).filter(str.strip)
chat = st.tuples(any_text, models, st.one_of(st.none(), any_text), stamps, st.lists(message, max_size=6))


def fill(store: ChatStore, chats: list) -> None:
    for title, model, system, created, messages in chats:
        c = store.create_chat(model, title, system, created_at=created)
        for role, text, status, error, when in messages:
            store.add_message(c.id, role, text, status, error if status is Status.ERROR else None,
                              created_at=when)


def without_ids(exported: str) -> list:
    chats = json.loads(exported)
    for c in chats:
        c.pop("id")
    return chats


@settings(max_examples=examples(100), deadline=None)
@given(chats=st.lists(chat, max_size=4))
def test_export_then_import_gives_back_the_same_chats(chats: list) -> None:
    source = ChatStore.open(None)
    fill(source, chats)
    exported = export_json(source)
    target = ChatStore.open(None)
    assert len(import_json(target, exported)) == len(chats)
    expected = without_ids(exported)
    for c in expected:  # nothing streams into an imported chat
        for m in c["messages"]:
            if m["status"] == "streaming":
                m["status"] = "interrupted"
    assert without_ids(export_json(target)) == expected
    # And once more: an import of an import changes nothing.
    again = ChatStore.open(None)
    import_json(again, export_json(target))
    assert without_ids(export_json(again)) == expected
    for store in (source, target, again):
        markdown = export_markdown(store)
        assert all(c["title"] in markdown for c in expected)
        store.close()
