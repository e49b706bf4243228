"""The command line: `gemchat [PROMPT]` opens the window; `export`, `import` and `--self-test` run without it.

What each command needs is imported when it runs: the window's start-up pays
for none of the tools, and the tools load no Qt.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gemchat import __version__
from gemchat.files import write_atomically
from gemchat.paths import attachments_dir, data_dir, database_path

if TYPE_CHECKING:
    from gemchat.storage.store import ChatStore

COMMANDS = ("export", "import")
WORKER_ARGUMENT = "--typeset-worker"  # gemchat.core.typeset.WORKER_ARGUMENT, without importing it
_OPTIONS_WITH_VALUE = ("--data-dir", "--model", "--format", "--chat", "--output")


def main(argv: Sequence[str] | None = None) -> int:
    if list(sys.argv[1:] if argv is None else argv) == [WORKER_ARGUMENT]:  # the app's own formula typesetter
        from gemchat.core.typeset import run_worker

        return run_worker()
    args = parse_args(argv)
    if getattr(args, "self_test", False):
        from gemchat.selftest import run_self_test

        return run_self_test()
    directory = data_dir(args.data_dir)
    if args.command == "export":
        return export_chats(directory, args.format, args.chat, args.output)
    if args.command == "import":
        return import_chats(directory, args.file)
    from gemchat.app import run_gui

    return run_gui(directory, args.model, args.prompt, args.files, quick=args.quick)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Two parsers, because argparse cannot tell an optional prompt from a sub-command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if _first_positional(argv) in COMMANDS:
        return _tools_parser().parse_args(argv)
    parser = _window_parser()
    args = parser.parse_args(argv)
    args.command = None
    args.files = [arg for arg in args.arguments if os.path.exists(arg)]
    words = [arg for arg in args.arguments if not os.path.exists(arg)]
    if len(words) > 1:
        parser.error(f"{', '.join(repr(w) for w in words)} are not files, and only one PROMPT can be given: "
                     "put the message in quotes, or check the file names.")
    args.prompt = words[0] if words else None
    if args.quick and args.files:
        parser.error("--quick asks a PROMPT and takes no FILEs: attach files in the main window "
                     "(`gemchat FILE ...`).")
    return args


def _tools_parser() -> argparse.ArgumentParser:
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
    return tools


def _window_parser() -> argparse.ArgumentParser:
    gui = argparse.ArgumentParser(
        prog="gemchat",
        usage="gemchat [--data-dir DIR] [--model NAME] [PROMPT] [FILE ...]\n"
              "       gemchat [--data-dir DIR] --quick [PROMPT]\n"
              "       gemchat --self-test | --version\n"
              "       gemchat export [--data-dir DIR] [--format json|markdown] [--chat ID] [--output FILE]\n"
              "       gemchat import [--data-dir DIR] FILE",
        description="A desktop chat app for Google's Gemini models.",
        epilog="If gemchat is already running with the same data directory, its window comes to the front "
               "and takes PROMPT and FILEs instead. "
               "The API key comes from GOOGLE_API_KEY / GEMINI_API_KEY or the system keyring. "
               "GOOGLE_GEMINI_BASE_URL sends requests through a proxy or gateway.",
    )
    gui.add_argument("--version", action="version", version=f"gemchat {__version__}")
    _data_dir_option(gui)
    gui.add_argument("--model", metavar="NAME", help="model for new chats in this run")
    gui.add_argument("arguments", nargs="*", metavar="PROMPT | FILE",
                     help="PROMPT: open a new chat and send this message; FILE: attach it (to PROMPT if given). "
                          "An argument naming an existing file is a FILE")
    gui.add_argument(
        "--quick", action="store_true",
        help="show the quick-ask window (small, above other windows) of the running gemchat, starting it "
             "if needed; PROMPT is asked there. Bind `gemchat --quick` to a key in your desktop's settings",
    )
    gui.add_argument(
        "--self-test", action="store_true",
        help="open the window offscreen, stream one answer from a built-in loopback server, "
             "exit 0 if it arrived whole (proves a packaged build works)",
    )
    return gui


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


# -- the tools ----------------------------------------------------------------------


def _open_store(directory: Path) -> ChatStore | None:
    """The data directory's database for a command-line tool, or None once the reason is printed."""
    from gemchat.storage.errors import StorageError
    from gemchat.storage.store import ChatStore

    try:
        return ChatStore.open(database_path(directory))
    except StorageError as exc:
        print(f"gemchat: {exc}", file=sys.stderr)
        return None


def export_chats(directory: Path, fmt: str, chat_id: int | None, output: str | None = None) -> int:
    from gemchat.storage.attachment_files import AttachmentFiles
    from gemchat.storage.exchange import export_bundle, export_json, export_markdown

    store = _open_store(directory)
    if store is None:
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
            write_atomically(Path(output), text)
        except OSError as exc:
            print(f"gemchat: cannot write {output}: {exc}", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


def import_chats(directory: Path, file: str) -> int:
    from gemchat.storage.errors import ImportFormatError
    from gemchat.storage.exchange import import_json

    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"gemchat: cannot read {file}: {exc}", file=sys.stderr)
        return 1
    store = _open_store(directory)
    if store is None:
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
