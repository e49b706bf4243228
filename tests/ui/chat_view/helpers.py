"""Making conversation views for the tests, and reading what they show."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QTextDocument, QWheelEvent

from gemchat.core.messages import Message, Role, Status
from gemchat.ui.chat_view import ChatView
from gemchat.ui.chat_view.blocks import CODE


def message(mid: int, role: Role, text: str, status: Status = Status.COMPLETE, error: str | None = None) -> Message:
    return Message(id=mid, chat_id=1, role=role, text=text, status=status, created_at="", error=error)


def structure(document: QTextDocument) -> list[tuple]:
    """What a reader sees of a document: each block's text, layout and list, each fragment's look."""
    blocks = []
    block = document.begin()
    while block.isValid():
        fmt = block.blockFormat()
        text_list = block.textList()
        fragments = []
        it = block.begin()
        while not it.atEnd():
            char = it.fragment().charFormat()
            fragments.append((it.fragment().text(), char.foreground().color().name(), char.fontWeight(),
                              char.fontItalic(), char.anchorHref(), char.background().color().name()))
            it += 1
        blocks.append((
            fmt.topMargin(), fmt.bottomMargin(), fmt.leftMargin(), fmt.indent(), fmt.headingLevel(),
            fmt.nonBreakableLines(), fmt.background().color().name(),
            fmt.intProperty(CODE) if fmt.hasProperty(CODE) else None,
            text_list.format().style() if text_list else None,
            text_list.itemNumber(block) if text_list else None,
            bool(block.document().frameAt(block.position()) is not document.rootFrame()),
            fragments,
        ))
        block = block.next()
    return blocks


def one_shot(qtbot, text: str) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    view.show_messages([message(1, Role.USER, "q"), message(2, Role.MODEL, text)])
    view.load_all()  # a long answer fills the opening budget: the question is rendered on scrolling up
    return view


def streamed(qtbot, text: str, cuts: list[int]) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    view.show_messages([message(1, Role.USER, "q")])
    view.begin_answer(2)
    previous = 0
    for cut in [*cuts, len(text)]:
        view.append_to_answer(text[previous:cut])
        view.render_pending()  # one frame per piece: the most re-rendering a stream can cause
        previous = cut
    view.end_answer(message(2, Role.MODEL, text))
    return view


def blocks_of(view: ChatView) -> list:
    blocks, block = [], view.document().begin()
    while block.isValid():
        blocks.append(block)
        block = block.next()
    return blocks


def fragments_of(block) -> list:
    out, it = [], block.begin()
    while not it.atEnd():
        out.append(it.fragment())
        it += 1
    return out


def long_chat(count: int) -> list[Message]:
    return [message(i, Role.USER if i % 2 else Role.MODEL, f"message number {i}\n\nwith a second paragraph")
            for i in range(1, count + 1)]


def streaming_view(qtbot, lines: int = 120) -> ChatView:
    view = ChatView()
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    view.begin_answer(1)
    view.append_to_answer("".join(f"Paragraph {i}.\n\n" for i in range(lines)))
    view.render_pending()
    qtbot.wait(10)
    return view


def wheel(view: ChatView, steps: int) -> None:
    """Turns the mouse wheel over the view (positive: up, away from the newest text)."""
    center = QPointF(view.viewport().rect().center())
    event = QWheelEvent(center, view.viewport().mapToGlobal(center), QPoint(), QPoint(0, 120 * steps),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    view.wheelEvent(event)
