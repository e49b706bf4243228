"""Checks a built gemchat .deb (`.ci/run` after `make deb`): its contents, and installing and removing it.

    check_deb.py DEB              what `dpkg-deb` reads in it: control fields, Depends,
                                  the files expected, owners and modes; no maintainer scripts
    check_deb.py --install DEB    as root: `apt-get install` it (apt brings Depends), run the
                                  installed gemchat's self-test offscreen and in Xvfb, keep a
                                  user's chats in a temporary home, `dpkg -r` it, and check
                                  that nothing it installed is left and the chats are

Each prints what it checked and exits 1 on the first list of problems.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import build_deb  # packaging/, beside this file

SELF_TEST_TIMEOUT = 120


@dataclass(frozen=True)
class Entry:
    """One line of `dpkg-deb --contents`."""

    mode: str   # as ls shows it: "-rw-r--r--", "drwxr-xr-x", "lrwxrwxrwx"
    owner: str  # "root/root"
    path: str   # without the leading "./"; directories end with "/"
    target: str | None  # a symlink's


_CONTENTS_LINE = re.compile(r"^(\S{10}) (\S+)\s+\d+ \S+ \S+ \./(.*?)(?: -> (.*))?$")


def parse_contents(listing: str) -> list[Entry]:
    entries = []
    for line in listing.splitlines():
        match = _CONTENTS_LINE.match(line)
        if match is None:
            raise ValueError(f"unexpected line from dpkg-deb --contents: {line!r}")
        mode, owner, path, target = match.groups()
        if path:  # "./" itself
            entries.append(Entry(mode, owner, path, target))
    return entries


def parse_control(text: str) -> dict[str, str]:
    """A deb822 paragraph: continuation lines start with a space."""
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if line.startswith((" ", "\t")) and key:
            fields[key] += "\n" + line[1:]
        elif ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def expected_files(version: str) -> set[str]:
    """Paths the package must hold (files and links), beside the app's own."""
    share = "usr/share"
    icons = {f"{share}/icons/hicolor/{s}x{s}/apps/{build_deb.ICON_NAME}.png" for s in build_deb.PNG_SIZES}
    return {
        build_deb.EXECUTABLE,
        "usr/bin/gemchat",
        f"{share}/applications/{build_deb.DESKTOP_ID}.desktop",
        *icons,
        f"{share}/icons/hicolor/scalable/apps/{build_deb.ICON_NAME}.svg",
        f"{share}/metainfo/{build_deb.DESKTOP_ID}.metainfo.xml",
        f"{share}/man/man1/gemchat.1.gz",
        f"{share}/doc/{build_deb.PACKAGE}/copyright",
        f"{share}/doc/{build_deb.PACKAGE}/changelog.gz",
        f"{share}/lintian/overrides/{build_deb.PACKAGE}",
    }


ALLOWED_ROOTS = ("opt/gemchat/", "usr/bin/gemchat", "usr/share/applications/", "usr/share/icons/hicolor/",
                 "usr/share/metainfo/", "usr/share/man/man1/", "usr/share/doc/gemchat/",
                 "usr/share/lintian/overrides/")
# Directories the package holds as parents of its files (dpkg keeps them while another package needs them).
PARENT_DIRS = {"opt/", "usr/", "usr/bin/", "usr/share/", "usr/share/icons/", "usr/share/man/", "usr/share/doc/",
               "usr/share/lintian/"}


def contents_problems(entries: Sequence[Entry], version: str) -> list[str]:
    """Owners, modes, where files go, and that every expected file is there."""
    problems = []
    paths = {e.path.rstrip("/") for e in entries}
    problems += [f"missing: /{p}" for p in sorted(expected_files(version) - paths)]
    for e in entries:
        where = f"/{e.path}"
        if e.owner != "root/root":
            problems.append(f"{where} is owned by {e.owner}, not root/root")
        if e.mode[0] == "d":
            if e.mode != "drwxr-xr-x":
                problems.append(f"{where} has mode {e.mode}, not drwxr-xr-x")
            if e.path not in PARENT_DIRS and not e.path.startswith(ALLOWED_ROOTS):
                problems.append(f"{where}: a directory outside gemchat's places")
            continue
        if not e.path.startswith(ALLOWED_ROOTS):
            problems.append(f"{where}: a file outside gemchat's places")
        if e.mode[0] == "l":
            if e.path == "usr/bin/gemchat" and e.target != f"/{build_deb.EXECUTABLE}":
                problems.append(f"{where} points at {e.target}, not /{build_deb.EXECUTABLE}")
            continue
        wanted = "-rwxr-xr-x" if e.path == build_deb.EXECUTABLE else "-rw-r--r--"
        if e.mode != wanted:
            problems.append(f"{where} has mode {e.mode}, not {wanted}")
    return problems


# Files of the bundle -> packages Depends must name: the system libraries each links to, which
# PyInstaller never copies in (GL and EGL must match the GPU driver).
LINKS_TO = {"libQt6Gui.so.6": ("libgl1", "libegl1"), "libqxcb.so": ("libxcb1",)}


def control_problems(fields: dict[str, str], version: str, file_names: Iterable[str] = ()) -> list[str]:
    """The fields' values, and Depends: what any build needs, and what the files listed link to."""
    problems = []
    wanted = {"Package": build_deb.PACKAGE, "Version": build_deb.debian_version(version),
              "Architecture": build_deb.ARCHITECTURE, "Priority": "optional", "Section": build_deb.SECTION}
    problems += [f"{key} is {fields.get(key)!r}, not {value!r}" for key, value in wanted.items()
                 if fields.get(key) != value]
    for key in ("Maintainer", "Description", "Homepage"):
        if not fields.get(key):
            problems.append(f"no {key}")
    if not fields.get("Installed-Size", "").isdigit():
        problems.append(f"Installed-Size is {fields.get('Installed-Size')!r}")
    depends = [d.strip() for d in fields.get("Depends", "").split(",")]
    names = {d.split()[0] for d in depends if d}
    needed = {*build_deb.xcb_packages(), *build_deb.RUNTIME_PACKAGES, "libc6"}
    needed.update(package for name in file_names for package in LINKS_TO.get(name, ()))
    problems += [f"Depends lacks {name}" for name in sorted(needed - names)]
    if not any(re.fullmatch(r"libc6 \(>= 2\.\d+\)", d) for d in depends):
        problems.append("Depends has no versioned libc6 (the bundle's glibc needs)")
    return problems


def check_contents(deb: Path) -> list[str]:
    version = build_deb.read_version()
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True, text=True, check=True)
    entries = parse_contents(listing.stdout)
    problems = contents_problems(entries, version)
    control = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, text=True, check=True)
    problems += control_problems(parse_control(control.stdout), version, (Path(e.path).name for e in entries))
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dpkg-deb", "--control", str(deb), tmp], check=True)
        scripts = sorted(set(os.listdir(tmp)) - {"control", "md5sums"})
        problems += [f"unexpected control member: {name} (dpkg triggers do the maintainer scripts' work)"
                     for name in scripts]
    return problems


# -- installing and removing it for real ---------------------------------------------------

def run(command: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(command), flush=True)
    return subprocess.run(command, text=True, **kwargs)


def self_test_problems(executable: str) -> list[str]:
    problems = []
    offscreen = run([executable, "--self-test"], env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
                    timeout=SELF_TEST_TIMEOUT)
    if offscreen.returncode != 0:
        problems.append(f"{executable} --self-test offscreen exited {offscreen.returncode}")
    if shutil.which("xvfb-run") is None:
        print("xvfb-run is missing: the self-test in a real X server is skipped")
    else:
        x11 = run(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", executable, "--self-test"],
                  env={**os.environ, "QT_QPA_PLATFORM": "xcb"}, timeout=SELF_TEST_TIMEOUT)
        if x11.returncode != 0:
            problems.append(f"{executable} --self-test under Xvfb exited {x11.returncode}")
    return problems


def user_chats(home: Path) -> Path:
    """A chat imported by the installed gemchat into `home`'s default data directory."""
    chats = [{"id": None, "title": "kept after removal", "created_at": "2026-11-29T12:00:00+00:00",
              "model": "gemini-3.6-flash", "system_instruction": "", "google_search": False,
              "messages": [{"role": "user", "text": "hello", "status": "complete", "error": None,
                            "created_at": "2026-11-29T12:00:00+00:00"}]}]
    export = home / "chats.json"
    export.write_text(json.dumps(chats), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_") and k != "GEMCHAT_DATA_DIR"}
    run(["/usr/bin/gemchat", "import", str(export)], env={**env, "HOME": str(home)}, check=True, timeout=60)
    return home / ".local" / "share" / "gemchat"


def digest(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def leftovers(installed: Sequence[str]) -> list[str]:
    """What `dpkg -L` listed that is still there: any file or link, or an empty directory no package owns.

    An empty directory another package ships (hicolor-icon-theme's size
    directories) rightly stays.
    """
    left = []
    for path in installed:
        if os.path.islink(path) or os.path.isfile(path):
            left.append(path)
        elif os.path.isdir(path) and not os.listdir(path):
            owned = subprocess.run(["dpkg-query", "-S", path], capture_output=True).returncode == 0
            if not owned:
                left.append(path + "/ (empty, no package owns it)")
    return left


def install_round_trip(deb: Path) -> list[str]:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return ["--install needs root and apt-get"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "install", "-y", "-q", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=300",
         str(deb.resolve())], env=env, check=True)
    problems = []
    if os.path.realpath("/usr/bin/gemchat") != f"/{build_deb.EXECUTABLE}":
        problems.append("/usr/bin/gemchat does not lead to the installed app")
    desktop = f"/usr/share/applications/{build_deb.DESKTOP_ID}.desktop"
    if shutil.which("desktop-file-validate") and run(["desktop-file-validate", desktop]).returncode != 0:
        problems.append(f"{desktop} does not validate once installed")
    problems += self_test_problems("/usr/bin/gemchat")
    installed = run(["dpkg", "-L", build_deb.PACKAGE], capture_output=True, check=True).stdout.split("\n")
    installed = [p for p in installed if p and p != "/."]
    print(f"installed {len(installed)} paths")
    with tempfile.TemporaryDirectory() as home:
        data_dir = user_chats(Path(home))
        before = digest(data_dir)
        run(["dpkg", "-r", build_deb.PACKAGE], env=env, check=True)
        if digest(data_dir) != before or not before:
            problems.append(f"the user's data directory {data_dir} changed when the package was removed")
        else:
            print(f"the user's chats are still there: {', '.join(before)}")
    problems += [f"left after dpkg -r: {path}" for path in leftovers(installed)]
    if os.path.lexists(f"/{build_deb.INSTALL_DIR}"):
        problems.append(f"/{build_deb.INSTALL_DIR} is still there")
    # Status-Abbrev's second letter is the state: "n" not installed ("c" would be config files kept).
    status = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", build_deb.PACKAGE], capture_output=True)
    if status.returncode == 0 and status.stdout[1:2] != "n":
        problems.append(f"dpkg still has the package in state {status.stdout.strip()!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a built gemchat .deb.")
    parser.add_argument("deb", type=Path)
    parser.add_argument("--install", action="store_true",
                        help="install it with apt-get, self-test it, remove it with dpkg -r (root only)")
    args = parser.parse_args(argv)
    problems = install_round_trip(args.deb) if args.install else check_contents(args.deb)
    what = "install, self-test and removal" if args.install else "contents"
    for problem in problems:
        print(f"check_deb: {problem}", file=sys.stderr)
    print(f"check_deb: {args.deb.name}: {what}: {'FAILED' if problems else 'ok'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
