"""Light, dark or the system's colour scheme, switched live.

Qt 6 asks the platform to switch (`styleHints().setColorScheme`). Where the
platform cannot (X11 without a desktop theme, offscreen), the palette is set
here, so "dark" is dark everywhere. Widgets that bake colours into content
(the conversation) follow palette changes, whatever caused them.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QWidget

_SCHEMES = {
    "system": Qt.ColorScheme.Unknown,  # Unknown hands the choice back to the platform
    "light": Qt.ColorScheme.Light,
    "dark": Qt.ColorScheme.Dark,
}
_THEME_PROPERTY = "gemchat_theme"
_OURS_PROPERTY = "gemchat_palette_set"  # the app's palette is one set here, not the platform's
_WATCHER_NAME = "gemchat_theme_watcher"


def apply_theme(theme: str) -> None:
    """Switches the whole app to `theme` ("system", "light" or "dark") now and keeps it so."""
    app = QGuiApplication.instance()
    if not isinstance(app, QGuiApplication):
        return
    app.setProperty(_THEME_PROPERTY, theme)
    app.styleHints().setColorScheme(_SCHEMES.get(theme, Qt.ColorScheme.Unknown))
    _follow_system(app)
    _match_palette(app)


def markdown_colours(palette: QPalette) -> tuple[bool, str, str]:
    """What `palette` gives rendered Markdown (`core.markdown.palette_style`): dark, muted text, the page.

    Plain values, which a thread may use (`gemchat.app` renders the last chat's answers on one).
    """
    return (is_dark(palette), palette.color(QPalette.ColorRole.PlaceholderText).name(),
            palette.color(QPalette.ColorRole.Base).name())


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether text is light on dark, judged from the palette in use (whoever set it)."""
    if palette is None:
        app = QGuiApplication.instance()
        if not isinstance(app, QGuiApplication):
            return False
        palette = app.palette()
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def dark_palette() -> QPalette:
    """A dark palette for platforms that do not provide one."""
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: "#202124",
        QPalette.ColorRole.WindowText: "#e8eaed",
        QPalette.ColorRole.Base: "#1b1c1e",
        QPalette.ColorRole.AlternateBase: "#26272a",
        QPalette.ColorRole.ToolTipBase: "#303134",
        QPalette.ColorRole.ToolTipText: "#e8eaed",
        QPalette.ColorRole.PlaceholderText: "#9aa0a6",
        QPalette.ColorRole.Text: "#e8eaed",
        QPalette.ColorRole.Button: "#2d2e31",
        QPalette.ColorRole.ButtonText: "#e8eaed",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Light: "#3c4043",
        QPalette.ColorRole.Midlight: "#35363a",
        QPalette.ColorRole.Mid: "#2a2b2e",
        QPalette.ColorRole.Dark: "#17181a",
        QPalette.ColorRole.Shadow: "#000000",
        QPalette.ColorRole.Highlight: "#8ab4f8",
        QPalette.ColorRole.HighlightedText: "#202124",
        QPalette.ColorRole.Link: "#8ab4f8",
        QPalette.ColorRole.LinkVisited: "#c58af9",
    }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b6e72"))
    return palette


def _wants_dark(app: QGuiApplication, theme: str) -> bool | None:
    """Whether `theme` wants a dark palette; None: the platform's own, light or dark.

    "system" on a platform that names no colour scheme (qt6ct, Kvantum, a desktop Qt
    does not know) takes the palette it gives: a dark one there is the user's choice.
    """
    if theme != "system":
        return theme == "dark"
    scheme = app.styleHints().colorScheme()
    return None if scheme == Qt.ColorScheme.Unknown else scheme == Qt.ColorScheme.Dark


def _match_palette(app: QGuiApplication) -> None:
    theme = app.property(_THEME_PROPERTY) or "system"
    if theme == "system" and app.property(_OURS_PROPERTY):
        app.setPalette(QPalette())  # back to the platform's own, from the one set here for "light" or "dark"
        app.setProperty(_OURS_PROPERTY, False)
    want = _wants_dark(app, theme)
    if want is None or want == is_dark(app.palette()):
        return
    if want:
        app.setPalette(dark_palette())
    else:
        app.setPalette(QPalette())  # back to the platform's own (light) palette
        if is_dark(app.palette()):  # the platform itself is dark: light was asked for
            app.setPalette(_light_palette(app))
    app.setProperty(_OURS_PROPERTY, True)


def _light_palette(app: QGuiApplication) -> QPalette:
    style = getattr(app, "style", None)
    return style().standardPalette() if callable(style) else QPalette(QColor("#f1f3f4"))


def _follow_system(app: QGuiApplication) -> None:
    """Re-checks the palette when the desktop switches between light and dark."""
    if app.findChild(QObject, _WATCHER_NAME) is not None:
        return
    watcher = QObject(app)
    watcher.setObjectName(_WATCHER_NAME)
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: _match_palette(app))


SIDEBAR_TINT = 0.06
"""How much of the accent colour (the palette's Highlight) the sidebar's background takes."""


def tint(widget: QWidget, amount: float = SIDEBAR_TINT) -> None:
    """Gives `widget` and what is inside it a background tinted with the accent, in step with the theme.

    The sidebar is set apart from the conversation by colour rather than by a
    border; the tint is made again from the application's palette whenever it
    changes (light, dark, the desktop's accent).
    """
    widget.setAutoFillBackground(True)
    keeper = _Tint(widget, amount)
    widget.installEventFilter(keeper)
    keeper.apply()


class _Tint(QObject):
    def __init__(self, widget: QWidget, amount: float) -> None:
        super().__init__(widget)
        self._widget = widget
        self._amount = amount

    def apply(self) -> None:
        app = QGuiApplication.instance()
        if not isinstance(app, QGuiApplication):
            return
        source = app.palette()
        accent = source.color(QPalette.ColorRole.Highlight)
        palette = self._widget.palette()
        changed = False
        base = source.color(QPalette.ColorRole.Base)
        for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
            amount = self._amount * (1.6 if is_dark(source) else 1.0)
            color = QColor(round(base.red() + (accent.red() - base.red()) * amount),
                           round(base.green() + (accent.green() - base.green()) * amount),
                           round(base.blue() + (accent.blue() - base.blue()) * amount))
            if palette.color(role) != color:
                palette.setColor(role, color)
                changed = True
        if changed:
            self._widget.setPalette(palette)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.ApplicationPaletteChange or event.type() == QEvent.Type.PaletteChange:
            self.apply()
        return False
