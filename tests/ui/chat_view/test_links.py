"""Model text is untrusted: HTML is shown as text, only safe links open, nothing is fetched; the app's own links."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication, QImage, QTextDocument

from gemchat.ui.chat_view import ChatView
from tests.ui.chat_view.helpers import blocks_of, fragments_of, one_shot


def test_html_in_an_answer_is_shown_as_text(qtbot) -> None:
    view = ChatView()
    qtbot.addWidget(view)
    view.begin_answer(1)
    evil = '<script>alert(1)</script><img src="http://example.invalid/x.png"><a href="javascript:x">y</a>'
    view.append_to_answer(evil)
    qtbot.waitUntil(lambda: evil in view.toPlainText(), timeout=2000)
    assert "<img" not in view.toHtml().replace("&lt;img", "")


def test_unsafe_link_schemes_are_not_opened(qtbot, monkeypatch) -> None:
    from PySide6.QtGui import QDesktopServices

    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toString())))
    view = ChatView()
    qtbot.addWidget(view)
    for url in ("javascript:alert(1)", "file:///etc/passwd", "https://ai.google.dev/", "mailto:a@b.c"):
        view.anchorClicked.emit(QUrl(url))
    assert opened == ["https://ai.google.dev/", "mailto:a@b.c"]


def test_images_are_links_and_nothing_is_fetched(qtbot, tmp_path) -> None:
    """An image in an answer could be a tracker or a local file: it is shown as a link, and even
    when painted the view reads nothing, from the network or the disk."""
    picture = tmp_path / "chart.png"
    image = QImage(8, 8, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.red)
    assert image.save(str(picture))
    local = QUrl.fromLocalFile(str(picture))
    view = one_shot(qtbot, f"![a chart](https://example.com/chart.png) and ![a file]({local.toString()})")
    view.show()
    qtbot.waitExposed(view)
    view.grab()  # lays out and paints the whole answer: any image would be loaded now
    fragments = [f for b in blocks_of(view) for f in fragments_of(b)]
    assert not any(f.charFormat().isImageFormat() for f in fragments)
    link = next(f for f in fragments if f.text() == "a chart")
    assert link.charFormat().anchorHref() == "https://example.com/chart.png"
    # Asked for the picture's bytes outright, as Qt would for an image that slipped in: none.
    for url in (local, QUrl("https://example.com/chart.png")):
        assert not view.document().resource(QTextDocument.ResourceType.ImageResource, url)


def test_the_copy_link_of_a_code_block_copies_its_source(qtbot) -> None:
    view = one_shot(qtbot, "```bash\necho one\n```\n\ntext\n\n```\necho two\n```\n")
    links = [f for b in blocks_of(view) for f in fragments_of(b)
             if f.charFormat().anchorHref().startswith("gemchat:copy")]
    assert [f.text() for f in links] == ["Copy", "Copy"]
    view.anchorClicked.emit(QUrl(links[1].charFormat().anchorHref()))
    assert QGuiApplication.clipboard().text() == "echo two\n"
    assert view.last_code_block() == "echo two\n"
