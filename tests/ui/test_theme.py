"""Light, dark and the system's theme, as the palette a user sees.

Offscreen Qt names no colour scheme and gives a light palette; a platform that
gives a dark one without naming a scheme (qt6ct, Kvantum) is played by setting
that palette on the application before the theme is applied.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QGuiApplication, QPalette

from gemchat.ui.theme import apply_theme, dark_palette, is_dark


@pytest.fixture
def app(qapp: QGuiApplication) -> Iterator[QGuiApplication]:
    yield qapp
    apply_theme("light")
    apply_theme("system")
    qapp.setPalette(QPalette())


def test_the_system_theme_keeps_the_dark_palette_a_desktop_gives_without_naming_a_scheme(app) -> None:
    app.setPalette(dark_palette())  # as qt6ct would give it
    apply_theme("system")
    assert is_dark(app.palette())


def test_the_dark_theme_then_the_system_theme_gives_back_the_desktops_light_palette(app) -> None:
    apply_theme("dark")
    assert is_dark(app.palette())
    apply_theme("system")
    assert not is_dark(app.palette())


def test_the_light_theme_is_light_on_a_desktop_with_a_dark_palette(app) -> None:
    app.setPalette(dark_palette())
    apply_theme("light")
    assert not is_dark(app.palette())
    apply_theme("dark")
    assert is_dark(app.palette())
