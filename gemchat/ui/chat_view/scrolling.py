"""Following the newest text as it arrives, until the user scrolls away from it.

Then a "Jump to latest" button appears at the bottom right; it, End, or
scrolling back to the bottom resume following.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractSlider, QTextBrowser, QToolButton


class Scrolling:
    """Whether the view follows the newest text, and the button that brings it back.

    Attributes:
        following: the view keeps the newest text in sight as it arrives.
        jump_button: "Jump to latest", shown while the user is away from the bottom.
    """

    def __init__(self, browser: QTextBrowser, user_scrolled: Callable[[], None]) -> None:
        """`user_scrolled` is called when the user moves the view (the scroll bar; wheel and keys: `ChatView`)."""
        self._browser = browser
        self._user_scrolled = user_scrolled
        self.following = True
        self.jump_button = QToolButton(browser)
        self.jump_button.setText("↓ Jump to latest")
        self.jump_button.setAccessibleName("Jump to latest")  # without the arrow, which a screen reader would read
        self.jump_button.setToolTip("Scroll to the newest text and keep following it (End)")
        self.jump_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.jump_button.setAutoRaise(False)
        self.jump_button.hide()
        self.jump_button.clicked.connect(self.scroll_to_bottom)
        bar = browser.verticalScrollBar()
        bar.actionTriggered.connect(self._on_scroll_bar_action)
        bar.rangeChanged.connect(self._on_scroll_range_changed)
        bar.valueChanged.connect(self._on_scroll_value_changed)

    def scroll_to_bottom(self) -> None:
        self.following = True
        bar = self._browser.verticalScrollBar()
        bar.setValue(bar.maximum())
        self.update_jump_button()

    def hold_at(self, value: int) -> None:
        """Stops following and shows the document from `value` (a search hit at the top)."""
        bar = self._browser.verticalScrollBar()
        self.following = False
        bar.setValue(min(bar.maximum(), value))

    def after_wheel(self) -> None:
        """The wheel turned: following resumes only at the bottom."""
        self.following = self._at_bottom()
        self.update_jump_button()

    def keep_place(self, change: Callable[[], None]) -> None:
        """Runs `change`, which lays the document out anew (a new text size), keeping in view what was.

        Following, the bottom stays in view by itself (the scroll range changes).
        """
        if self.following:
            change()
            return
        browser = self._browser
        layout = browser.document().documentLayout()
        bar = browser.verticalScrollBar()
        block = browser.cursorForPosition(QPoint(0, 0)).block()  # the one at the top of the view
        before = layout.blockBoundingRect(block)
        into = (bar.value() - before.top()) / before.height() if before.height() > 0 else 0.0
        change()
        layout.documentSize()  # lays all of it out, so the scroll bar has its new range
        after = layout.blockBoundingRect(block)
        bar.setValue(round(after.top() + into * after.height()))
        self.update_jump_button()

    def update_jump_button(self) -> None:
        show = not self.following and not self._at_bottom()
        if show != self.jump_button.isVisible():
            self.jump_button.setVisible(show)
            if show:
                self._place_jump_button()
                self.jump_button.raise_()

    def after_resize(self) -> None:
        if self.jump_button.isVisible():  # placed when shown, else not (it would cost the first paint ~15 ms)
            self._place_jump_button()

    def _place_jump_button(self) -> None:
        self.jump_button.adjustSize()
        area = self._browser.viewport().geometry()
        size = self.jump_button.size()
        self.jump_button.move(area.right() - size.width() - 12, area.bottom() - size.height() - 12)

    def _at_bottom(self) -> bool:
        bar = self._browser.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def _on_scroll_value_changed(self, _value: int) -> None:
        self.update_jump_button()

    def _on_scroll_range_changed(self, _minimum: int, maximum: int) -> None:
        if self.following:
            self._browser.verticalScrollBar().setValue(maximum)
        self.update_jump_button()

    def _on_scroll_bar_action(self, action: int) -> None:
        if action != QAbstractSlider.SliderAction.SliderNoAction.value:
            self._user_scrolled()
        # The bar moves after this signal; judge the position once it has.
        self.following = self._after_user_move()
        self.update_jump_button()

    def _after_user_move(self) -> bool:
        bar = self._browser.verticalScrollBar()
        return bar.sliderPosition() >= bar.maximum() - 4
