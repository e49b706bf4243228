"""A stand-in for the desktop's notification service, on a private D-Bus session bus of the tests' own.

`PrivateBus` runs a `dbus-daemon` with a configuration of its own (a socket in
a temporary folder, no service activation, so nothing installed on the machine
can answer in the fake's place). `FakeNotificationService` runs this module as a
separate process on that bus: it owns `org.freedesktop.Notifications` and
answers `Notify` with PySide6's QtDBus as a real server does (a call whose
signature is not `susssasa{sv}i` is refused, as GNOME Shell, Plasma or dunst
refuse it), records every notification as a JSON line on its stdout, and emits
`ActionInvoked` when the test clicks one (a line on its stdin).

Run by hand: `python -m tests.fakes.notification_server` on the current session bus.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

SERVICE = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
CLOSED_BY_USER = 2  # NotificationClosed's reason when the user dismissed (or clicked) it

_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def dbus_daemon() -> str | None:
    return shutil.which("dbus-daemon")


class PrivateBus:
    """A session bus of its own, for as long as the `with` lasts.

    Attributes:
        address: what `DBUS_SESSION_BUS_ADDRESS` is set to for a program on this bus.
    """

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="gemchat-bus-")
        self._process: subprocess.Popen[str] | None = None
        self.address = ""

    def __enter__(self) -> PrivateBus:
        folder = Path(self._folder.name)
        config = folder / "session.conf"
        config.write_text(_CONFIG.format(socket=folder / "bus"), encoding="utf-8")
        daemon = dbus_daemon()
        assert daemon is not None, "dbus-daemon is not installed"
        self._process = subprocess.Popen([daemon, f"--config-file={config}", "--nofork", "--print-address=1"],
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self._process.stdout is not None
        self.address = self._process.stdout.readline().strip()
        assert self.address.startswith("unix:"), f"dbus-daemon printed {self.address!r}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            if self._process.stdout is not None:
                self._process.stdout.close()
        self._folder.cleanup()


class FakeNotificationService:
    """This module's server, running on the bus at `address` until the `with` ends.

    Attributes:
        notifications: every `Notify` call so far, oldest first: its arguments by the
            specification's names and the `id` answered.
    """

    def __init__(self, address: str) -> None:
        self._address = address
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._notifications: list[dict[str, Any]] = []
        self._reader: threading.Thread | None = None

    @property
    def notifications(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._notifications)

    def __enter__(self) -> FakeNotificationService:
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": self._address, "QT_QPA_PLATFORM": "offscreen"}
        self._process = subprocess.Popen([sys.executable, "-m", "tests.fakes.notification_server"], env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True, cwd=Path(__file__).resolve().parents[2])
        assert self._process.stdout is not None
        ready = self._process.stdout.readline()
        if ready.strip() != '{"ready": true}':
            self._process.kill()
            raise AssertionError(f"the fake notification service did not start: {ready!r} {self._process.communicate()}")
        self._reader = threading.Thread(target=self._read, args=(self._process.stdout,), daemon=True,
                                        name="fake notification service")
        self._reader.start()
        return self

    def _read(self, stdout: IO[str]) -> None:
        for line in stdout:
            record = json.loads(line)
            with self._lock:
                self._notifications.append(record["notify"])

    def click(self, notification_id: int) -> None:
        """The user clicks the notification: `ActionInvoked(id, "default")`, then it closes."""
        assert self._process is not None and self._process.stdin is not None
        self._process.stdin.write(f"click {notification_id}\n")
        self._process.stdin.flush()

    def __exit__(self, *exc: object) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        finally:
            for stream in (self._process.stdin, self._process.stdout, self._process.stderr):
                if stream is not None:
                    stream.close()
            if self._reader is not None:
                self._reader.join(timeout=10)


# -- the server process ------------------------------------------------------------------------


def _serve() -> int:
    from PySide6.QtCore import ClassInfo, QCoreApplication, QObject, QSocketNotifier, Signal, Slot
    from PySide6.QtDBus import QDBusConnection

    @ClassInfo({"D-Bus Interface": SERVICE})
    class Notifications(QObject):
        """The specification's interface (version 1.2), with the types it names: QtDBus refuses other calls."""

        ActionInvoked = Signal("uint", str)  # the D-Bus names
        NotificationClosed = Signal("uint", "uint")

        def __init__(self) -> None:
            super().__init__()
            self._next_id = 1

        @Slot(str, "uint", str, str, str, "QStringList", "QVariantMap", int, result="uint")
        def Notify(self, app_name: str, replaces_id: int, app_icon: str, summary: str, body: str,  # noqa: N802
                   actions: list[str], hints: dict[str, Any], expire_timeout: int) -> int:
            notification_id = replaces_id or self._next_id
            if not replaces_id:
                self._next_id += 1
            record = {"app_name": app_name, "replaces_id": replaces_id, "app_icon": app_icon, "summary": summary,
                      "body": body, "actions": list(actions), "hints": {k: str(v) for k, v in hints.items()},
                      "expire_timeout": expire_timeout, "id": notification_id, "at": time.time()}
            print(json.dumps({"notify": record}), flush=True)
            return notification_id

        @Slot("uint")
        def CloseNotification(self, notification_id: int) -> None:  # noqa: N802
            self.NotificationClosed.emit(notification_id, 3)

        @Slot(result="QStringList")
        def GetCapabilities(self) -> list[str]:  # noqa: N802
            return ["actions", "body", "body-markup"]

        def click(self, notification_id: int) -> None:
            self.ActionInvoked.emit(notification_id, "default")
            self.NotificationClosed.emit(notification_id, CLOSED_BY_USER)

    app = QCoreApplication(sys.argv)
    bus = QDBusConnection.sessionBus()
    server = Notifications()
    exported = bus.registerObject(OBJECT_PATH, server, QDBusConnection.RegisterOption.ExportAllSlots
                                  | QDBusConnection.RegisterOption.ExportAllSignals)
    if not (exported and bus.registerService(SERVICE)):
        print(json.dumps({"ready": False, "error": bus.lastError().message()}), flush=True)
        return 1

    pending = [b""]

    def on_command() -> None:
        data = os.read(sys.stdin.fileno(), 4096)
        if not data:  # the test ended
            app.quit()
            return
        *lines, pending[0] = (pending[0] + data).split(b"\n")
        for line in lines:
            command, _, argument = line.decode().strip().partition(" ")
            if command == "click":
                server.click(int(argument))

    commands = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    commands.activated.connect(on_command)
    print(json.dumps({"ready": True}), flush=True)
    return app.exec()


if __name__ == "__main__":
    sys.exit(_serve())
