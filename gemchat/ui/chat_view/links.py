"""What a click on a link in the conversation does.

Model text is untrusted: a web link opens only on click and only for
http(s)/mailto; any other scheme does nothing. The app's own links
(`gemchat:<action>/<numbers>`: copy code, retry, continue, versions, thoughts)
run the action registered for them, with its numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from PySide6.QtGui import QDesktopServices

if TYPE_CHECKING:
    from PySide6.QtCore import QUrl

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
APP_SCHEME = "gemchat"


def app_href(action: str, *numbers: int) -> str:
    """The address of an app link, e.g. ``gemchat:version/12/-1``."""
    return f"{APP_SCHEME}:{action}/" + "/".join(str(number) for number in numbers)


class Links:
    """Follows clicked links: app actions by name and count of numbers, web links in the browser."""

    def __init__(self, actions: Mapping[str, tuple[int, Callable[..., None]]]) -> None:
        """`actions` maps an app link's action to how many numbers it takes and what it calls with them."""
        self._actions = dict(actions)

    def follow(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme == APP_SCHEME:
            self._run(url.path())
        elif scheme in SAFE_SCHEMES:
            QDesktopServices.openUrl(url)

    def _run(self, path: str) -> None:
        action, _, rest = path.partition("/")
        try:
            numbers = [int(part) for part in rest.split("/")]
        except ValueError:
            return
        arity, run = self._actions.get(action, (-1, None))
        if run is not None and len(numbers) == arity:
            run(*numbers)
