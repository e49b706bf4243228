"""Attaching files as a user does: drop them on the window, paste them, or press Ctrl+U.

Each test drives the real window against the loopback Gemini server and checks
the wire (inline data, Files API uploads, file references), the database and
what the window shows.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QTextImageFormat,
)
from PySide6.QtWidgets import QApplication, QFileDialog

from gemchat.app import GemchatApp
from gemchat.core.attachments import INLINE_LIMIT_BYTES, MAX_ATTACHMENTS
from gemchat.paths import attachments_dir
from tests.conftest import run, until
from tests.driving import expect_answer, last_stream, rows, type_and_send, wait_answer_done
from tests.fakes.gemini_server import FakeGemini, camel_case, decode_bytes


def picture(path: Path, color: str = "#d93025", size: tuple[int, int] = (320, 200)) -> Path:
    image = QImage(*size, QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    assert image.save(str(path), "PNG")
    return path


def drop(app: GemchatApp, mime: QMimeData, target=None) -> None:
    """A drag from a file manager, as the window receives it: enter, move, drop (Qt delivers a drop
    only to a widget that accepted the drag)."""
    target = target or app.window
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPoint(40, 40), Qt.DropAction.CopyAction, mime, buttons, keys)
    QApplication.sendEvent(target, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(target, QDragMoveEvent(QPoint(41, 41), Qt.DropAction.CopyAction, mime, buttons, keys))
    event = QDropEvent(QPointF(41, 41), Qt.DropAction.CopyAction, mime, buttons, keys)
    QApplication.sendEvent(target, event)
    assert event.isAccepted()


def files_mime(*paths: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    mime.setText("\n".join(str(p) for p in paths))  # file managers put the paths in as text too
    return mime


def wait_chips(qloop, app: GemchatApp, count: int) -> None:
    run(qloop, until(lambda: len(app.window.tray.attachments()) == count, 5, f"{count} chips"))


def images_in_view(app: GemchatApp) -> list[str]:
    """Names of the pictures in the conversation's document."""
    names = []
    block = app.window.view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isImageFormat():
                names.append(QTextImageFormat(fmt).name())
            it += 1
        block = block.next()
    return names


def wire(gemini: FakeGemini) -> dict:
    return camel_case(last_stream(gemini).body)


def test_an_attached_file_shows_as_a_rounded_card_with_a_quiet_border(qtbot, tmp_path) -> None:
    from PySide6.QtGui import QColor, QPalette

    from gemchat.core.messages import Attachment
    from gemchat.ui.attachment_tray import CHIP_RADIUS, AttachmentChip
    from gemchat.ui.painted import border_color

    chip = AttachmentChip(Attachment(sha256="ab" * 32, name="notes.txt", mime_type="text/plain", size=1200), None)
    qtbot.addWidget(chip)
    palette = chip.palette()
    palette.setColor(QPalette.ColorRole.Button, QColor("#3367d6"))  # a card colour unlike what is behind it
    chip.setPalette(palette)
    chip.show()
    qtbot.waitExposed(chip)
    image = chip.grab().toImage()
    border = border_color(chip.palette())
    fill = chip.palette().color(QPalette.ColorRole.Button)

    def near(x: int, y: int, colour) -> bool:
        pixel = image.pixelColor(x, y)
        return max(abs(pixel.red() - colour.red()), abs(pixel.green() - colour.green()),
                   abs(pixel.blue() - colour.blue())) <= 24

    assert near(image.width() // 2, 0, border) and near(0, image.height() // 2, border)  # the edges: the border
    assert near(image.width() // 2, image.height() - 2, fill)  # inside: the card
    assert not near(0, 0, border) and not near(0, 0, fill)  # the corner is cut round: what is behind shows
    assert CHIP_RADIUS >= 6


def test_an_image_dropped_on_the_window_shows_as_a_chip_and_goes_inline(
        live, gemini: FakeGemini, qloop, qtbot, data_dir, tmp_path) -> None:
    path = picture(tmp_path / "Red square.png")
    drop(live, files_mime(path))
    wait_chips(qloop, live, 1)
    (chip,) = live.window.tray.chips()
    assert chip.has_thumbnail and live.window.tray.isVisible()
    assert live.window.meter.pending_files == 1

    type_and_send(qtbot, live, "What colour is this?")
    wait_answer_done(qloop, live)
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    parts = wire(gemini)["contents"][0]["parts"]
    assert parts[0]["inlineData"]["mimeType"] == "image/png"
    assert decode_bytes(parts[0]["inlineData"]["data"]) == data
    assert parts[1] == {"text": "What colour is this?"}
    assert not live.window.tray.isVisible() and live.window.tray.attachments() == []
    # Kept with the chat: a copy under its hash, a row naming it.
    assert (attachments_dir(data_dir) / sha).read_bytes() == data
    assert rows(data_dir, "select sha256, name, mime_type, size from message_attachments") == [
        (sha, "Red square.png", "image/png", len(data))]
    assert images_in_view(live) == [f"gemchat-thumbnail:{sha}"]
    assert "Red square.png" in live.window.view.toPlainText()


def test_a_follow_up_sends_the_earlier_image_again(live, gemini: FakeGemini, qloop, qtbot, tmp_path) -> None:
    drop(live, files_mime(picture(tmp_path / "a.png")))
    wait_chips(qloop, live, 1)
    type_and_send(qtbot, live, "Look")
    wait_answer_done(qloop, live)
    type_and_send(qtbot, live, "And now?")
    wait_answer_done(qloop, live)
    contents = wire(gemini)["contents"]
    assert [list(p) for p in contents[0]["parts"]] == [["inlineData"], ["text"]]
    assert contents[2]["parts"] == [{"text": "And now?"}]


def test_pasting_an_image_in_the_message_box_attaches_it(live, gemini: FakeGemini, qloop, qtbot) -> None:
    image = QImage(64, 48, QImage.Format.Format_RGB32)
    image.fill(QColor("#1a73e8"))
    mime = QMimeData()
    mime.setImageData(image)
    QGuiApplication.clipboard().setMimeData(mime)
    live.window.composer.setFocus()
    live.window.composer.paste()  # what Ctrl+V does
    wait_chips(qloop, live, 1)
    (attachment,) = live.window.tray.attachments()
    assert attachment.name.startswith("Pasted image ") and attachment.mime_type == "image/png"
    assert live.window.composer.toPlainText() == ""
    # A message can be only a picture: Enter in the empty box sends it.
    expect_answer(live)
    qtbot.keyClick(live.window.composer, Qt.Key.Key_Return)
    wait_answer_done(qloop, live)
    assert [list(p) for p in wire(gemini)["contents"][0]["parts"]] == [["inlineData"]]


def test_a_pasted_file_is_attached_instead_of_its_path_being_typed(live, qloop, tmp_path) -> None:
    notes = tmp_path / "notes.py"
    notes.write_text("print('hi')\n")
    live.window.composer.insertFromMimeData(files_mime(notes))
    wait_chips(qloop, live, 1)
    assert live.window.composer.toPlainText() == ""
    assert live.window.tray.attachments()[0].mime_type == "text/plain"
    live.window.tray.chips()[0].remove_button.click()
    assert live.window.tray.attachments() == [] and not live.window.tray.isVisible()


def test_a_drop_on_the_message_box_attaches_too(live, qloop, tmp_path) -> None:
    drop(live, files_mime(picture(tmp_path / "b.png")), target=live.window.composer.viewport())
    wait_chips(qloop, live, 1)
    assert live.window.composer.toPlainText() == ""


def test_files_gemini_cannot_read_and_too_many_files_are_refused_with_a_reason(live, qloop, tmp_path) -> None:
    program = tmp_path / "setup.exe"
    program.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00")
    drop(live, files_mime(program))
    run(qloop, until(lambda: "cannot read this kind of file" in live.window.statusBar().currentMessage(), 5))
    assert live.window.tray.attachments() == []
    many = []
    for n in range(MAX_ATTACHMENTS + 1):
        many.append(tmp_path / f"n{n}.txt")
        many[-1].write_text(f"note {n}")
    drop(live, files_mime(*many))
    wait_chips(qloop, live, MAX_ATTACHMENTS)
    assert f"at most {MAX_ATTACHMENTS} files" in live.window.statusBar().currentMessage()


def test_ctrl_u_opens_a_file_chooser_that_attaches(live, qloop, qtbot, tmp_path) -> None:
    path = picture(tmp_path / "chosen.png")
    qtbot.keyClick(live.window.composer, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any(isinstance(w, QFileDialog) and w.isVisible() for w in QApplication.topLevelWidgets()),
                    timeout=3000)
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible())
    dialog.selectFile(str(path))
    dialog.accept()
    wait_chips(qloop, live, 1)
    assert live.window.tray.attachments()[0].name == "chosen.png"


def big_file(path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7\n" + b"x" * (INLINE_LIMIT_BYTES + 1000))
    return path


def test_a_large_file_is_uploaded_with_progress_and_referred_to_until_it_expires(
        live, gemini: FakeGemini, qloop, qtbot, data_dir, tmp_path) -> None:
    gemini.upload_chunk_delay = 0.3
    drop(live, files_mime(big_file(tmp_path / "report.pdf")))
    wait_chips(qloop, live, 1)
    type_and_send(qtbot, live, "Summarise")
    run(qloop, until(lambda: live.window.upload_bar.isVisible(), 5, "upload bar shown"))
    assert "Uploading report.pdf" in live.window.upload_bar.label.text()
    wait_answer_done(qloop, live)
    assert not live.window.upload_bar.isVisible()
    (stored,) = gemini.uploaded()
    assert wire(gemini)["contents"][0]["parts"][0] == {
        "fileData": {"mimeType": "application/pdf", "fileUri": stored.uri}}
    ((file_name, expires),) = rows(data_dir, "select file_name, expires_at from uploads")
    assert file_name == stored.name and expires.endswith("Z")

    type_and_send(qtbot, live, "More detail")  # the chat remembers the upload
    wait_answer_done(qloop, live)
    assert len(gemini.uploaded()) == 1
    assert wire(gemini)["contents"][0]["parts"][0]["fileData"]["fileUri"] == stored.uri

    # Two days later the Files API has deleted it: continuing the chat uploads it again.
    import sqlite3

    from gemchat.paths import database_path

    with sqlite3.connect(database_path(data_dir)) as conn:
        conn.execute("update uploads set expires_at = '2020-01-01T00:00:00Z'")
    type_and_send(qtbot, live, "Again, please")
    wait_answer_done(qloop, live)
    assert len(gemini.uploaded()) == 2
    assert wire(gemini)["contents"][0]["parts"][0]["fileData"]["fileUri"] == gemini.uploaded()[-1].uri


def test_cancel_stops_an_upload_and_keeps_the_question_for_retry(
        live, gemini: FakeGemini, qloop, qtbot, data_dir, tmp_path) -> None:
    gemini.upload_chunk_delay = 5.0
    drop(live, files_mime(big_file(tmp_path / "slow.pdf")))
    wait_chips(qloop, live, 1)
    type_and_send(qtbot, live, "Read this")
    run(qloop, until(lambda: live.window.upload_bar.isVisible(), 5, "upload bar shown"))
    live.window.upload_bar.cancel.click()
    wait_answer_done(qloop, live)
    assert gemini.uploaded() == [] and not [r for r in gemini.requests if r.kind == "stream"]
    assert rows(data_dir, "select role, status from messages order by id") == [
        ("user", "complete"), ("model", "interrupted")]
    assert rows(data_dir, "select name from message_attachments") == [("slow.pdf",)]


def test_exporting_a_chat_as_json_writes_its_files_beside_it_and_importing_brings_them_back(
        live, gemini: FakeGemini, qloop, qtbot, data_dir, tmp_path) -> None:
    import json

    path = picture(tmp_path / "shot.png")
    drop(live, files_mime(path))
    wait_chips(qloop, live, 1)
    type_and_send(qtbot, live, "Keep this")
    wait_answer_done(qloop, live)
    target = tmp_path / "export" / "kept.json"
    target.parent.mkdir()

    def choose(chosen: Path) -> None:
        qtbot.waitUntil(lambda: any(isinstance(w, QFileDialog) and w.isVisible()
                                    for w in QApplication.topLevelWidgets()), timeout=3000)
        dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QFileDialog) and w.isVisible())
        dialog.selectFile(str(chosen))
        dialog.accept()

    live.window.actions_by_name["export_chat"].trigger()
    choose(target)
    run(qloop, until(lambda: target.exists(), 5, "exported"))  # written whole: see gemchat/files.py
    (attachment,) = json.loads(target.read_text(encoding="utf-8"))[0]["messages"][0]["attachments"]
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert attachment == {"name": "shot.png", "mime_type": "image/png", "sha256": sha,
                          "size": path.stat().st_size}
    assert (tmp_path / "export" / "kept.attachments" / sha).read_bytes() == path.read_bytes()

    (attachments_dir(data_dir) / sha).unlink()  # as if imported on another machine
    live.window.actions_by_name["import_chats"].trigger()
    choose(target)
    run(qloop, until(lambda: len(live.session.chats) == 2, 5, "imported"))
    assert (attachments_dir(data_dir) / sha).read_bytes() == path.read_bytes()


def test_a_drop_on_the_conversation_reaches_the_window(live, qloop, tmp_path) -> None:
    drop(live, files_mime(picture(tmp_path / "c.png")), target=live.window.view.viewport())
    wait_chips(qloop, live, 1)
