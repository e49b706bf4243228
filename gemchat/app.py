"""The composition root: command line, Qt application, asyncio loop, wiring.

Everything is built here and passed in through constructors; nothing in the
package builds its own collaborators or keeps a global. `build_app` is what
both `main` and the tests use, so the tests exercise the real wiring.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable, Sequence

from gemchat import __version__
from gemchat.paths import attachments_dir, data_dir, database_path, drafts_path, log_path, settings_path

if TYPE_CHECKING:
    from gemchat.core.gemini import GeminiBackend
    from gemchat.core.credentials import KeyStore
    from gemchat.session import ChatSession
    from gemchat.settings import Settings
    from gemchat.storage.worker import StoreWorker
    from gemchat.ui.main_window import MainWindow

log = logging.getLogger("gemchat")


COMMANDS = ("export", "import")
_OPTIONS_WITH_VALUE = ("--data-dir", "--model", "--format", "--chat", "--output")


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", metavar="DIR",
        help="where chats, settings and logs are kept (default: the OS's user data "
             "directory; GEMCHAT_DATA_DIR also sets it)",
    )


def _first_positional(argv: Sequence[str]) -> str | None:
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--":
            return None
        elif arg in _OPTIONS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """`gemchat [PROMPT]` opens the window; `gemchat export|import` are tools.

    Two parsers, because argparse cannot tell an optional prompt from a sub-command.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if _first_positional(argv) in COMMANDS:
        tools = argparse.ArgumentParser(prog="gemchat")
        commands = tools.add_subparsers(dest="command", required=True)
        export = commands.add_parser("export", help="write chats to stdout")
        _data_dir_option(export)
        export.add_argument("--format", choices=("json", "markdown"), default="json")
        export.add_argument("--chat", type=int, metavar="ID", help="only this chat")
        export.add_argument("--output", metavar="FILE",
                            help="write FILE instead of stdout; JSON also writes the attached files to "
                                 "FILE's name with .attachments/ beside it")
        imp = commands.add_parser("import", help="add chats from an export file")
        _data_dir_option(imp)
        imp.add_argument("file", metavar="FILE", help="JSON written by `gemchat export` (- for stdin)")
        return tools.parse_args(argv)
    gui = argparse.ArgumentParser(
        prog="gemchat",
        usage="gemchat [--data-dir DIR] [--model NAME] [PROMPT]\n"
              "       gemchat --self-test | --version\n"
              "       gemchat export [--data-dir DIR] [--format json|markdown] [--chat ID] [--output FILE]\n"
              "       gemchat import [--data-dir DIR] FILE",
        description="A desktop chat app for Google's Gemini models.",
        epilog="The API key comes from GOOGLE_API_KEY / GEMINI_API_KEY or the system keyring. "
               "GOOGLE_GEMINI_BASE_URL sends requests through a proxy or gateway.",
    )
    gui.add_argument("--version", action="version", version=f"gemchat {__version__}")
    _data_dir_option(gui)
    gui.add_argument("--model", metavar="NAME", help="model for new chats in this run")
    gui.add_argument("prompt", nargs="?", metavar="PROMPT", help="open a new chat and send this message")
    gui.add_argument(
        "--self-test", action="store_true",
        help="open the window offscreen, stream one answer from a built-in loopback server, "
             "exit 0 if it arrived whole (proves a packaged build works)",
    )
    args = gui.parse_args(argv)
    args.command = None
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if getattr(args, "self_test", False):
        from gemchat.selftest import run_self_test

        return run_self_test()
    directory = data_dir(args.data_dir)
    if args.command == "export":
        return _export(directory, args.format, args.chat, args.output)
    if args.command == "import":
        return _import(directory, args.file)
    return run_gui(directory, args.model, args.prompt)


# -- command-line tools ---------------------------------------------------------


def _export(directory: Path, fmt: str, chat_id: int | None, output: str | None = None) -> int:
    from gemchat.storage.attachment_files import AttachmentFiles
    from gemchat.storage.errors import StorageError
    from gemchat.storage.exchange import export_bundle, export_json, export_markdown
    from gemchat.storage.store import ChatStore

    try:
        store = ChatStore.open(database_path(directory))
    except StorageError as exc:
        print(f"gemchat: {exc}", file=sys.stderr)
        return 1
    try:
        if output is not None and fmt == "json":
            export_bundle(store, AttachmentFiles(attachments_dir(directory)), Path(output), chat_id)
            return 0
        text = (export_json if fmt == "json" else export_markdown)(store, chat_id)
    except LookupError:
        print(f"gemchat: no chat with id {chat_id}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"gemchat: cannot write {output}: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    text = text if text.endswith("\n") else text + "\n"
    if output is not None:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"gemchat: cannot write {output}: {exc}", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


def _import(directory: Path, file: str) -> int:
    from gemchat.storage.errors import ImportFormatError, StorageError
    from gemchat.storage.exchange import import_json
    from gemchat.storage.store import ChatStore

    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"gemchat: cannot read {file}: {exc}", file=sys.stderr)
        return 1
    try:
        store = ChatStore.open(database_path(directory))
    except StorageError as exc:
        print(f"gemchat: {exc}", file=sys.stderr)
        return 1
    from gemchat.storage.attachment_files import AttachmentFiles

    try:
        ids = import_json(store, text, AttachmentFiles(attachments_dir(directory)),
                          None if file == "-" else Path(file))
    except ImportFormatError as exc:
        print(f"gemchat: {file} was not imported: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"Imported {len(ids)} chat{'s' if len(ids) != 1 else ''}.", file=sys.stderr)
    return 0


# -- the window -------------------------------------------------------------------


def setup_logging(directory: Path) -> logging.Handler:
    """A rotating log in the data directory; message text never goes in it (unless `debug_log` is set).

    Returns the handler, so a caller that is not the whole process (a test) can remove it.
    """
    import logging.handlers

    path = log_path(directory)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpx2", "httpcore", "google_genai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handler


@dataclass
class GemchatApp:
    """Everything `build_app` wires together; the tests drive the app through it."""

    directory: Path
    settings: Settings
    db: StoreWorker
    key_store: KeyStore
    session: ChatSession | None = None
    window: MainWindow | None = None
    backend: GeminiBackend | None = None
    recovered: int = 0
    moved_aside: Path | None = None
    make_backend: Callable[[str], GeminiBackend] | None = None

    def current_backend(self) -> GeminiBackend | None:
        return self.backend

    async def load_stored_key(self) -> None:
        """The key from the OS keyring, read on a worker thread after the window shows.

        Finding and asking a keyring backend (D-Bus, a locked wallet) can take from
        a tenth of a second to much longer: never on the UI thread, never before
        the window is up.
        """
        import asyncio

        if self.backend is not None or self.make_backend is None:
            return
        key = await asyncio.get_running_loop().run_in_executor(None, self.key_store.load)
        if key and self.backend is None:
            self.backend = self.make_backend(key)


def build_window(directory: Path) -> MainWindow:
    """The window with the user's settings applied, before anything else is loaded.

    It can be shown at once: asyncio, the database, the session and the SDK come
    after (`build_app`), so the window appears in about the time a bare Qt
    window takes, and the user can start typing while the chats load.
    """
    from gemchat.settings import Settings
    from gemchat.ui.icons import app_icon
    from gemchat.ui.main_window import MainWindow

    from PySide6.QtWidgets import QApplication

    # The loop, not the last window, decides when the app ends: shutdown saves streams first.
    QApplication.instance().setQuitOnLastWindowClosed(False)  # type: ignore[union-attr]
    window = MainWindow(Settings.load(settings_path(directory)), icon=app_icon())
    window.apply_settings()
    return window


def build_app(directory: Path, model: str | None = None, key_store: KeyStore | None = None,
              window: MainWindow | None = None) -> GemchatApp:
    """Opens the store, builds the session and connects the window to it (built here unless given).

    Needs a running QApplication and a qasync loop set as the current loop.
    Raises `StorageError` when the database cannot be opened.
    """
    import asyncio

    from gemchat.core.gemini import GeminiBackend
    from gemchat.core.credentials import KeyStore, key_from_env
    from gemchat.session import ChatSession
    from gemchat.storage.errors import StorageError
    from gemchat.storage.drafts import DraftStore
    from gemchat.storage.store import ChatStore
    from gemchat.storage.worker import StoreWorker

    from PySide6.QtGui import QTextCursor

    if window is None:
        window = build_window(directory)
    settings = window.settings
    # A damaged file is renamed aside, never deleted, and the user is told where it went (below).
    store = ChatStore.open(database_path(directory), recover_corrupt=True)
    try:
        recovered = store.recover_streaming()
    except StorageError:
        recovered = 0  # a read-only or full disk: shown as cut off at a later start instead
        log.exception("cut-off answers could not be marked")
    from gemchat.storage.attachment_files import AttachmentFiles

    attachment_files = AttachmentFiles(attachments_dir(directory))
    try:
        # Copies of deleted chats' files, and of attachments never sent, go now, before any new attach.
        attachment_files.prune(store.attachment_hashes())
    except (OSError, StorageError):
        log.exception("unused attachments could not be removed")
    db = StoreWorker(store)
    keys = key_store if key_store is not None else KeyStore()
    holder = GemchatApp(directory, settings, db, keys, recovered=recovered, moved_aside=store.moved_aside)

    def make_backend(key: str) -> GeminiBackend:
        return GeminiBackend(api_key=key, read_timeout=settings.read_timeout)

    def key_status() -> str:
        from gemchat.core.credentials import key_from_env

        if key_from_env():
            return "Set by the environment (GOOGLE_API_KEY / GEMINI_API_KEY)."
        if holder.backend is not None:
            return "Set (kept in the system keyring)." if keys.load() else "Set for this session only."
        return "No key set."

    holder.make_backend = make_backend
    if key := key_from_env():  # the keyring is read after the window shows (load_stored_key)
        holder.backend = make_backend(key)
    session = ChatSession(db, settings, holder.current_backend, model_override=model,
                          drafts=DraftStore(drafts_path(directory)), attachments=attachment_files)
    window.key_status = key_status
    window.attach_session(session)
    holder.session, holder.window = session, window

    def on_key_entered(key: str) -> None:
        if holder.backend is None:
            holder.backend = make_backend(key)
        else:
            holder.backend.set_api_key(key)
        asyncio.ensure_future(_save_key(keys, key, window))

    window.api_key_entered.connect(on_key_entered)
    def on_settings_changed() -> None:
        if holder.backend is not None:
            holder.backend.read_timeout = settings.read_timeout
        try:
            settings.save(settings_path(directory))
        except OSError as exc:
            window.statusBar().showMessage(f"Settings could not be saved: {exc}", 10000)

    def on_forget_key() -> None:
        keys.delete()
        if key_from_env() is None and holder.backend is not None:
            old, holder.backend = holder.backend, None
            asyncio.ensure_future(old.aclose())

    def on_unsent(text: str) -> None:
        # The message could not be saved: it goes back where it was typed rather than being lost.
        if window.composer.document().isEmpty():
            window.composer.setPlainText(text)
            window.composer.moveCursor(QTextCursor.MoveOperation.End)

    window.settings_changed.connect(on_settings_changed)
    window.forget_key_requested.connect(on_forget_key)
    session.unsent.connect(on_unsent)
    window.composer.refused.connect(lambda why: window.statusBar().showMessage(why, 10000))
    if recovered:
        window.statusBar().showMessage(
            f"{recovered} answer{'s were' if recovered > 1 else ' was'} cut off when gemchat "
            "last stopped; the text that arrived is kept.", 15000)
    if store.moved_aside is not None:
        _tell_moved_aside(window, store.moved_aside)
    return holder


def _tell_moved_aside(window: MainWindow, aside: Path) -> None:
    """Says, until dismissed, that the old database was kept and where: it may hold chats worth rescuing."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QMessageBox

    text = (f"gemchat's database was damaged and could not be read. It was moved aside, not deleted, "
            f"to {aside}, and a new, empty database was started.")
    window.statusBar().showMessage(text, 60000)
    box = QMessageBox(QMessageBox.Icon.Warning, "gemchat", text, QMessageBox.StandardButton.Ok, window)
    box.setObjectName("moved_aside_notice")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    QTimer.singleShot(0, box.open)  # once the window is shown, over it; never a nested event loop


async def _save_key(keys: KeyStore, key: str, window: MainWindow) -> None:
    import asyncio

    from gemchat.core.credentials import KeyringUnavailable

    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, keys.save, key)
        window.statusBar().showMessage("API key saved in the system keyring.", 5000)
    except KeyringUnavailable as exc:
        window.statusBar().showMessage(str(exc), 15000)


async def run_app(app: GemchatApp, prompt: str | None = None) -> None:
    """Runs until the user quits, then shuts down in order: streams, network, database."""
    import asyncio

    window, session = app.window, app.session
    assert window is not None and session is not None
    quit_requested = asyncio.Event()
    window.close_requested.connect(quit_requested.set)
    if window.quit_asked:  # before this listened: the close button or SIGTERM while the chats loaded
        quit_requested.set()
    window.show()
    window.composer.setFocus()
    # The SDK (about 40 MB and half a second of imports) is loaded off the UI thread once
    # the user starts typing a question, not at start: a window left open costs less.
    loop = asyncio.get_running_loop()
    warmed: list[object] = []

    async def warm() -> None:
        await loop.run_in_executor(None, _import_sdk)
        backend = app.current_backend()
        if backend is not None:
            try:
                await backend.prepare()  # the HTTP client too, while the question is being typed
            except Exception:  # the first request will report it properly
                log.exception("preparing the Gemini client failed")

    def warm_sdk(*_: object) -> None:
        if not warmed:
            warmed.append(asyncio.ensure_future(warm()))
            window.composer.key_typed.disconnect(warm_sdk)
            window.composer.submitted.disconnect(warm_sdk)

    window.composer.key_typed.connect(warm_sdk)
    window.composer.submitted.connect(warm_sdk)  # text set without keys (paste from a menu, scripts)
    key_loaded = asyncio.ensure_future(app.load_stored_key())
    if prompt:
        warm_sdk()
        await session.new_chat()
        await key_loaded
        session.send(prompt)
    else:
        await session.open_last_chat()
    await session.refresh_chats()
    await key_loaded
    if app.backend is None:
        window.ask_api_key()
    await quit_requested.wait()
    await shutdown(app)


async def shutdown(app: GemchatApp) -> None:
    import asyncio

    assert app.session is not None and app.window is not None
    await app.session.shutdown()
    if app.backend is not None:
        await app.backend.aclose()
    await asyncio.get_running_loop().run_in_executor(None, app.db.close)
    app.window.allow_close()
    app.window.close()


def _import_sdk() -> None:
    from gemchat.core.gemini import load_sdk_now

    # The import makes ~76,000 tracked objects: left on, the cyclic garbage collector walks
    # everything alive in the middle of it (45 ms with a 2,000-message chat open),
    # holding the GIL, so the window stops while the user types.
    gc.disable()
    try:
        load_sdk_now()
    except Exception:  # the first request will report it properly
        log.exception("importing google-genai failed")
    finally:
        # What exists now lives as long as the app: the cyclic garbage collector need not
        # walk it again, which otherwise costs 50-90 ms pauses while an answer streams.
        gc.freeze()
        gc.enable()


def run_gui(directory: Path, model: str | None, prompt: str | None) -> int:
    from gemchat.platform_check import display_problem

    if problem := display_problem():
        print(problem, file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication, QMessageBox

    qt_app = QApplication.instance() or QApplication([sys.argv[0]])
    qt_app.setApplicationName("gemchat")
    qt_app.setApplicationDisplayName("gemchat")
    qt_app.setDesktopFileName("gemchat")

    logging_to: list[logging.Handler] = []

    def start_logging() -> None:
        if not logging_to:
            logging_to.append(setup_logging(directory))

    def refuse(message: str) -> int:
        start_logging()
        log.error("%s", message)
        if not any(type(h) is logging.StreamHandler for h in logging.getLogger().handlers):
            print(f"gemchat: {message}", file=sys.stderr)  # unless the log already went there
        if qt_app.platformName() != "offscreen":  # nobody could close a box there: it would hang
            QMessageBox.critical(None, "gemchat", message)
        return 1

    lock: IO[str] | None = None
    try:
        lock = lock_data_dir(directory)
        if lock is None:
            return refuse(
                f"gemchat is already running with the data directory {directory}. Switch to its window, "
                "or start this one with --data-dir DIR to keep a separate set of chats."
            )
    except OSError:
        pass  # an unwritable directory: opening the database says so, more precisely
    # Shown and painted first (the way a splash screen is), then the rest loads behind it.
    window = build_window(directory)
    window.show()
    qt_app.processEvents()
    start_logging()  # not before: the log's rotating handler costs the first paint 6 ms of imports
    import asyncio

    import qasync

    from gemchat.storage.errors import StorageError

    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    try:
        app = build_app(directory, model, window=window)
    except StorageError as exc:
        window.allow_close()
        window.close()
        code = refuse(storage_problem(directory, exc))
        if lock is not None:  # closed here, not left to the garbage collector (a ResourceWarning)
            lock.close()
        return code
    notifier = _quit_on_signals(app)
    with loop:
        loop.run_until_complete(run_app(app, prompt))
    del notifier
    if lock is not None:
        lock.close()
    return 0


def lock_data_dir(directory: Path) -> IO[str] | None:
    """Holds an OS lock on `DIR/gemchat.lock` while the window runs; None when another process holds it.

    Two windows on one database would each show a stale copy of the chats and
    mark the other's streaming answer as cut off at start-up. The OS releases
    the lock when the process ends, however it ends (kill -9 too), so it never
    goes stale. Raises OSError when the directory cannot be written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    file = open(directory / "gemchat.lock", "a+", encoding="utf-8")  # noqa: SIM115 (held until exit)
    try:
        if sys.platform == "win32":
            import msvcrt

            file.seek(0)
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        file.close()
        return None
    return file


def storage_problem(directory: Path, exc: Exception) -> str:
    """What to tell a user whose database cannot be opened, with what they can do about it."""
    from gemchat.storage.errors import NewerDatabase

    if isinstance(exc, NewerDatabase):
        return str(exc)
    database = database_path(directory)
    if not os.access(directory, os.W_OK) or (database.exists() and not os.access(database, os.W_OK)):
        return (f"gemchat cannot write to its data directory {directory}: it is read-only or belongs to "
                f"another user. Make it writable, or start gemchat with --data-dir DIR. ({exc})")
    return f"gemchat cannot open its database {database}: {exc}"


def _quit_on_signals(app: GemchatApp) -> object:
    """Ctrl+C in the terminal and SIGTERM quit like Ctrl+Q, saving what is streaming.

    Python runs signal handlers only between bytecodes, and an idle Qt loop runs
    none; a wake-up socket watched by Qt gets Python running at once.
    """
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(lambda *_: reader.recv(64))

    def on_signal(_signum: int, _frame: object) -> None:
        assert app.window is not None
        app.window.close_requested.emit()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    return (notifier, reader, writer)
