"""The meter under the message box: how full the model's context window is.

The chat's size comes from the usage Gemini reported with its last answer
(`gemchat.core.context.chat_tokens`); what is being typed is counted with
`countTokens` once typing pauses for `COUNT_DELAY_MS`, as a task on the qasync
loop, so typing never waits for the network (nor for reading a long draft on
every keystroke). Until the count arrives, and when it cannot be had, a
four-characters-a-token guess stands in (shown with ≈).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from gemchat.core.context import estimate_tokens

if TYPE_CHECKING:
    from gemchat.tasks import Tasks

COUNT_DELAY_MS = 400
WARN_FRACTION = 0.9


class ContextMeter(QWidget):
    """Tokens of the chat plus the draft, against the model's input limit.

    Attributes:
        history_tokens: what the chat's next request starts with.
        draft_tokens: the counted (or estimated) tokens of the text being typed.
        limit: the model's `inputTokenLimit`, None while unknown.
    """

    def __init__(self, draft: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._read_draft = draft
        # Until `connect_model` (the window shows before the session exists), estimates only.
        self._count: Callable[[str], Awaitable[int | None]] | None = None
        self._input_limit: Callable[[], Awaitable[int | None]] | None = None
        self._tasks: Tasks | None = None
        self._draft = ""
        self._counted: tuple[str, int] | None = None  # the last text countTokens answered for
        self._generation = 0
        self.history_tokens = 0
        self.draft_tokens = 0
        self.pending_files = 0
        self.limit: int | None = None
        self.label = QLabel()
        self.label.setObjectName("contextMeter")
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Context used")
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(6)
        self.bar.setMaximumWidth(160)
        self.bar.setRange(0, 1000)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addStretch(1)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self._limit_stale = True
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(COUNT_DELAY_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._show()

    def connect_model(self, count: Callable[[str], Awaitable[int | None]],
                      input_limit: Callable[[], Awaitable[int | None]], tasks: Tasks) -> None:
        """Counts with `count` and asks `input_limit` from now on, in the background through `tasks`."""
        self._count = count
        self._input_limit = input_limit
        self._tasks = tasks

    # -- inputs ---------------------------------------------------------------------

    def set_history_tokens(self, tokens: int) -> None:
        self.history_tokens = tokens
        self._show()

    def set_pending_files(self, count: int) -> None:
        self.pending_files = count
        self._show()

    def draft_changed(self) -> None:
        """The message box changed: it is read and counted once typing pauses."""
        self._timer.start()

    def tokens_with(self, text: str) -> int:
        """The chat's size if `text` were sent now: counted when it was, else guessed."""
        if self._counted is not None and self._counted[0] == text:
            return self.history_tokens + self._counted[1]
        return self.history_tokens + estimate_tokens(text)

    def refresh_limit(self) -> None:
        """The model's limit must be asked for again (another chat or model was opened).

        Asked once the user types, not now: opening a chat (and starting the app)
        must not load the SDK or wait on the network.
        """
        self._limit_stale = True

    # -- queries --------------------------------------------------------------------

    @property
    def exact(self) -> bool:
        return not self._draft.strip() or (self._counted is not None and self._counted[0] == self._draft)

    def total(self) -> int:
        return self.history_tokens + self.draft_tokens

    def over_limit(self, text: str) -> bool:
        """Whether sending `text` now would pass the model's input limit."""
        return self.limit is not None and self.tokens_with(text) > self.limit

    # -- work -----------------------------------------------------------------------

    def _on_timer_timeout(self) -> None:
        if self._tasks is None:
            return
        text = self._read_draft()
        if self._limit_stale and text.strip():
            self._limit_stale = False
            self._start(self._fetch_limit(), "limit")
        self._draft = text
        self._generation += 1
        if self._counted is not None and self._counted[0] == text:
            self.draft_tokens = self._counted[1]
        else:
            self.draft_tokens = estimate_tokens(text)
            if text.strip():
                self._start(self._count_draft(text, self._generation), "count")
        self._show()

    async def _count_draft(self, text: str, generation: int) -> None:
        assert self._count is not None
        tokens = await self._count(text)
        if tokens is None or generation != self._generation:
            return  # typing went on, or counting failed: the guess stays
        self._counted = (text, tokens)
        if text == self._draft:
            self.draft_tokens = tokens
            self._show()

    async def _fetch_limit(self) -> None:
        assert self._input_limit is not None
        limit = await self._input_limit()
        self.limit = limit
        self._show()

    async def ensure_limit(self, timeout: float = 5.0) -> None:
        """Knows the model's limit before a send is checked against it (it is asked for lazily)."""
        import asyncio  # loaded after the window shows; see MainWindow.attach_session

        if self.limit is None or self._limit_stale:
            self._limit_stale = False
            try:
                async with asyncio.timeout(timeout):
                    await self._fetch_limit()
            except TimeoutError:
                pass  # unknown: the message goes, as it would with no meter

    def _start(self, coro: Coroutine[Any, Any, None], job: str) -> None:
        """A newer count replaces the one still running (its answer would be dropped anyway)."""
        assert self._tasks is not None
        self._tasks.start(coro, key=(self, job))

    def cancel(self) -> None:
        """Stops counting (the window is closing)."""
        self._timer.stop()
        if self._tasks is not None:
            for job in ("limit", "count"):
                self._tasks.cancel((self, job))

    def _show(self) -> None:
        total = self.total()
        approx = "" if self.exact else "≈ "
        files = f" (+ {self.pending_files} file{'s' if self.pending_files != 1 else ''})" if self.pending_files else ""
        if self.limit:
            fraction = total / self.limit
            self.label.setText(f"{approx}{total:,} of {self.limit:,} tokens{files}")
            self.bar.setValue(min(1000, round(fraction * 1000)))
            self.bar.setVisible(True)
            state = "over" if fraction > 1 else "near" if fraction >= WARN_FRACTION else "ok"
        else:
            self.label.setText(f"{approx}{total:,} tokens{files}")
            self.bar.setVisible(False)
            state = "ok"
        self.label.setAccessibleName(f"Context used: {self.label.text()}")  # a screen reader reads the name
        if self.property("state") != state:
            self.setProperty("state", state)
            self.label.setStyleSheet({"over": "color: #d93025;", "near": "color: #e37400;"}.get(state, ""))
        self.setToolTip("Tokens this chat sends with your next message, out of what the model takes in one "
                        "request. Attached files count once sent.")
