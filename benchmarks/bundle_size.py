"""What the packaged app is made of: its size by largest parts, beside another build's, in one run.

`make package` builds dist/gemchat/. This prints the folder's size as `du`
counts it (disk blocks, symlinks not followed), its size as a .tar.gz (what a
download would be), and its largest parts: each Qt library, Python extension
and other shared library, each folder of Qt plugins, Qt's translations, each
package folder in `_internal`, and the executable, which holds the Python
modules in PyInstaller's compressed archive (broken down by package too, when
PyInstaller is installed to read it). Given a second build, the two are put
side by side with the difference, so a change to packaging/gemchat.spec can be
judged by what it took out or brought in:

    cp -a dist/gemchat /tmp/gemchat-before     # then change the spec
    make package
    .venv/bin/python benchmarks/bundle_size.py --against /tmp/gemchat-before

No arguments: dist/gemchat alone (skipped, with a note, if it was not built).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tarfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "dist" / "gemchat"
MIB = 1024 * 1024  # sizes are in MiB, as `du -sh` gives them (its "M")
SMALL = 300_000  # bytes: a shared library below this is counted in "other libraries"


def executable(build: Path) -> Path:
    return build / ("gemchat.exe" if sys.platform == "win32" else "gemchat")


def part_of(relative: Path, size: int) -> str:
    """The part a file is counted in (a name a reader of the spec recognises)."""
    parts = relative.parts
    if parts[0] != "_internal":
        return parts[0] + " (bootloader + Python modules)" if parts[0] == "gemchat" else parts[0]
    inner = parts[1:]
    if inner[-1].endswith(".pyc"):
        return "Python modules as .pyc files"
    if inner[:3] == ("PySide6", "Qt", "plugins") and len(inner) > 4:
        return f"Qt plugins: {inner[3]}"
    if inner[:3] == ("PySide6", "Qt", "translations"):
        return "Qt translations"
    if inner[:3] == ("PySide6", "Qt", "lib") or (inner[0] == "PySide6" and len(inner) == 2):
        return inner[-1] if size >= SMALL else "PySide6: other files"
    if len(inner) == 1:
        if ".so" in inner[0]:
            return inner[0] if size >= SMALL else "other libraries"
        return inner[0]
    if inner[0].endswith(".dist-info"):
        return "package metadata (*.dist-info)"
    if inner[:2] == ("python3.11", "lib-dynload") or inner[0].startswith("python3"):
        return f"{inner[0]}/{inner[1]}" if len(inner) > 2 else inner[0]
    return inner[0] + "/"


def disk_usage(path: Path) -> int:
    """Bytes in disk blocks, as `du` counts them (a symlink's own block, not its target)."""
    return os.lstat(path).st_blocks * 512


def parts(build: Path) -> tuple[Counter[str], int, int]:
    """Bytes per part (apparent sizes), du's total and the number of files."""
    sizes: Counter[str] = Counter()
    total = disk_usage(build)
    files = 0
    for directory, dirnames, filenames in os.walk(build):
        for name in dirnames:
            total += disk_usage(Path(directory) / name)
        for name in filenames:
            path = Path(directory) / name
            total += disk_usage(path)
            if path.is_symlink():
                continue
            files += 1
            size = path.stat().st_size
            sizes[part_of(path.relative_to(build), size)] += size
    return sizes, total, files


def tar_gz_size(build: Path) -> int:
    """The folder as `tar czf` would pack it (gzip level 6), kept in memory."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as archive:
        archive.add(build, arcname=build.name)
    return buffer.tell()


def python_modules(build: Path) -> Counter[str] | None:
    """Compressed bytes per top-level package in the executable's module archive, if PyInstaller can read it."""
    try:
        from PyInstaller.archive.readers import CArchiveReader
    except ImportError:
        return None
    try:
        archive = CArchiveReader(str(executable(build)))
        pyz_name = next(name for name, entry in archive.toc.items() if entry[4] == "z")
        pyz = archive.open_embedded_archive(pyz_name)
    except Exception:  # another PyInstaller's format, or not a PyInstaller build
        return None
    sizes: Counter[str] = Counter()
    for name, (_kind, _offset, length) in pyz.toc.items():
        top = name.split(".")[0]
        sizes[".".join(name.split(".")[:2]) if top == "google" else top] += length
    return sizes


def mib(size: float) -> str:
    return f"{size / MIB:7.1f}"


def print_table(title: str, builds: list[Counter[str]], labels: list[str], rows: int) -> None:
    names = sorted(set().union(*builds), key=lambda n: max(b[n] for b in builds), reverse=True)
    shown = names[:rows]
    print(f"\n{title} (MiB)")
    width = max(len(n) for n in shown + ["everything else"]) + 2
    print(" " * width + "".join(f"{label:>10}" for label in labels) + ("      diff" if len(builds) == 2 else ""))
    for name in [*shown, "everything else"]:
        values = [b[name] if name != "everything else" else sum(b[n] for n in names[rows:]) for b in builds]
        diff = f"   {(values[0] - values[1]) / MIB:+7.1f}" if len(values) == 2 else ""
        print(f"{name:<{width}}" + "".join(f"   {mib(v)}" for v in values) + diff)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", nargs="?", type=Path, default=BUILD, help="the build to measure (default dist/gemchat)")
    parser.add_argument("--against", type=Path, help="another build (a copy of dist/gemchat) to compare with")
    parser.add_argument("--rows", type=int, default=30, help="largest parts to list (default 30)")
    args = parser.parse_args(argv)
    title = "bundle_size: the packaged app's size by its largest parts"
    if not executable(args.build).exists():
        print(f"{title}: skipped, {args.build} is not built (make package)")
        return 0
    if args.against and not executable(args.against).exists():
        parser.error(f"{args.against} holds no gemchat executable")
    builds = [args.build] + ([args.against] if args.against else [])
    labels = ["this", "against"] if args.against else ["this"]
    measured = [parts(build) for build in builds]
    print(f"{title}\n  this:    {args.build}" + (f"\n  against: {args.against}" if args.against else ""))
    print(f"\n{'':24}" + "".join(f"{label:>10}" for label in labels))
    print(f"{'du -sh (MiB)':24}" + "".join(f"   {mib(total)}" for _sizes, total, _files in measured))
    print(f"{'.tar.gz (MiB)':24}" + "".join(f"   {mib(tar_gz_size(build))}" for build in builds))
    print(f"{'files':24}" + "".join(f"{files:>10}" for _sizes, _total, files in measured))
    print_table("Largest parts", [sizes for sizes, _total, _files in measured], labels, args.rows)
    modules = [python_modules(build) for build in builds]
    if all(m is not None for m in modules):
        print_table("Python modules in the executable, compressed, by package",
                    [m for m in modules if m is not None], labels, 15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
