"""The open chat's model, shown on its chips and changed from the picker (a chip's click, or its key).

The change goes through the session as the Chat Model and Instructions dialog's
does (`ChatSession.set_chat_model` keeps the chat's instruction and thinking
level); in a new chat, not saved yet, it is the model the chat will be saved
with. The list of models is asked of Gemini in the background each time the
picker opens; the names known so far show at once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from gemchat.ui.model_chip import ModelChip

if TYPE_CHECKING:
    from gemchat.session import ChatSession
    from gemchat.ui.model_picker import ModelPicker

log = logging.getLogger(__name__)


class ModelChoice(QObject):
    """Keeps every chip showing the open chat's model, and opens the one picker under the chip used.

    Signals:
        model_changed(str): the user chose a model (the chips show it already).

    Attributes:
        picker: the popup, made when first opened (None before).
    """

    model_changed = Signal(str)

    def __init__(self, window: QWidget, chips: list[ModelChip]) -> None:
        super().__init__(window)
        self._window = window
        self._chips = chips
        self._session: ChatSession | None = None
        self._known: list[str] = []
        self.picker: ModelPicker | None = None
        for chip in chips:
            chip.clicked.connect(lambda _checked=False, chip=chip: self.open_picker(chip))

    def attach_session(self, session: ChatSession) -> None:
        self._session = session

    def show_model(self, model: str) -> None:
        for chip in self._chips:
            chip.show_model(model)

    def open_picker(self, anchor: QWidget | None = None) -> None:
        """Opens the picker under `anchor`, or under the first chip that is shown (the key)."""
        session = self._session
        if session is None:
            return
        if anchor is None:
            anchor = next((chip for chip in self._chips if chip.isVisible()), self._chips[0])
        if self.picker is None:
            from gemchat.ui.model_picker import ModelPicker

            self.picker = ModelPicker(self._window)
            self.picker.model_chosen.connect(self._on_picker_model_chosen)
        self.picker.set_models(self._known, session.current_model())
        self.picker.popup_at(anchor)
        session.tasks.start(self._list_models(session))

    async def _list_models(self, session: ChatSession) -> None:
        try:
            names = await session.list_models()
        except Exception as exc:  # the list is a convenience: the model in use is shown, a name can be typed
            log.info("could not list models: %s", type(exc).__name__)
            return
        self._known = names
        if self.picker is not None and self.picker.isVisible():
            self.picker.set_models(names, session.current_model())  # what is typed in the filter stays

    def _on_picker_model_chosen(self, model: str) -> None:
        if self._session is None or model == self._session.current_model():
            return
        self._session.set_chat_model(model)
        self.show_model(model)
        self.model_changed.emit(model)
