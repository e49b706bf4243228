"""Grounding with Google Search, thinking and the context meter, in the real window.

The loopback server answers like Gemini: with `groundingMetadata` when the
request turns on the `google_search` tool, with thought parts when it asks for
`includeThoughts`, and with `countTokens` and `models.list` as the API does.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from gemchat.app import GemchatApp
from tests.conftest import run, until
from tests.driving import expect_answer, last_stream, rows, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, Reply, camel_case, grounding_for

CTRL = Qt.KeyboardModifier.ControlModifier


def anchors(app: GemchatApp) -> list[tuple[str, str]]:
    """(text, href) of every link in the conversation, in order."""
    found = []
    block = app.window.view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            fmt = fragment.charFormat()
            if fmt.isAnchor() and fmt.anchorHref():
                found.append((fragment.text(), fmt.anchorHref()))
            it += 1
        block = block.next()
    return found


def shown(app: GemchatApp) -> str:
    return app.window.view.toPlainText()


def test_ctrl_g_grounds_answers_with_numbered_citations_and_sources(
        live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    action = live.window.actions_by_name["google_search"]
    assert not action.isChecked()
    qtbot.keyClick(live.window.composer, Qt.Key.Key_G, CTRL)
    assert action.isChecked()
    text = "Zürich liegt am Zürichsee. Tōkyō is large! Done."
    gemini.enqueue(Reply.text([text[:20], text[20:]], grounding=grounding_for(text, queries=["zürich see", "tōkyō"])))
    type_and_send(qtbot, live, "Tell me about places")
    wait_answer_done(qloop, live)

    assert camel_case(last_stream(gemini).body)["tools"] == [{"googleSearch": {}}]
    page = shown(live)
    # Markers right after each sentence (byte offsets converted), then the sources and the searches.
    assert "Zürich liegt am Zürichsee.[1] Tōkyō is large![2][3] Done.[3]" in page
    assert "Sources\n[1]  Example — Wikipedia\n[2]  Ünïcode & <b>escaped</b> title\n[3]  The example guide" in page
    assert "Google Search:  zürich see  ·  tōkyō" in page
    links = anchors(live)
    assert ("[1]", "https://en.wikipedia.org/wiki/Example") in links
    assert ("Ünïcode & <b>escaped</b> title", "https://www.example.org/über/straße?q=1&x=<2>") in links
    assert ("tōkyō", "https://www.google.com/search?q=t%C5%8Dky%C5%8D") in links
    # The HTML widget Google sends (searchEntryPoint) is not rendered.
    assert "carousel" not in page and ".chip" not in page

    # Stored with the answer and the chat: citations survive a restart of the view.
    assert rows(data_dir, "select google_search from chats") == [(1,)]
    ((grounding,),) = rows(data_dir, "select grounding from messages where role = 'model'")
    assert "grounding_supports" in grounding
    chat_id = live.session.chat.id
    run(qloop, live.session.new_chat())
    assert not action.isChecked()  # a new chat starts without search
    run(qloop, live.session.open_chat(chat_id))
    assert action.isChecked()
    assert "Zürich liegt am Zürichsee.[1]" in shown(live) and "Sources" in shown(live)


def test_without_grounding_no_tool_and_no_sources(live, gemini: FakeGemini, qloop, qtbot) -> None:
    type_and_send(qtbot, live, "Plain question")
    wait_answer_done(qloop, live)
    assert "tools" not in last_stream(gemini).body
    assert "Sources" not in shown(live)


def test_links_in_sources_open_only_for_web_addresses(live, gemini: FakeGemini, qloop, qtbot, monkeypatch) -> None:
    opened: list[str] = []
    from PySide6.QtGui import QDesktopServices

    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toString()) or True)
    text = "Claim one. Claim two."
    gemini.enqueue(Reply.text([text], grounding=grounding_for(
        text, sources=[("javascript:alert(1)", "Evil"), ("https://ok.example/", "Fine")])))
    qtbot.keyClick(live.window.composer, Qt.Key.Key_G, CTRL)
    type_and_send(qtbot, live, "q")
    wait_answer_done(qloop, live)
    hrefs = [href for _text, href in anchors(live)]
    assert not any(h.startswith("javascript") for h in hrefs)
    assert "Claim one.[1]" in shown(live)  # a marker without a link for the source that is not a web page
    from PySide6.QtCore import QUrl

    live.window.view.anchorClicked.emit(QUrl("https://ok.example/"))
    live.window.view.anchorClicked.emit(QUrl("javascript:alert(1)"))
    assert opened == ["https://ok.example/"]


def test_thoughts_stream_into_the_thinking_section_and_are_kept(
        live, gemini: FakeGemini, qloop, qtbot, data_dir) -> None:
    assert live.settings.show_thoughts
    gemini.enqueue(Reply.text(["The answer is 4."], thoughts=["**Adding numbers**\n\nTwo and ", "two make four."],
                              usage={"promptTokenCount": 9, "candidatesTokenCount": 6, "thoughtsTokenCount": 321,
                                     "totalTokenCount": 336}))
    type_and_send(qtbot, live, "What is 2+2?")
    wait_answer_done(qloop, live)
    config = camel_case(last_stream(gemini).body)["generationConfig"]
    assert config["thinkingConfig"]["includeThoughts"] is True
    page = shown(live)
    assert "▸ Thoughts" in page and "Adding numbers" in page  # collapsed: its title only
    assert "two make four" not in page
    assert "321 thinking tokens" in page
    assert rows(data_dir, "select thoughts from messages where role = 'model'") == [
        ("**Adding numbers**\n\nTwo and two make four.",)]
    chat_id = live.session.chat.id
    run(qloop, live.session.new_chat())
    run(qloop, live.session.open_chat(chat_id))
    assert "▸ Thoughts" in shown(live) and "321 thinking tokens" in shown(live)
    live.window.view.toggle_thoughts(live.window.view.messages[-1].id)
    assert "two make four" in shown(live)


def test_show_thoughts_off_asks_for_none(live, gemini: FakeGemini, qloop, qtbot) -> None:
    live.settings.show_thoughts = False
    type_and_send(qtbot, live, "No thoughts")
    wait_answer_done(qloop, live)
    assert "thinkingConfig" not in camel_case(last_stream(gemini).body).get("generationConfig", {})
    assert "Thoughts" not in shown(live)


def meter_text(app: GemchatApp) -> str:
    return app.window.meter.label.text()


def test_the_meter_shows_the_chat_against_the_models_limit_and_counts_typing(
        live, gemini: FakeGemini, qloop, qtbot) -> None:
    assert "of" not in meter_text(live)  # the limit is asked for once the user writes, not at start
    gemini.enqueue(Reply.text(["Fine."], usage={"promptTokenCount": 1200, "candidatesTokenCount": 34,
                                               "totalTokenCount": 1234}))
    type_and_send(qtbot, live, "hello")
    wait_answer_done(qloop, live)
    assert meter_text(live) == "1,234 of 1,048,576 tokens"
    counts = len([r for r in gemini.requests if r.kind == "count"])
    qtbot.keyClicks(live.window.composer, "x" * 40)
    run(qloop, until(lambda: len([r for r in gemini.requests if r.kind == "count"]) > counts, 5, "countTokens"))
    run(qloop, until(lambda: meter_text(live) == "1,245 of 1,048,576 tokens", 5, "counted draft"))
    (count,) = [r for r in gemini.requests if r.kind == "count"][counts:]
    assert camel_case(count.body)["contents"][0]["parts"] == [{"text": "x" * 40}]


@pytest.fixture
def small_model(gemini: FakeGemini) -> FakeGemini:
    """A model that takes 100 tokens in all; set before the app starts and asks for the list."""
    for model in gemini.models:
        model["inputTokenLimit"] = 100
    return gemini


def test_sending_past_the_models_limit_asks_first(small_model, live, gemini: FakeGemini, qloop, qtbot) -> None:
    long_text = "word " * 200

    def warning() -> Any:
        return next((w for w in QApplication.topLevelWidgets()
                     if isinstance(w, QMessageBox) and w.objectName() == "context_limit_warning" and w.isVisible()),
                    None)

    live.window.composer.setPlainText(long_text)
    qtbot.keyClick(live.window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: warning() is not None, timeout=3000)
    assert "more than the 100 this model takes" in warning().text()
    warning().button(QMessageBox.StandardButton.Cancel).click()
    assert live.window.composer.toPlainText() == long_text
    assert not [r for r in gemini.requests if r.kind == "stream"]

    expect_answer(live)
    qtbot.keyClick(live.window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: warning() is not None, timeout=3000)
    box = warning()
    next(b for b in box.buttons() if b.text() == "Send Anyway").click()
    wait_answer_done(qloop, live)
    assert last_stream(gemini).body["contents"][0]["parts"][0]["text"] == long_text
    assert live.window.composer.toPlainText() == ""


def test_the_fake_server_thinks_aloud_and_searches_only_when_asked(live, gemini: FakeGemini, qloop, qtbot) -> None:
    """The default reply follows the request, as the service does: a guard for manual runs and screenshots."""
    qtbot.keyClick(live.window.composer, Qt.Key.Key_G, CTRL)
    type_and_send(qtbot, live, "Echo with extras")
    wait_answer_done(qloop, live)
    page = shown(live)
    assert "▸ Thoughts" in page and "thinking tokens" in page and "Sources" in page


def test_a_gemini_3_answers_thought_signature_goes_back_with_the_next_question_and_not_to_another_model(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Any) -> None:
    signature = "dGhlIG1vZGVsJ3MgcmVhc29uaW5nLCBlbmNyeXB0ZWQ="
    gemini.enqueue(Reply.text(["The answer ", "is 42."], signature=signature))
    type_and_send(qtbot, live, "What is the answer?")
    wait_answer_done(qloop, live)
    [(kept, model)] = rows(data_dir, "select gemini_parts, answered_by from messages where role = 'model'")
    assert model == "gemini-3.6-flash" and "thoughtSignature" in kept

    type_and_send(qtbot, live, "Why?")
    wait_answer_done(qloop, live)
    answer_turn = last_stream(gemini).body["contents"][1]
    assert answer_turn["role"] == "model" and answer_turn["parts"][0] == {"text": "The answer is 42."}
    assert [p.get("thoughtSignature") for p in answer_turn["parts"]][-1] is not None

    live.session.set_chat_options("gemini-3-pro-preview", "")
    run(qloop, until(lambda: live.session.current_model() == "gemini-3-pro-preview", what="model changed"))
    type_and_send(qtbot, live, "And now?")
    wait_answer_done(qloop, live)
    sent = last_stream(gemini).body["contents"]
    assert sent[1] == {"role": "model", "parts": [{"text": "The answer is 42."}]}  # no other model's signature
    assert not any("thoughtSignature" in p for c in sent for p in c["parts"])


def test_a_thinking_level_the_model_refuses_still_gets_an_answer_and_the_status_bar_says_which_setting(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Any) -> None:
    live.settings.thinking_level = "minimal"
    gemini.enqueue(Reply.invalid_argument("Thinking level MINIMAL is not supported for this model."),
                   Reply.text(["Here you are."]))
    type_and_send(qtbot, live, "Quick one")
    wait_answer_done(qloop, live)
    assert rows(data_dir, "select text, status from messages where role = 'model'") == [("Here you are.", "complete")]
    said = live.window.statusBar().currentMessage()
    assert "does not accept the thinking level “minimal”, so gemchat asked without it" in said


def test_ctrl_shift_x_and_ctrl_shift_l_let_gemini_run_code_and_read_links_and_show_the_code_output_and_pages(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Any) -> None:
    shift = CTRL | Qt.KeyboardModifier.ShiftModifier
    code, links = live.window.actions_by_name["code_execution"], live.window.actions_by_name["url_context"]
    qtbot.keyClick(live.window.composer, Qt.Key.Key_X, shift)
    qtbot.keyClick(live.window.composer, Qt.Key.Key_L, shift)
    assert code.isChecked() and links.isChecked()
    gemini.enqueue(Reply.text(["Computing."], raw_parts=[
        {"executableCode": {"language": "PYTHON", "code": "print(6 * 7)"}},
        {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "42\n"}},
        {"text": "The page agrees: 42."}],
        url_context={"urlMetadata": [
            {"retrievedUrl": "https://example.com/answer", "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS"},
            {"retrievedUrl": "https://example.com/gone", "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_ERROR"}]}))
    type_and_send(qtbot, live, "What is 6 times 7? See https://example.com/answer")
    wait_answer_done(qloop, live)

    assert camel_case(last_stream(gemini).body)["tools"] == [{"codeExecution": {}}, {"urlContext": {}}]
    page = shown(live)
    assert "Computing." in page and "print(6 * 7)" in page and "42" in page and "The page agrees: 42." in page
    assert page.index("print(6 * 7)") < page.index("output") < page.index("The page agrees")
    assert "Pages read:  https://example.com/answer  ·  https://example.com/gone (could not be read)" in page
    assert ("https://example.com/answer", "https://example.com/answer") in anchors(live)
    assert rows(data_dir, "select code_execution, url_context, google_search from chats") == [(1, 1, 0)]

    chat_id = live.session.chat.id
    run(qloop, live.session.new_chat())
    assert not code.isChecked() and not links.isChecked()  # a new chat starts without tools
    run(qloop, live.session.open_chat(chat_id))
    assert code.isChecked() and links.isChecked()
    assert "Pages read:" in shown(live)


def picture_png(width: int = 800, height: int = 600) -> bytes:
    """A real picture, wider than the conversation's column, as an image model sends one."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QImage

    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366cc"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def test_a_picture_gemini_makes_shows_in_the_answer_scaled_to_the_column_is_kept_and_goes_back_for_an_edit(
        live: GemchatApp, gemini: FakeGemini, qloop: Any, qtbot: Any, data_dir: Any, tmp_path: Any) -> None:
    import base64
    import hashlib
    import json

    from PySide6.QtGui import QGuiApplication

    png = picture_png()
    sha = hashlib.sha256(png).hexdigest()
    gemini.enqueue(Reply.text(["A blue square:"], raw_parts=[
        {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(png).decode()},
         "thoughtSignature": "cGljdHVyZS1zaWduYXR1cmU="}]))
    type_and_send(qtbot, live, "Draw a blue square")
    wait_answer_done(qloop, live)

    assert rows(data_dir, "select m.role, a.name, a.mime_type, a.size from message_attachments a "
                          "join messages m on m.id = a.message_id") == [("model", "image-1.png", "image/png", len(png))]
    assert (data_dir / "attachments" / sha).read_bytes() == png
    [(kept,)] = rows(data_dir, "select gemini_parts from messages where role = 'model'")
    assert sha in kept and base64.b64encode(png).decode()[:40] not in kept  # a reference, not the bytes
    document = live.window.view.document()
    shown = document.resource(document.ResourceType.ImageResource.value, f"gemchat-picture:{sha}")
    assert shown is not None and 0 < shown.width() <= live.window.view.viewport().width() and shown.width() < 800

    # Right-click on it: Save Image As… and Copy Image.
    answer = live.window.view.messages[-1]
    path = live.window.view.pictures.path(answer.id, 0)
    assert path is not None
    live.window.view.pictures.save(path, str(tmp_path / "saved.png"))
    assert (tmp_path / "saved.png").read_bytes() == png
    live.window.view.pictures.copy(path)
    assert QGuiApplication.clipboard().image().width() == 800

    type_and_send(qtbot, live, "Make it darker")
    wait_answer_done(qloop, live)
    replayed = last_stream(gemini).body["contents"][1]["parts"]
    assert replayed[0] == {"text": "A blue square:"}
    assert replayed[1]["inlineData"]["data"] == base64.b64encode(png).decode()
    assert replayed[1]["thoughtSignature"] == "cGljdHVyZS1zaWduYXR1cmU="

    exported = tmp_path / "chats.json"
    run(qloop, live.session.export_to(str(exported), False, None))
    message = json.loads(exported.read_text(encoding="utf-8"))[0]["messages"][1]
    assert message["attachments"] == [{"name": "image-1.png", "mime_type": "image/png", "sha256": sha,
                                       "size": len(png)}]
    assert (tmp_path / "chats.attachments" / sha).read_bytes() == png
