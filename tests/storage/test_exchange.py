"""Export and import round trips: whatever a store holds, `export` then `import` holds again."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemchat.core.image_models import ImageOptions
from gemchat.core.messages import Role, Status
from gemchat.storage.errors import ImportFormatError
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


def test_an_export_is_readable_json_with_each_field_on_its_line_and_errors_only_for_failed_answers() -> None:
    store = ChatStore.open(None)
    chat = store.create_chat("gemini-3.6-flash", "Café", created_at="2025-01-02T03:04:05.000Z")
    # An error left on an answer that did not fail is not the answer's: the export leaves it out.
    store.add_message(chat.id, Role.MODEL, "Fine", Status.COMPLETE, error="an old error",
                      created_at="2025-01-02T03:04:06.000Z")
    store.add_message(chat.id, Role.MODEL, "", Status.ERROR, error="Gemini is overloaded right now.",
                      created_at="2025-01-02T03:04:07.000Z")
    assert export_json(store) == f"""[
  {{
    "id": {chat.id},
    "title": "Café",
    "created_at": "2025-01-02T03:04:05.000Z",
    "model": "gemini-3.6-flash",
    "system_instruction": null,
    "google_search": false,
    "messages": [
      {{
        "role": "model",
        "text": "Fine",
        "status": "complete",
        "error": null,
        "created_at": "2025-01-02T03:04:06.000Z",
        "attachments": [],
        "grounding": null,
        "thoughts": ""
      }},
      {{
        "role": "model",
        "text": "",
        "status": "error",
        "error": "Gemini is overloaded right now.",
        "created_at": "2025-01-02T03:04:07.000Z",
        "attachments": [],
        "grounding": null,
        "thoughts": ""
      }}
    ]
  }}
]"""
    store.close()


def test_an_import_of_a_chat_with_only_a_model_fills_in_the_rest() -> None:
    store = ChatStore.open(None)
    before = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    (new_id,) = import_json(store, json.dumps({"model": "gemini-3.6-flash"}))
    (exported,) = json.loads(export_json(store))
    assert exported["id"] == new_id
    assert exported["title"] == "" and exported["system_instruction"] is None
    assert exported["google_search"] is False and exported["messages"] == []
    assert before <= exported["created_at"]
    store.close()


def test_an_imported_error_stays_only_on_the_answer_that_failed() -> None:
    store = ChatStore.open(None)
    (new_id,) = import_json(store, json.dumps({"model": "m", "messages": [
        {"role": "user", "text": "Hi", "error": "not mine"},
        {"role": "model", "text": "Fine", "status": "complete", "error": "an old error"},
        {"role": "model", "text": "", "status": "error", "error": "Gemini is overloaded right now."}]}))
    assert [(m.status, m.error) for m in store.messages(new_id)] == [
        (Status.COMPLETE, None), (Status.COMPLETE, None), (Status.ERROR, "Gemini is overloaded right now.")]
    store.close()


@pytest.fixture
def tokyo_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The computer's clock is set to UTC+9, so a time read as local time would be off by nine hours."""
    if not hasattr(time, "tzset"):
        pytest.skip("the local time zone cannot be changed here")
    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("written", [
    "2025-01-02T03:04:05Z",
    "2025-01-02T03:04:05.000Z",
    "2025-01-02T12:04:05+09:00",
    "2025-01-01T22:04:05-05:00",
    "2025-01-02T03:04:05",  # no zone: UTC, as gemchat writes, not the computer's time
    "2025-01-02T03:04:05.000+00:00",
    "2025-01-02t03:04:05z",  # RFC 3339 allows both letters in lower case
])
@pytest.mark.usefixtures("tokyo_time")
def test_imported_times_are_shown_in_utc_whatever_zone_they_were_written_in(written: str) -> None:
    store = ChatStore.open(None)
    import_json(store, json.dumps({"model": "m", "created_at": written,
                                   "messages": [{"role": "user", "text": "Hi", "created_at": written}]}))
    (exported,) = json.loads(export_json(store))
    assert exported["created_at"] == exported["messages"][0]["created_at"] == "2025-01-02T03:04:05.000Z"
    store.close()


def chat_with(**fields: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "text": "Fine"}, {"role": "user", "text": "x", **fields}]}


@pytest.mark.parametrize(("text", "message"), [
    ("Chats", "not JSON: Expecting value: line 1 column 1 (char 0)"),
    ("42", "expected a list of chats"),
    ('"chats"', "expected a list of chats"),
    ("[5]", "chat 1: expected an object, found a number"),
    (json.dumps([{"model": "m"}, ["m"]]), "chat 2: expected an object, found a list"),
    (json.dumps({}), 'chat 1: "model" must be text, found missing'),
    (json.dumps({"model": 3}), 'chat 1: "model" must be text, found a number'),
    (json.dumps({"model": None}), 'chat 1: "model" must be text, found null'),
    (json.dumps({"model": True}), 'chat 1: "model" must be text, found true or false'),
    (json.dumps({"model": {"name": "m"}}), 'chat 1: "model" must be text, found an object'),
    (json.dumps({"model": " "}), 'chat 1: "model" is empty'),
    (json.dumps({"model": "m", "title": ["t"]}), 'chat 1: "title" must be text, found a list'),
    (json.dumps({"model": "m", "created_at": 1735787045}), 'chat 1: "created_at" must be an ISO 8601 time'),
    (json.dumps({"model": "m", "created_at": "yesterday"}),
     "chat 1: \"created_at\" is not an ISO 8601 time: 'yesterday'"),
    (json.dumps({"model": "m", "system_instruction": 5}), 'chat 1: "system_instruction" must be text or null'),
    (json.dumps({"model": "m", "messages": {}}), 'chat 1: "messages" must be a list'),
    (json.dumps({"model": "m", "google_search": "yes"}), 'chat 1: "google_search" must be true or false'),
    (json.dumps({"model": "m", "code_execution": 1}), 'chat 1: "code_execution" must be true or false'),
    (json.dumps({"model": "m", "image_options": {"aspect_ratio": "7:1"}}),
     'chat 1: "image_options" must be an object with "aspect_ratio" (one of 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, '
     '9:16, 16:9, 21:9), "image_size" (one of 1K, 2K, 4K) and "pictures_only": true, each optional'),
    (json.dumps({"model": "m", "thinking_level": "max"}),
     'chat 1: "thinking_level" must be one of default, high, low, medium, minimal, or left out'),
    (json.dumps({"model": "m", "url_context": None}), 'chat 1: "url_context" must be true or false'),
    (json.dumps({"model": "m", "folder": 7}), 'chat 1: "folder" must be a folder\'s name, or left out'),
    (json.dumps([{"model": "m"}, {"model": "m", "folder": "  "}]),
     'chat 2: "folder" must be a folder\'s name, or left out'),
    (json.dumps({"model": "m", "messages": [{"role": "user", "text": "Fine"}, "x"]}),
     "chat 1, message 2: expected an object, found text"),
    (json.dumps(chat_with(role="system")), 'chat 1, message 2: "role" must be "user" or "model", not "system"'),
    (json.dumps(chat_with(role=None)), 'chat 1, message 2: "role" must be "user" or "model", not null'),
    (json.dumps({"model": "m", "messages": [{"role": "model"}]}), 'chat 1, message 1: "text" must be text, found missing'),
    (json.dumps(chat_with(status="done")),
     'chat 1, message 2: "status" must be one of complete, error, interrupted, streaming, not "done"'),
    (json.dumps(chat_with(error=5)), 'chat 1, message 2: "error" must be text or null'),
    (json.dumps(chat_with(grounding=["q"])), 'chat 1, message 2: "grounding" must be an object or null'),
    (json.dumps(chat_with(thoughts=5)), 'chat 1, message 2: "thoughts" must be text'),
    (json.dumps(chat_with(created_at=5)), 'chat 1, message 2: "created_at" must be an ISO 8601 time'),
    (json.dumps(chat_with(created_at="soon")), "chat 1, message 2: \"created_at\" is not an ISO 8601 time: 'soon'"),
    (json.dumps(chat_with(gemini_parts={"text": "x"})), 'chat 1, message 2: "gemini_parts" must be a list of objects or null'),
    (json.dumps(chat_with(gemini_parts=["x"])), 'chat 1, message 2: "gemini_parts" must be a list of objects or null'),
    (json.dumps(chat_with(gemini_parts=[{"text": "x"}])),
     'chat 1, message 2: only answers ("role": "model") carry "gemini_parts"'),
    (json.dumps(chat_with(role="model", gemini_parts=[{"text": "x"}], answered_by=3)),
     'chat 1, message 2: "answered_by" must be text or null'),
])
def test_an_import_that_is_not_an_export_says_what_is_wrong_where_and_adds_nothing(text: str, message: str) -> None:
    store = ChatStore.open(None)
    import_json(store, json.dumps({"model": "m", "title": "Already here"}))
    with pytest.raises(ImportFormatError) as refused:
        import_json(store, text)
    assert str(refused.value) == message
    assert [c.title for c in store.list_chats()] == ["Already here"]
    store.close()


def test_an_answers_gemini_parts_and_model_travel_through_export_and_import() -> None:
    parts = [{"text": "**Why**", "thought": True}, {"text": "Because."}, {"text": "", "thoughtSignature": "c2ln"}]
    source = ChatStore.open(None)
    chat = source.create_chat("gemini-3.6-flash", "Signed")
    source.add_message(chat.id, Role.USER, "Why?")
    answer = source.add_message(chat.id, Role.MODEL, "", Status.STREAMING)
    source.append_to_message(answer.id, "Because.")
    source.finish_message(answer.id, Status.COMPLETE, gemini_parts=parts, answered_by="gemini-3.6-flash")
    exported = export_json(source)
    message = json.loads(exported)[0]["messages"][1]
    assert (message["gemini_parts"], message["answered_by"]) == (parts, "gemini-3.6-flash")
    assert "gemini_parts" not in json.loads(exported)[0]["messages"][0]  # questions, and older answers, as before

    target = ChatStore.open(None)
    (new_id,) = import_json(target, exported)
    imported = target.messages(new_id)[1]
    assert (imported.gemini_parts, imported.answered_by) == (parts, "gemini-3.6-flash")
    source.close()
    target.close()


def test_a_chats_tools_and_thinking_level_travel_through_export_and_import() -> None:
    source = ChatStore.open(None)
    on = source.create_chat("m", "Tools", code_execution=True, url_context=True)
    source.set_chat_options(on.id, "m", None, "high", ImageOptions("3:4", pictures_only=True))
    source.set_pinned(on.id, True)
    source.create_chat("m", "No tools")
    exported = json.loads(export_json(source))
    assert (exported[0]["code_execution"], exported[0]["url_context"]) == (True, True)
    assert "code_execution" not in exported[1] and "url_context" not in exported[1]  # as before for other chats
    target = ChatStore.open(None)
    import_json(target, json.dumps(exported))
    by_title = {c.title: c for c in target.list_chats()}
    assert (by_title["Tools"].code_execution, by_title["Tools"].url_context) == (True, True)
    assert (by_title["Tools"].thinking_level, by_title["No tools"].thinking_level) == ("high", "")
    assert exported[0]["thinking_level"] == "high" and "thinking_level" not in exported[1]
    assert exported[0]["image_options"] == {"aspect_ratio": "3:4", "pictures_only": True}
    assert "image_options" not in exported[1]
    assert by_title["Tools"].image_options == ImageOptions("3:4", pictures_only=True)
    assert (exported[0]["pinned"], by_title["Tools"].pinned, by_title["No tools"].pinned) == (True, True, False)
    assert (by_title["No tools"].code_execution, by_title["No tools"].url_context) == (False, False)
    assert on.id
    source.close()
    target.close()


def test_chats_come_back_into_their_folders_made_again_or_found_by_name() -> None:
    source = ChatStore.open(None)
    work, trips = source.folders.create("Work"), source.folders.create("Trips")
    for title, folder in (("Report", work), ("Budget", work), ("Lisbon", trips), ("Loose", None)):
        chat = source.create_chat("m", title)
        if folder is not None:
            source.folders.move_chat(chat.id, folder.id)
    source.folders.set_collapsed(work.id, True)  # how the sidebar shows it: not the chats' own
    exported = json.loads(export_json(source))
    assert {c["title"]: c.get("folder") for c in exported} == {
        "Report": "Work", "Budget": "Work", "Lisbon": "Trips", "Loose": None}
    assert "in Work" in export_markdown(source) and "in Trips" in export_markdown(source)

    target = ChatStore.open(None)
    kept = target.folders.create("work")  # already there, in other capitals: used, not made twice
    import_json(target, json.dumps(exported))
    folders = {f.id: f.name for f in target.folders.list()}
    assert sorted(folders.values()) == ["Trips", "work"]
    assert {c.title: folders.get(c.folder_id) for c in target.list_chats()} == {
        "Report": "work", "Budget": "work", "Lisbon": "Trips", "Loose": None}
    assert kept.id in folders
    source.close()
    target.close()


def test_an_import_that_fails_makes_no_folder() -> None:
    store = ChatStore.open(None)
    with pytest.raises(ImportFormatError):
        import_json(store, json.dumps([{"model": "m", "folder": "New"}, {"model": ""}]))
    assert store.folders.list() == [] and store.list_chats() == []
    store.close()
