"""Asks for a Gemini API key on first start, or when the user wants to change it."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from gemchat.core.credentials import KEYS_URL, KeyPlace
from gemchat.core.errors import ErrorKind, GemchatError
from gemchat.ui.sizing import grow_to_fit

if TYPE_CHECKING:
    from gemchat.tasks import Tasks

KEPT_IN_KEYRING = "It is kept in your system keyring, never in gemchat's files."
NO_KEYRING = "No system keyring was found on this computer. Where should gemchat keep the key?"
NO_KEYRING_NO_FILE = ("No system keyring was found on this computer: the key is used for this session only. "
                      "Set GEMINI_API_KEY in your environment to keep it.")


class ApiKeyDialog(QDialog):
    """The key is shown masked and never echoed anywhere else.

    It goes to the system keyring; where there is none (`show_no_keyring`), the
    user chooses between this session only (the default) and a file only they
    can read, labelled as less safe. Nothing is written to a file unasked.

    Everything but Save and Cancel is in a scroll area: the dialog grows to show
    all its text, and with a font too large for the screen it scrolls instead
    (`grow_to_fit`). The link to where keys are made shows its address, and
    Tab reaches it (Enter opens it), for a user without a pointer.

    Attributes:
        session_only, in_file: the two choices, shown only when there is no keyring.
    """

    def __init__(self, parent: QWidget | None = None, problem: str | None = None,
                 check: Callable[[str], Awaitable[str]] | None = None, tasks: Tasks | None = None) -> None:
        """`problem`: why a key kept before was not used (the key file's permissions), shown above the field.

        `check` asks Gemini whether a key works (its words, or a `GemchatError`), run through `tasks`;
        without them there is no Check button.
        """
        super().__init__(parent)
        self._check = check
        self._tasks = tasks
        self._checking: asyncio.Future[None] | None = None
        self.setWindowTitle("Gemini API key — gemchat")
        intro = QLabel(
            "gemchat needs a Gemini API key. Create one in Google AI Studio, at "
            f'<a href="{KEYS_URL}">{KEYS_URL.removeprefix("https://")}</a>, and paste it below.'
        )
        intro.setObjectName("key_intro")
        intro.setWordWrap(True)
        intro.setOpenExternalLinks(True)
        intro.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)  # Tab to the link, Enter
        self._where = QLabel(KEPT_IN_KEYRING)
        self._where.setWordWrap(True)
        self._edit = QLineEdit()
        self._edit.setEchoMode(QLineEdit.EchoMode.Password)
        self._edit.setPlaceholderText("Paste your API key")
        self._edit.setAccessibleName("API key")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        save = buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(False)
        self._edit.textChanged.connect(lambda text: save.setEnabled(bool(text.strip())))
        self.body_area = self._build_body(intro, problem, checkable=check is not None and tasks is not None)
        outer = QVBoxLayout(self)
        outer.addWidget(self.body_area, 1)
        outer.addWidget(buttons)
        self._keyring = True
        room = self.screen().availableGeometry().width() * 9 // 10
        self.resize(min(room, max(520, self.fontMetrics().averageCharWidth() * 64)), 0)  # wider with a larger font
        grow_to_fit(self, self.body_area)
        self._edit.setFocus()  # where the dialog opens: the link above comes first for Tab, not for typing

    def _build_body(self, intro: QLabel, problem: str | None, checkable: bool) -> QScrollArea:
        """Everything above Save and Cancel, in a scroll area that scrolls only when the screen is too small."""
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(intro)
        if problem:
            said = QLabel(problem)
            said.setObjectName("key_file_problem")
            said.setWordWrap(True)
            layout.addWidget(said)
        layout.addLayout(self._build_key_row(checkable))
        layout.addWidget(self.check_result)
        layout.addWidget(self._where)
        self._choices = self._build_choices()
        layout.addWidget(self._choices)
        layout.addStretch(1)
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the text wraps instead
        area.setWidget(body)
        area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the controls in it (it scrolls to them)
        area.viewport().setAutoFillBackground(False)  # the dialog's own background, as without it
        body.setAutoFillBackground(False)
        return area

    def _build_key_row(self, checkable: bool) -> QHBoxLayout:
        """The key field with its Check button (shown when a check is possible); the check's answer below it."""
        key_row = QHBoxLayout()
        key_row.addWidget(self._edit, 1)
        self.check_button = QPushButton("Check key")
        self.check_button.setToolTip("Ask Gemini whether this key works, before it is kept")
        self.check_button.setEnabled(False)
        self.check_button.setVisible(checkable)
        self.check_button.clicked.connect(self._start_check)
        self._edit.textChanged.connect(lambda text: self.check_button.setEnabled(bool(text.strip())))
        self._edit.textChanged.connect(lambda _text: self._checked(""))
        key_row.addWidget(self.check_button)
        self.check_result = QLabel()
        self.check_result.setObjectName("key_check_result")
        self.check_result.setWordWrap(True)
        self.check_result.setAccessibleName("Key check")
        self.check_result.hide()
        return key_row

    def _build_choices(self) -> QWidget:
        box = QWidget()
        self.session_only = QRadioButton("Use it for this session only")
        self.session_only.setChecked(True)
        self.in_file = QRadioButton("Keep it in a file only you can read")
        self._file_note = QLabel()
        self._file_note.setWordWrap(True)
        self._file_note.setContentsMargins(24, 0, 0, 0)  # under the button it explains
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.session_only)
        layout.addWidget(self.in_file)
        layout.addWidget(self._file_note)
        box.hide()
        return box

    def show_no_keyring(self, key_file: Path | None) -> None:
        """There is no keyring: offers the file at `key_file` (None: no file may hold it, this session only)."""
        self._keyring = False
        if key_file is None:
            self._where.setText(NO_KEYRING_NO_FILE)
            grow_to_fit(self, self.body_area)
            return
        self._where.setText(NO_KEYRING)
        self._file_note.setText(
            f"{html.escape(str(key_file))}<br><b>Less safe than a system keyring:</b> any program running as you "
            "can read it. Settings can forget it (the file is then deleted).")
        self._choices.show()
        grow_to_fit(self, self.body_area)

    def key(self) -> str:
        return self._edit.text().strip()

    def _start_check(self) -> None:
        if self._check is None or self._tasks is None or not self.key():
            return
        if self._checking is not None:
            self._checking.cancel()
        self.check_button.setEnabled(False)
        self._checked("Checking with Gemini…")
        self._checking = self._tasks.start(self._run_check(self._check, self.key()))
        self.finished.connect(self._checking.cancel)

    async def _run_check(self, check: Callable[[str], Awaitable[str]], key: str) -> None:
        try:
            said = await check(key)
        except GemchatError as exc:
            if exc.kind is ErrorKind.AUTH:
                said = "This key did not work: Gemini did not accept it. Check that it was copied whole."
            else:
                said = f"This key could not be checked: {exc.message}"
        if key == self.key():  # not a key replaced meanwhile
            self._checked(said)
        self.check_button.setEnabled(bool(self.key()))

    def _checked(self, said: str) -> None:
        self.check_result.setText(said)
        self.check_result.setVisible(bool(said))
        grow_to_fit(self, self.body_area)

    def place(self) -> KeyPlace:
        """Where the user wants the key kept."""
        if self._keyring:
            return KeyPlace.KEYRING
        return KeyPlace.FILE if self.in_file.isChecked() and not self._choices.isHidden() else KeyPlace.SESSION
