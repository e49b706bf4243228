"""A screen reader's view of gemchat through AT-SPI, for tests: what Orca would read, and what it would hear.

Run with Debian's Python (`/usr/bin/python3`, which has `python3-pyatspi`), not
the project's virtual environment, on the session bus gemchat uses:

    /usr/bin/python3 tests/fakes/screen_reader.py --ask "Show me a table"

It listens first (printing `{"listening": true}` once the registry has its
listeners, so an application started afterwards reports to it from its first
event), reads a line from its input (the test's word that the window is in
front), then waits for an application named gemchat, types the question into
the node named "Message" as a screen reader user's keystrokes would land there
(AT-SPI EditableText), presses the push button named "Send" (its Action), and
waits for the answer's announcement (`object:announcement`). Then it prints one
JSON object and exits:

    {"tree": [{"depth", "role", "name", "text"?, "states"?}, ...],
     "events": [{"type", "role", "name", "data"}, ...],
     "error"?: "what did not happen"}

`tree` is the application's accessible tree in order (the text of every node
with a Text interface, as GetText(0, -1) returns it); `events` are the events
heard from the moment it listened (announcements, text changes, caret moves).
It uses nothing of gemchat: only the accessible tree.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import pyatspi
from gi.repository import GLib

# A name change is listened for as Orca does: without a listener, Qt sends none and
# libatspi's cache keeps a name read before the change.
LISTENED = ("object:announcement", "object:text-changed", "object:text-caret-moved",
            "object:property-change:accessible-name")


def node_text(node) -> str | None:
    try:
        text = node.queryText()
    except NotImplementedError:
        return None
    return text.getText(0, -1)


def walk(node, depth: int = 0, out: list | None = None) -> list:
    """Every node under `node`, in order, with its role, name, text and, for the conversation, its states."""
    out = [] if out is None else out
    if node is None:
        return out
    item = {"depth": depth, "role": node.getRoleName(), "name": node.name}
    text = node_text(node)
    if text is not None:
        item["text"] = text
    if item["role"] == "document frame":
        item["states"] = sorted(pyatspi.stateToString(s) for s in node.getState().getStates())
    out.append(item)
    for index in range(node.childCount):
        walk(node.getChildAtIndex(index), depth + 1, out)
    return out


def find(node, role: str, name: str):
    if node is None:
        return None
    if node.getRoleName() == role and node.name == name:
        return node
    for index in range(node.childCount):
        found = find(node.getChildAtIndex(index), role, name)
        if found is not None:
            return found
    return None


def gemchat_application():
    desktop = pyatspi.Registry.getDesktop(0)
    for index in range(desktop.childCount):
        app = desktop.getChildAtIndex(index)
        if app is not None and app.name == "gemchat":
            return app
    return None


class Reader:
    """Listens, asks, waits for the announcement, and reports (see the module's docstring)."""

    def __init__(self, question: str, timeout: float) -> None:
        self.question = question
        self.deadline = time.monotonic() + timeout
        self.events: list[dict] = []
        self.report: dict = {}
        self.asked = False
        self.problem = ""

    def on_event(self, event) -> None:
        source = event.source
        try:
            role, name = source.getRoleName(), source.name
        except Exception:  # a node gone meanwhile: the event still counts
            role, name = "", ""
        data = event.any_data if isinstance(event.any_data, str) else None
        self.events.append({"type": event.type, "role": role, "name": name, "data": data,
                            "detail1": event.detail1})

    def step(self) -> bool:
        """One look, every 50 ms: asks once the window is there, reports once the answer is announced."""
        if time.monotonic() > self.deadline:
            waited = "no announcement heard" if self.asked else "no gemchat window with a Message box and Send"
            return self.finish(f"timed out: {waited}" + (f" (last error: {self.problem})" if self.problem else ""))
        try:
            return self.look()
        except Exception as exc:  # a window still being built, a node gone: look again
            self.problem = repr(exc)
            return True

    def look(self) -> bool:
        app = gemchat_application()
        if app is None:
            return True
        if not self.asked:
            message, send = find(app, "text", "Message"), find(app, "push button", "Send")
            if message is None or send is None:
                return True
            message.queryEditableText().setTextContents(self.question)
            send.queryAction().doAction(0)
            self.asked = True
            return True
        if not any(e["type"].startswith("object:announcement") for e in self.events):
            return True
        self.report["tree"] = walk(app)
        return self.finish(None)

    def finish(self, error: str | None) -> bool:
        if error:
            self.report["error"] = error
        self.report["events"] = self.events
        pyatspi.Registry.stop()
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ask", required=True, help="the question to type into gemchat's message box")
    parser.add_argument("--timeout", type=float, default=40.0, help="seconds to wait for the announcement")
    args = parser.parse_args(argv)
    reader = Reader(args.ask, args.timeout)
    pyatspi.Registry.registerEventListener(reader.on_event, *LISTENED)
    print(json.dumps({"listening": True}), flush=True)
    sys.stdin.readline()  # meanwhile the events wait on the bus
    reader.deadline = time.monotonic() + args.timeout
    GLib.timeout_add(50, reader.step)
    pyatspi.Registry.start()
    print(json.dumps(reader.report), flush=True)
    return 1 if "error" in reader.report else 0


if __name__ == "__main__":
    sys.exit(main())
