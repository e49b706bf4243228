"""Desktop notifications through the freedesktop Notifications service on the session bus.

`DesktopNotifier.notify` shows one, replacing the one shown before under the
same key, and returns at once: the call goes out on the asyncio loop and the
window never waits for it. A click on one comes back as `activated(key)`.
Without a session bus, or without a notification service on it, nothing is
shown and the log says so once, at info level; the next notification tries again.

A QObject and no widgets: what is notified, and when, is the window's business
(`gemchat.ui.answer_notifications`).

The bus is spoken to with jeepney (pure Python; keyring's Secret Service backend
already uses it on Linux), not PySide6's QtDBus: `Notify` takes `replaces_id` as
a uint32, and PySide6 6.11 cannot send one (a Python int goes out as an int32,
and QDBusArgument writes it as a uint16); notification servers check a call's
signature and refuse such a call.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from gemchat import DESKTOP_ID

if TYPE_CHECKING:
    from gemchat.tasks import Tasks

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
INTERFACE = "org.freedesktop.Notifications"
APP_NAME = "gemchat"
DESKTOP_ENTRY = DESKTOP_ID  # the launcher's id: the notification server shows its name and icon
DEFAULT_ACTION = "default"  # the action a click on the notification itself invokes
CALL_TIMEOUT = 5.0
"""Seconds to wait for the bus or the service: a server that hangs costs a notification, nothing more."""


class Unavailable(Exception):
    """No notification can be shown now: no session bus, no service on it, or it did not answer."""


def session_bus_address() -> str | None:
    """The session bus's address, as libdbus finds it: the environment, else `$XDG_RUNTIME_DIR/bus`."""
    if address := os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return address
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and (Path(runtime) / "bus").exists():
        return f"unix:path={Path(runtime) / 'bus'}"
    return None


class DesktopNotifier(QObject):
    """One connection to the session bus, opened at the first notification and kept until `close`.

    Signals:
        activated(int): a notification shown by `notify` was clicked; the key it was shown under.
    """

    activated = Signal(int)

    def __init__(self, tasks: Tasks, app_icon: str = APP_NAME, parent: QObject | None = None) -> None:
        """`app_icon` is an icon name or a file:// URI; `tasks` runs the calls and the signal listener."""
        super().__init__(parent)
        self._tasks = tasks
        self._app_icon = app_icon
        self._bus: Any = None  # jeepney's open_dbus_router, entered: its router sends and receives
        self._router: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._connecting = asyncio.Lock()
        self._shown: dict[int, int] = {}  # notification id -> key, while the server shows it
        self._unavailable_said = False
        self._closed = False

    def notify(self, key: int, summary: str, body: str) -> None:
        """Shows `summary` over `body` (plain text, escaped here); the one shown under `key` before is replaced."""
        if not self._closed:
            self._tasks.start(self._notify(key, summary, body))

    async def close(self) -> None:
        """Quitting: no notification from now on; the connection is closed."""
        self._closed = True
        await self._disconnect()

    async def _notify(self, key: int, summary: str, body: str) -> None:
        replaces = next((shown for shown, of in self._shown.items() if of == key), 0)
        try:
            router = await self._connected()
            import html  # here, not at import: its entities table is 0.7 MB the window at rest never uses

            from jeepney import DBusAddress, MessageType, new_method_call

            call = new_method_call(
                DBusAddress(OBJECT_PATH, bus_name=SERVICE, interface=INTERFACE), "Notify", "susssasa{sv}i",
                (APP_NAME, replaces, self._app_icon, summary, html.escape(body, quote=False),
                 [DEFAULT_ACTION, "Open"], {"desktop-entry": ("s", DESKTOP_ENTRY)}, -1),
            )
            reply = await self._call(router, call)
            if reply.header.message_type is MessageType.error:
                raise Unavailable(f"{_error_name(reply)}: {_error_text(reply)}")
        except Unavailable as exc:
            if not self._closed:  # quitting meanwhile is no outage
                self._say_unavailable(str(exc))
            return
        self._unavailable_said = False
        self._shown.pop(replaces, None)
        self._shown[int(reply.body[0])] = key

    async def _connected(self) -> Any:
        """The router of the open connection, opened now (and the service's signals subscribed to) if none is."""
        async with self._connecting:
            if self._closed:
                raise Unavailable("gemchat is quitting")
            if self._router is not None:
                return self._router
            address = session_bus_address()
            if address is None:
                raise Unavailable("no session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
            try:
                from jeepney import MatchRule, MessageType, message_bus
                from jeepney.bus import get_connectable_addresses
                from jeepney.io.asyncio import open_dbus_router
            except ImportError as exc:  # not installed where there is no freedesktop desktop
                raise Unavailable(f"jeepney is not installed ({exc})") from exc
            try:
                next(get_connectable_addresses(address))
            except (RuntimeError, ValueError) as exc:
                raise Unavailable(f"the session bus's address {address!r} cannot be used ({exc})") from exc
            bus = open_dbus_router(address)
            try:
                router = await asyncio.wait_for(bus.__aenter__(), CALL_TIMEOUT)
            except (OSError, EOFError, TimeoutError, ValueError) as exc:
                raise Unavailable(f"the session bus at {address} cannot be reached ({exc!r})") from exc
            self._bus, self._router = bus, router
            rule = MatchRule(type="signal", interface=INTERFACE, path=OBJECT_PATH)
            signals: asyncio.Queue[Any] = asyncio.Queue()
            router.filter(rule, queue=signals)  # before subscribing: nothing the bus sends is missed
            self._listener = self._tasks.start(self._listen(signals))
            reply = await self._call(router, message_bus.AddMatch(rule))
            if reply.header.message_type is MessageType.error:
                log.info("clicks on notifications will not be seen: %s", _error_name(reply))
            return router

    async def _call(self, router: Any, message: Any) -> Any:
        """Sends a method call and returns its reply (an error reply too); Unavailable if none comes."""
        from jeepney.io.common import RouterClosed

        try:
            return await asyncio.wait_for(router.send_and_get_reply(message), CALL_TIMEOUT)
        except (OSError, EOFError, TimeoutError, RouterClosed) as exc:
            await self._disconnect()  # the next notification connects again
            raise Unavailable(f"the session bus did not answer ({exc!r})") from exc

    async def _listen(self, signals: asyncio.Queue[Any]) -> None:
        """The service's signals: a click (ActionInvoked) and a notification gone (NotificationClosed)."""
        from jeepney import HeaderFields

        while True:
            message = await signals.get()
            fields = message.header.fields
            what = (fields.get(HeaderFields.member), fields.get(HeaderFields.signature))
            if what == ("ActionInvoked", "us") and message.body[1] == DEFAULT_ACTION:
                key = self._shown.get(message.body[0])
                if key is not None:
                    self.activated.emit(key)
            elif what == ("NotificationClosed", "uu"):
                self._shown.pop(message.body[0], None)

    async def _disconnect(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            self._listener = None
        bus, self._bus, self._router = self._bus, None, None
        self._shown.clear()  # ids of a server we no longer hear from
        if bus is not None:
            try:
                await bus.__aexit__(None, None, None)
            except (OSError, EOFError) as exc:  # already broken: nothing left to close
                log.debug("closing the session bus connection: %r", exc)

    def _say_unavailable(self, why: str) -> None:
        """Once, not at every answer, until a notification was shown again."""
        if not self._unavailable_said:
            self._unavailable_said = True
            log.info("desktop notifications are not shown: %s", why)


def _error_name(reply: Any) -> str:
    from jeepney import HeaderFields

    return str(reply.header.fields.get(HeaderFields.error_name, "error"))


def _error_text(reply: Any) -> str:
    return str(reply.body[0]) if reply.body else ""
