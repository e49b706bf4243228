"""The composition root: the Qt application, the asyncio loop, and the app wired together.

Everything is built here and passed in through constructors; nothing in the
package builds its own collaborators or keeps a global. `build_app` is what
both `run_gui` and the tests use, so the tests exercise the real wiring. The
command line that leads here is `gemchat.cli`.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, cast

from gemchat import DESKTOP_ID
from gemchat.paths import attachments_dir, database_path, drafts_path, key_file_path, settings_path

if TYPE_CHECKING:
    import threading

    from PySide6.QtWidgets import QApplication

    from gemchat.core.credentials import KeyStore
    from gemchat.core.gemini import GeminiBackend
    from gemchat.core.markdown import MarkdownStyle
    from gemchat.desktop_notifications import DesktopNotifier
    from gemchat.gemini_access import GeminiAccess
    from gemchat.instance import LaunchRequest
    from gemchat.launch_listener import LaunchListener
    from gemchat.session import ChatSession
    from gemchat.settings import Settings
    from gemchat.storage.attachment_files import AttachmentFiles
    from gemchat.storage.store import ChatStore
    from gemchat.storage.worker import StoreWorker
    from gemchat.tasks import Tasks
    from gemchat.ui.answer_notifications import AnswerNotifications
    from gemchat.ui.chat_view.message_writer import Prerendered
    from gemchat.ui.chat_view.typesetter import Typesetter
    from gemchat.ui.main_window import MainWindow
    from gemchat.ui.quick_ask import QuickAskWindow

    # The store, how many cut-off answers it marked, and the attachment files (`open_storage`).
    OpenedStorage = tuple[ChatStore, int, AttachmentFiles]

log = logging.getLogger("gemchat")

# asyncio, the database, the session and the SDK are imported inside the functions
# below: `build_window` shows the window before any of them is loaded.


@dataclass
class GemchatApp:
    """Everything `build_app` wires together; the tests drive the app through it.

    Attributes:
        tasks: the app's own background work (the key saved, the SDK warmed), ended at shutdown.
        typesetter: typesets the formulas of both windows' answers, in a worker process started for the first.
    """

    directory: Path
    settings: Settings
    db: StoreWorker
    access: GeminiAccess
    tasks: Tasks
    session: ChatSession
    window: MainWindow
    typesetter: Typesetter
    recovered: int = 0
    moved_aside: Path | None = None
    quick_ask: QuickAskWindow | None = None  # made the first time `gemchat --quick` asks for it
    notifier: DesktopNotifier | None = None  # desktop notifications, on the session bus
    notifications: AnswerNotifications | None = None  # which answers are announced there

    @property
    def backend(self) -> GeminiBackend | None:
        """The Gemini client for the current key (set directly by tests that need a special one)."""
        return self.access.backend

    @backend.setter
    def backend(self, backend: GeminiBackend | None) -> None:
        self.access.backend = backend


def build_window(directory: Path) -> MainWindow:
    """The window with the user's settings applied, before anything else is loaded.

    It can be shown at once: asyncio, the database, the session and the SDK come
    after (`build_app`), so the window appears in about the time a bare Qt
    window takes, and the user can start typing while the chats load.
    """
    from PySide6.QtWidgets import QApplication

    from gemchat.settings import Settings
    from gemchat.ui.main_window import MainWindow

    # The loop, not the last window, decides when the app ends: shutdown saves streams first.
    QApplication.instance().setQuitOnLastWindowClosed(False)  # type: ignore[union-attr]
    window = MainWindow(Settings.load(settings_path(directory)))
    window.apply_settings()
    return window


def show_window(window: MainWindow, minimized: bool = False, paint: bool = True) -> None:
    """Shows the window and lets it paint (unless `paint` is False: from inside the running event loop, which
    paints it next), then gives the app its icon (the quick-ask window's too), once, and the window its actions.

    Given before, the icon's seven sizes, read and converted for the X server as the
    window is made, cost the start 10 M instructions (3-4 ms) and QIcon's Python enums
    as much again: the taskbar shows the icon a moment later instead.
    """
    from PySide6.QtWidgets import QApplication

    if minimized:
        window.showMinimized()
    else:
        window.show()
    if paint:
        QApplication.processEvents()
    if QApplication.windowIcon().isNull():
        from gemchat.ui.icons import app_icon

        QApplication.setWindowIcon(app_icon())
    window.window_actions.make()  # and the menus' entries: not needed for the first frame (`WindowActions`)


def build_app(directory: Path, model: str | None = None, key_store: KeyStore | None = None,
              window: MainWindow | None = None, storage: OpenedStorage | None = None) -> GemchatApp:
    """Opens the store, builds the session and connects the window to it (built here unless given).

    `storage` is the store already opened by `open_storage` (as `run_gui` does, on a
    thread); without it the store is opened here. The key file the user may choose
    is in the config directory (`gemchat.paths.key_file_path`).

    Needs a running QApplication and a qasync loop set as the current loop.
    Raises `StorageError` when the database cannot be opened.
    """
    from gemchat.core.credentials import KeyFile, KeyStore
    from gemchat.core.gemini import GeminiBackend
    from gemchat.gemini_access import GeminiAccess
    from gemchat.session import ChatSession
    from gemchat.storage.drafts import DraftStore
    from gemchat.storage.worker import StoreWorker
    from gemchat.tasks import Tasks
    from gemchat.ui import accessibility
    from gemchat.ui.chat_view.typesetter import Typesetter

    if window is None:
        window = build_window(directory)
    # Rich text reads as a document to a screen reader. Not before the first paint: Qt's accessibility
    # types cost it about 8 ms to import.
    accessibility.install(window)
    settings = window.settings
    store, recovered, attachment_files = storage if storage is not None else open_storage(directory)
    tell = window.statusBar().showMessage
    tasks = Tasks(on_failure=lambda exc: tell(f"Something went wrong: {exc}", 10000))

    def make_backend(key: str) -> GeminiBackend:
        return GeminiBackend(api_key=key, read_timeout=settings.read_timeout)

    key_file = KeyFile(path) if (path := key_file_path(directory)) is not None else None
    access = GeminiAccess(key_store if key_store is not None else KeyStore(), key_file, make_backend, tasks, tell)
    db = StoreWorker(store)
    session = ChatSession(db, settings, access.current, model_override=model,
                          drafts=DraftStore(drafts_path(directory)), attachments=attachment_files)
    typesetter = Typesetter(parent=window)
    window.view.typesetter = typesetter
    app = GemchatApp(directory, settings, db, access, tasks, session, window, typesetter,
                     recovered=recovered, moved_aside=store.moved_aside)
    window.dialogs.keys = access
    window.attach_session(session)
    _notify_answers(app)
    _connect(app)
    from gemchat.ui.dialogs import show_start_notices

    show_start_notices(window, recovered, store.moved_aside)
    return app


def _notify_answers(app: GemchatApp) -> None:
    """A desktop notification for answers that end where the user is not looking; a click opens the chat."""
    from gemchat.desktop_notifications import DesktopNotifier
    from gemchat.ui.answer_notifications import AnswerNotifications
    from gemchat.ui.icons import icon_file

    icon = icon_file(128)
    app.notifier = DesktopNotifier(app.tasks, app_icon=icon.as_uri() if icon.exists() else "gemchat")
    app.notifications = AnswerNotifications(app.window, app.notifier, lambda: app.quick_ask, parent=app.window)


def open_storage(directory: Path) -> OpenedStorage:
    """The database, with answers cut off by the last exit marked, and attachments nobody uses removed.

    It reads the whole file (the integrity check, then a scan for cut-off answers):
    half a second for 100,000 messages, which `run_gui` spends on a thread. The
    connection may be used from any thread (`check_same_thread=False`).
    """
    from gemchat.storage.attachment_files import AttachmentFiles
    from gemchat.storage.errors import StorageError
    from gemchat.storage.store import ChatStore

    # A damaged file is renamed aside, never deleted, and the user is told where it went.
    store = ChatStore.open(database_path(directory), recover_corrupt=True)
    try:
        recovered = store.recover_streaming()
    except StorageError:
        recovered = 0  # a read-only or full disk: shown as cut off at a later start instead
        log.exception("cut-off answers could not be marked")
    attachment_files = AttachmentFiles(attachments_dir(directory))
    try:
        # Copies of deleted chats' files, and of attachments never sent, go now, before any new attach.
        attachment_files.prune(store.attachment_hashes())
    except (OSError, StorageError):
        log.exception("unused attachments could not be removed")
    return store, recovered, attachment_files


def _connect(app: GemchatApp) -> None:
    """What the window asks of the app beyond the session: the key and the settings file."""
    from gemchat.core.credentials import KeyPlace

    window, settings = app.window, app.settings

    def on_settings_changed() -> None:
        if app.backend is not None:
            app.backend.read_timeout = settings.read_timeout
        try:
            settings.save(settings_path(app.directory))
        except OSError as exc:
            window.statusBar().showMessage(f"Settings could not be saved: {exc}", 10000)

    dialogs, access = window.dialogs, app.access
    dialogs.api_key_entered.connect(lambda key, place: access.use_key(key, KeyPlace(place)))
    dialogs.forget_key_requested.connect(access.forget_key)
    dialogs.keep_key_in_file_requested.connect(access.keep_key_in_file)
    access.changed.connect(dialogs.refresh_keys)
    access.keyring_refused_key.connect(dialogs.offer_key_file)
    window.settings_changed.connect(on_settings_changed)


async def run_app(app: GemchatApp, prompt: str | None = None, files: Sequence[Path] = (),
                  launches: LaunchListener | None = None, quick: bool = False) -> None:
    """Runs until the user quits, then shuts down in order: streams, network, database.

    `prompt` and `files` are this launch's request (`quick`: for the quick-ask
    window, the main one then starts minimized); `launches` brings later
    launches' requests, taken in order once the window is ready.
    """
    import asyncio

    from gemchat.ui.launch_requests import LaunchRequests

    window, session = app.window, app.session
    quit_requested = asyncio.Event()
    window.close_requested.connect(quit_requested.set)
    if window.quit_asked:  # before this listened: the close button or SIGTERM while the chats loaded
        quit_requested.set()
    show_window(window, minimized=quick, paint=False)  # shown already by `run_gui`; not by the self-test or tests
    if not quick:
        window.composer.setFocus()
    requests = LaunchRequests(window, before_prompt=_warm_up_once_typing(app), quick_ask=_quick_ask(app))
    if launches is not None:
        launches.request_received.connect(
            lambda request: requests.take(request.prompt, request.files, quick=request.quick))
    key_loaded = app.tasks.start(app.access.load_stored_key())
    if not prompt or quick:
        await session.open_last_chat()
    if prompt or files or quick:
        await requests.take_now(prompt, files, before_sending=key_loaded, quick=quick)
    await session.refresh_chats()
    await key_loaded
    if app.backend is None:
        window.dialogs.ask_api_key()
    requests.open()
    await quit_requested.wait()
    if launches is not None:
        launches.close()  # a launch from now on waits for the lock, and takes over once this one is gone
    await shutdown(app)


def _quick_ask(app: GemchatApp) -> Callable[[str | None], None]:
    """Shows the quick-ask window (made at its first use), asking `prompt` there if given."""
    from gemchat.ui.launch_requests import bring_to_front

    def summon(prompt: str | None) -> None:
        if app.quick_ask is None:
            from gemchat.ui.quick_ask import QuickAskWindow

            quick = app.quick_ask = QuickAskWindow(app.session, app.settings, app.window.text_zoom)
            quick.view.typesetter = app.typesetter
            quick.shown_in_main.connect(lambda _chat_id: bring_to_front(app.window))
            app.window.settings_changed.connect(
                lambda: quick.presenter.set_typing(app.settings.typing_effect, app.settings.typing_speed))
        app.quick_ask.summon(prompt)

    return summon


def _warm_up_once_typing(app: GemchatApp) -> Callable[..., None]:
    """Starts the SDK's warm-up at the first key typed, starter chosen or message sent; returns the starter.

    The SDK (about 40 MB and half a second of imports) is loaded off the UI thread
    once the user starts a question, not at start: a window left open costs less.
    Nor when a chat's draft is put back in the message box: that happens at start.
    """
    composer, starters = app.window.composer, app.window.empty_state.starter_chosen
    started: list[object] = []

    def warm_up(*_: object) -> None:
        if not started:
            started.append(app.tasks.start(app.access.warm_up()))
            composer.key_typed.disconnect(warm_up)
            composer.submitted.disconnect(warm_up)
            starters.disconnect(warm_up)

    composer.key_typed.connect(warm_up)
    starters.connect(warm_up)  # a starter's question, usually sent as it is
    composer.submitted.connect(warm_up)  # text set without keys (paste from a menu, scripts)
    return warm_up


async def shutdown(app: GemchatApp) -> None:
    import asyncio

    if app.quick_ask is not None:
        app.quick_ask.close()  # at once: the main window stays up until what streamed is saved
    if app.notifications is not None:
        app.notifications.close()  # the answers stopped now were not finished: nothing to announce
    await app.session.shutdown()
    if app.notifier is not None:
        await app.notifier.close()
    await app.tasks.shutdown(timeout=5, cancel=False)  # a key being saved, the SDK being loaded
    if app.backend is not None:
        await app.backend.aclose()
    await asyncio.get_running_loop().run_in_executor(None, app.db.close)
    app.typesetter.close()
    app.window.allow_close()
    app.window.close()


def qt_application() -> QApplication:
    """The process's QApplication, named for the desktop (made here unless one exists)."""
    from gemchat.pyside_scan import answer_from_names  # noqa: I001 (before PySide6, which would read it too)
    from PySide6.QtWidgets import QApplication

    answer_from_names()  # before the window's modules are imported: see gemchat.pyside_scan
    qt_app = cast(QApplication, QApplication.instance() or QApplication([sys.argv[0]]))
    qt_app.setApplicationName("gemchat")
    qt_app.setApplicationDisplayName("gemchat")
    # The launcher's file name (packaging/install_desktop.py's DESKTOP_ID): Wayland compositors and KDE
    # match the window to its entry by it.
    qt_app.setDesktopFileName(DESKTOP_ID)
    return qt_app


def run_gui(directory: Path, model: str | None, prompt: str | None, files: Sequence[str] = (),
            quick: bool = False) -> int:
    """The window's whole life: shown first, then the rest loaded behind it; the exit status.

    When a gemchat already runs on `directory`, the request (`prompt`, `files`,
    `quick`) is handed to it instead, and this launch ends.
    """
    # Little of what is made until the window's start-up is loaded is garbage: the collector, on, walked it all
    # before the first paint (49 young collections, 15.5 M instructions, 1.7 % of the start). Off, its garbage is
    # collected once after that paint (`_run_window`), and `_load_behind_the_window` freezes what is there then
    # and turns the collector on again.
    gc.disable()
    try:
        return _run_gui(directory, model, prompt, files, quick)
    finally:
        gc.enable()  # a launch handed over or refused ends without loading anything


def _run_gui(directory: Path, model: str | None, prompt: str | None, files: Sequence[str], quick: bool) -> int:
    from gemchat.data_directory import lock_data_dir
    from gemchat.instance import LaunchRequest
    from gemchat.platform_check import display_problem

    if problem := display_problem():
        print(problem, file=sys.stderr)
        return 2
    paths = [Path(os.path.abspath(file)) for file in files]  # from where this launch was started
    qt_app = qt_application()
    try:
        lock = lock_data_dir(directory)
    except OSError:
        lock = None  # an unwritable directory: opening the database says so, more precisely
    else:
        if lock is None:
            handed = _hand_over(qt_app, directory, model, LaunchRequest(prompt, tuple(paths), quick))
            if isinstance(handed, int):
                return handed
            lock = handed  # the running gemchat ended meanwhile: this one takes its place
    try:
        return _run_window(qt_app, directory, model, prompt, paths, quick)
    finally:
        if lock is not None:  # closed here, not left to the garbage collector (a ResourceWarning)
            lock.close()


def _hand_over(qt_app: QApplication, directory: Path, model: str | None, request: LaunchRequest) -> IO[str] | int:
    """Gives the request to the gemchat holding `directory`: the exit status, or the lock if that one is gone."""
    from gemchat.data_directory import cannot_hand_over, lock_data_dir, not_responding, unreachable
    from gemchat.instance import ANSWER_WITHIN, NotAnswering, RequestRefused, hand_over, socket_name
    from gemchat.logs import setup_logging

    def try_lock() -> IO[str] | None:
        try:
            return lock_data_dir(directory)
        except OSError:
            return None

    try:
        lock = hand_over(directory, request, try_lock, ANSWER_WITHIN)
    except NotAnswering:
        setup_logging(directory, owner=False)
        socket = socket_name(directory)
        if os.path.isabs(socket) and not os.path.exists(socket):  # nothing to answer: not "not responding"
            return _refuse(qt_app, unreachable(directory, socket, ANSWER_WITHIN))
        return _refuse(qt_app, not_responding(directory, ANSWER_WITHIN))
    except (RequestRefused, OSError) as exc:
        setup_logging(directory, owner=False)
        return _refuse(qt_app, cannot_hand_over(directory, exc))
    if lock is not None:
        return lock
    if model:
        print(f"gemchat: --model {model} was not used: gemchat was already running with {directory}, "
              "and its window keeps its model.", file=sys.stderr)
    return 0


def _run_window(qt_app: QApplication, directory: Path, model: str | None, prompt: str | None,
                files: list[Path], quick: bool = False) -> int:
    # Shown and painted first (the way a splash screen is), then the rest loads behind it.
    window = build_window(directory)
    # With --quick the quick-ask window comes first once the chats are open; this one waits in the taskbar.
    show_window(window, minimized=quick)
    gc.collect(0)  # the start's garbage so far, uncollected with the collector off (`run_gui`): 4-6 ms, now
    from gemchat.data_directory import storage_problem
    from gemchat.storage.errors import StorageError
    from gemchat.ui.theme import markdown_colours

    try:
        storage, prerendered = _load_behind_the_window(directory, markdown_colours(window.palette()),
                                                       window.build_conversation)
    except StorageError as exc:
        window.allow_close()
        window.close()
        return _refuse(qt_app, storage_problem(directory, exc))
    if prerendered is not None:
        window.view.use_prerendered(*prerendered)
    import asyncio

    import qasync

    from gemchat.os_signals import quit_on_signals

    loop = qasync.QEventLoop(qt_app)
    asyncio.set_event_loop(loop)
    try:
        app = build_app(directory, model, window=window, storage=storage)
    except StorageError as exc:
        loop.close()  # its executor's thread ends now, not destroyed still running when Python exits
        window.allow_close()
        window.close()
        return _refuse(qt_app, storage_problem(directory, exc))
    from gemchat.launch_listener import listen_for_launches

    launches = listen_for_launches(directory)
    notifier = quit_on_signals(window.close_requested.emit)
    with loop:
        loop.run_until_complete(run_app(app, prompt, files, launches, quick))
    if launches is not None:
        launches.close()
    del notifier
    return 0


BEHIND_THE_WINDOW = (
    "gemchat.ui.conversation", "asyncio", "qasync", "gemchat.core.credentials", "gemchat.core.gemini", "gemchat.gemini_access",
    "gemchat.session", "gemchat.storage.drafts", "gemchat.storage.worker", "gemchat.tasks", "gemchat.ui.accessibility",
    "gemchat.ui.chat_view.typesetter", "gemchat.desktop_notifications", "gemchat.ui.answer_notifications",
    "gemchat.ui.dialogs", "gemchat.ui.launch_requests", "gemchat.launch_listener", "gemchat.os_signals",
)
"""What `build_app` and `run_app` import, imported by `_load_behind_the_window` (not the SDK: that waits for a key).

The conversation view's modules first: the window makes its view from them (`build_conversation`) a moment
after its first paint, before a user (or a screen reader's user) is likely to type. Made later, after a
question was begun, the view's name reached a screen reader after the question (CI, 14:15); made last, while
the store opened, its turn was shorter (no GIL shared with imports), but that is the smaller cost."""


def _load_behind_the_window(directory: Path, colours: tuple[bool, str, str], build_conversation: Callable[[], object]
                            ) -> tuple[OpenedStorage, tuple[MarkdownStyle, Prerendered] | None]:
    """Starts the log, imports what the rest of the app needs and opens the store, on a thread, while the shown window paints
    and takes keys (its actions wait for the chats); raises what `open_storage` raises.

    Once the conversation view's modules are imported, `build_conversation` is called
    on the UI thread, in a turn of its own, while the thread goes on (made in the turn
    after the first paint, with its imports there, it froze the window for 60-70 ms).

    With chats, the last one's latest answers are rendered there too, in the window's
    Markdown colours (`colours`, from `gemchat.ui.theme.markdown_colours`): the store
    and that HTML are returned.

    On the UI thread, between the first paint and the event loop, those imports (asyncio,
    qasync, the session, the backend: 90 modules, each also read by PySide6's feature
    check) froze the window for 100-300 ms under load, and the store's integrity check
    for 0.6-0.8 s with 100,000 messages.
    """
    import importlib
    import threading

    from gemchat.logs import setup_logging

    outcome: list[tuple[OpenedStorage, tuple[MarkdownStyle, Prerendered] | None] | BaseException] = []
    conversation_importable = threading.Event()

    def load() -> None:
        try:
            setup_logging(directory)  # its handlers' imports too (socket, selectors: 6-100 ms)
            for name in BEHIND_THE_WINDOW:
                importlib.import_module(name)
                conversation_importable.set()  # after the first
            storage = open_storage(directory)
            last = storage[0].last_chat_id()
            outcome.append((storage, None if last is None else _render_last_chat(storage[0], last, colours)))
        except BaseException as exc:  # handed to the UI thread, raised there
            outcome.append(exc)

    # What is loaded now lives as long as the app: a full collection in the middle of it (40-50 ms, holding
    # the GIL the window needs to paint) would walk it for nothing, and so would every later one. (`run_gui`
    # turned the collector off at the start already; so do tests that come here on their own.)
    gc.disable()
    _run_behind_the_window(threading.Thread(target=load, name="gemchat-start", daemon=True),
                           conversation_importable, build_conversation)
    gc.freeze()
    gc.enable()
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _run_behind_the_window(worker: threading.Thread, conversation_importable: threading.Event,
                           build_conversation: Callable[[], object]) -> None:
    """Runs `worker` while the window takes its events, until it ends (looked at every 5 ms); makes the
    conversation view in a turn of its own once `conversation_importable` is set."""
    from PySide6.QtCore import QEventLoop, QTimer

    waiting = QEventLoop()
    poll = QTimer()
    poll.setInterval(5)
    built = False

    def check() -> None:
        nonlocal built
        if not built and conversation_importable.is_set():
            built = True
            build_conversation()
        elif not worker.is_alive():
            waiting.quit()

    poll.timeout.connect(check)
    worker.start()
    poll.start()
    waiting.exec()
    poll.stop()
    worker.join()


def _render_last_chat(store: ChatStore, chat_id: int, colours: tuple[bool, str, str]
                      ) -> tuple[MarkdownStyle, Prerendered] | None:
    """On the start-up thread: Markdown and the common lexers prepared, and the latest answers of the chat
    that will be shown made into HTML (`ChatView.use_prerendered`); None if that failed (logged).

    Not on the UI thread (100-190 ms of imports, 15 ms of HTML in the turn that shows the
    chat), nor racing it. A new data directory has no chat to render, and leaves Markdown
    until a question is typed.
    """
    from gemchat.core.markdown import palette_style, warm_up
    from gemchat.ui.chat_view.document import opening
    from gemchat.ui.chat_view.message_writer import prerender

    try:
        style = palette_style(*colours)
        for _ in warm_up(style):
            pass
        return style, prerender(opening(store.messages(chat_id)), style)
    except Exception:  # only time is lost: the first render makes what it needs itself
        log.warning("Markdown could not be prepared at start", exc_info=True)
        return None


def _refuse(qt_app: QApplication, message: str) -> int:
    """Says why gemchat will not start: in the log (already started), on stderr and in a box."""
    from gemchat.logs import logs_to_stderr

    log.error("%s", message)
    if not logs_to_stderr():  # unless the log already went there
        print(f"gemchat: {message}", file=sys.stderr)
    if qt_app.platformName() != "offscreen":  # nobody could close a box there: it would hang
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "gemchat", message)
    return 1
