"""Builds the Debian package dist/gemchat_<version>_amd64.deb from the PyInstaller build (`make deb`).

`make package` makes the one-folder app dist/gemchat/; this lays it out as a
Debian system expects, in build/deb/, and hands that tree to
`dpkg-deb --build --root-owner-group`:

    /opt/gemchat/                  the one-folder app, as built
    /usr/bin/gemchat               a symlink to /opt/gemchat/gemchat (the bootloader
                                   finds _internal/ from its real path)
    /usr/share/applications/io.github.gemchat.gemchat.desktop
                                   install_desktop.desktop_entry("gemchat"): the same
                                   entry as `make install-desktop`, run from PATH
    /usr/share/icons/hicolor/      gemchat.png at 16 to 512 px (512 rendered here from
                                   the SVG with Qt), scalable/apps/gemchat.svg
    /usr/share/metainfo/           the AppStream file, for software centres
    /usr/share/man/man1/gemchat.1.gz   the app's own --help
    /usr/share/doc/gemchat/        copyright (DEP-5) and changelog.gz
    /usr/share/lintian/overrides/gemchat   what a PyInstaller bundle cannot help

There are no maintainer scripts: the icon cache, the menus and man-db's index
are refreshed by dpkg triggers on install and removal, and dpkg never touches
what gemchat writes in home directories (~/.local/share/gemchat).

Depends lists what the bundle loads from the system. PyInstaller never copies
glibc's libraries, GL and EGL (which must match the GPU driver), libxcb and the
Wayland client libraries (SYSTEM_LIBRARIES names their packages), and the spec
leaves out the other libraries of the build machine's system (libstdc++,
OpenSSL, SQLite, GLib, X11...), each depended on through the package that has
it here, at this version or newer (`from_the_system`). The build reads each
binary's needs with readelf (binutils, which PyInstaller needs too) and stops
if one is in no installed package. `libc6 (>= X)` is the newest glibc symbol
version any of them asks for; with the versions of the other libraries, it
keeps the package to systems as new as the build machine. Depends also names the xcb libraries that gemchat's own start-up check
asks for (`depends` says why), fontconfig's configuration and fonts, and the
CA certificates.

`packaging/check_deb.py` checks a built package's contents, and installs and
removes it for real.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import email.utils
import gzip
import hashlib
import math
import os
import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageMetadata
from pathlib import Path

import install_desktop  # packaging/, beside this file

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
APP_DIR = ROOT / "dist" / "gemchat"
OUTPUT_DIR = ROOT / "dist"
STAGING_DIR = ROOT / "build" / "deb"

PACKAGE = "gemchat"
ARCHITECTURE = "amd64"
INSTALL_DIR = "opt/gemchat"
EXECUTABLE = f"{INSTALL_DIR}/gemchat"
DESKTOP_ID = install_desktop.DESKTOP_ID
ICON_NAME = install_desktop.ICON_NAME
PNG_SIZES = (*install_desktop.ICON_SIZES, 512)
METAINFO = PACKAGING / f"{DESKTOP_ID}.metainfo.xml"
LINTIAN_OVERRIDES = PACKAGING / "lintian-overrides"
# The identity the project's commits are made with; DEBFULLNAME and DEBEMAIL override it, as for dch.
MAINTAINER = ("Seed 85a2b49d maintainers", "maintainers@users.noreply.b-seed-85a2b49d.example")
SECTION = "net"
SYNOPSIS = "desktop chat app for Google's Gemini models"
DESCRIPTION = """\
gemchat is a desktop chat app for Google's Gemini models. Answers appear as \
they are generated, paced like someone typing, while the window stays \
responsive. Every chat is kept in a local SQLite database in your home \
directory (~/.local/share/gemchat), which removing the package leaves alone; \
the API key is kept in the system keyring.

This package is the self-contained PyInstaller build (Python, Qt 6 and \
Google's Gen AI SDK included) under /opt/gemchat, with /usr/bin/gemchat, a \
menu entry and icons.
"""

# The shared libraries the bundle's binaries load from the system -> the package that has them
# (the same name on Debian 12 and Ubuntu 22.04 and 24.04: none of these was renamed by the 64-bit
# time_t transition, so no `a | b` alternatives are needed).
SYSTEM_LIBRARIES: dict[str, str] = {
    **dict.fromkeys(
        ("libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libresolv.so.2",
         "ld-linux-x86-64.so.2"),
        "libc6",
    ),
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libxcb.so.1": "libxcb1",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}
# Needed though nothing links to them.
RUNTIME_PACKAGES = (
    "libfontconfig1",   # the bundled fontconfig reads /etc/fonts (fontconfig-config) and needs a font, which it brings
    "ca-certificates",  # the HTTP client trusts the system's certificates (/etc/ssl/certs) to reach Gemini
)
RECOMMENDS = ("xdg-utils",)  # links in answers open in the browser through xdg-open


class BuildError(Exception):
    """Something the build cannot go on without; the message says what to do."""


@dataclass(frozen=True)
class Release:
    version: str
    date: dt.date
    notes: tuple[str, ...]


# -- what goes in: version, releases, dependencies -----------------------------------------

def read_version(init_file: Path = ROOT / "gemchat" / "__init__.py") -> str:
    """gemchat.__version__, read without importing the package."""
    for node in ast.parse(init_file.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            return node.value.value
    raise BuildError(f"no __version__ = '...' in {init_file}")


def debian_version(version: str) -> str:
    """PEP 440 to Debian: a pre-release sorts before its release with `~` (1.0rc1 -> 1.0~rc1)."""
    return re.sub(r"\.?(a|b|rc|dev)(\d*)", r"~\1\2", version)


def read_releases(metainfo: Path = METAINFO) -> list[Release]:
    """The metainfo's <release> elements, newest first, as the AppStream file lists them."""
    releases: list[Release] = []
    for element in ET.parse(metainfo).getroot().iterfind("releases/release"):
        notes: list[str] = []
        for block in element.iterfind("description/*"):
            items = [block] if block.tag == "p" else list(block.iterfind("li"))
            notes += [" ".join("".join(item.itertext()).split()) for item in items]
        releases.append(Release(element.attrib["version"], dt.date.fromisoformat(element.attrib["date"]), tuple(notes)))
    return releases


def current_release(version: str, metainfo: Path = METAINFO) -> Release:
    releases = read_releases(metainfo)
    if not releases or releases[0].version != version:
        newest = releases[0].version if releases else "none"
        raise BuildError(f"gemchat is version {version} but the newest <release> in {metainfo.name} is {newest}: "
                         f"add <release version=\"{version}\" date=\"YYYY-MM-DD\"> at the top of <releases>")
    return releases[0]


@dataclass(frozen=True)
class ElfNeeds:
    """What one binary asks of the dynamic loader."""

    libraries: frozenset[str]
    glibc: tuple[int, ...] | None  # the newest GLIBC_x.y symbol version it needs


_FILE_HEADER = re.compile(r"^File: (.+)$", re.MULTILINE)
_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")
_GLIBC_NEED = re.compile(r"Name: GLIBC_(\d+(?:\.\d+)+)\s+Flags:")


def parse_readelf(output: str) -> dict[str, ElfNeeds]:
    """`readelf --dynamic --version-info --wide FILE...` output -> each file's needs.

    Version needs ("Name: GLIBC_2.34  Flags: none") are told from a library's own
    version definitions, which end with the name, by the Flags that follow.
    """
    parts = _FILE_HEADER.split(output)
    if len(parts) == 1:  # one file: readelf prints no header
        parts = ["", "", output]
    needs: dict[str, ElfNeeds] = {}
    for name, text in zip(parts[1::2], parts[2::2], strict=True):
        versions = [tuple(int(n) for n in v.split(".")) for v in _GLIBC_NEED.findall(text)]
        needs[name] = ElfNeeds(frozenset(_NEEDED.findall(text)), max(versions, default=None))
    return needs


def is_elf(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(4) == b"\x7fELF"


def bundle_needs(app_dir: Path) -> tuple[set[str], tuple[int, ...] | None]:
    """The libraries the bundle's binaries load from outside it, and the newest glibc version they need."""
    files = [p for p in sorted(app_dir.rglob("*")) if p.is_file() and not p.is_symlink() and is_elf(p)]
    bundled = {p.name for p in app_dir.rglob("*")}
    if not files:
        return set(), None
    if shutil.which("readelf") is None:
        raise BuildError("readelf is missing: install binutils (PyInstaller needs it too)")
    result = subprocess.run(["readelf", "--dynamic", "--version-info", "--wide", *map(str, files)],
                            capture_output=True, text=True, check=True)
    needs = parse_readelf(result.stdout).values()
    outside = {lib for need in needs for lib in need.libraries if lib not in bundled}
    glibc = max((need.glibc for need in needs if need.glibc is not None), default=None)
    return outside, glibc


def installed_version(package: str) -> str | None:
    result = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else None


def from_the_system(library_names: Iterable[str]) -> dict[str, str]:
    """Depends entries for libraries the bundle loads from the system that SYSTEM_LIBRARIES does not name.

    packaging/gemchat.spec leaves the build machine's own libraries (libstdc++,
    OpenSSL, SQLite, GLib, X11...) out of the bundle, so the bundle loads them
    from the system: each is depended on through the installed package that has
    it, at the build's version or newer (`dependency`), as what the app was
    built and tested with. One no installed package has stays out, and
    `depends` stops the build naming it.
    """
    names = sorted(set(library_names) - SYSTEM_LIBRARIES.keys())
    owners = debian_packages(names)
    found: dict[str, str] = {}
    for name in names:
        package = owners.get(name)
        version = installed_version(package) if package is not None else None
        if package is not None and version is not None:
            found[name] = dependency(package, version)
    return found


def system_copies(internal: Path) -> dict[Path, tuple[str, str]]:
    """Libraries PyInstaller copied into the bundle that are byte for byte a Debian package's file here.

    Bundled file -> (that package, its version). The package can bring them
    instead (a Depends). The spec already leaves the system's libraries out, so
    this finds one only if PyInstaller copied it from elsewhere. Only exact
    copies count, so the bundle never ends up with a library other than the
    one it was built and tested with.
    """
    candidates = sorted(p for p in internal.glob("lib*.so*") if p.is_file() and not p.is_symlink()
                        and not p.name.startswith(("libQt6", "libpyside6", "libshiboken6", "libpython", "libicu")))
    owners = debian_packages([p.name for p in candidates])
    found: dict[Path, tuple[str, str]] = {}
    for path in candidates:
        package = owners.get(path.name)
        system = next((d / path.name for d in (Path("/usr/lib/x86_64-linux-gnu"), Path("/lib/x86_64-linux-gnu"))
                       if (d / path.name).is_file()), None)
        if package is None or system is None or system.read_bytes() != path.read_bytes():
            continue
        version = installed_version(package)
        if version is not None:
            found[path] = (package, version)
    return found


def dependency(package: str, version: str) -> str:
    """A Depends entry for a library package at least as new as the build's, under either of its names.

    Ubuntu 24.04 renamed many library packages for 64-bit time_t (libssl3 -> libssl3t64); a name
    that does not exist is simply never chosen. The version drops Debian's revision and epoch
    compare as is, so a newer upstream release of another distribution satisfies it.
    """
    upstream = version.split("-")[0] if "-" in version else version
    return f"{package} (>= {upstream}) | {package}t64"


def depends(system_libraries: Iterable[str], glibc: tuple[int, ...] | None,
            xcb_packages: Iterable[str], brought: Mapping[str, str] | None = None) -> list[str]:
    """The Depends field's entries: libc6 first (versioned), then the rest in order of name.

    `xcb_packages` are the libraries Qt's X11 plugin needs, named by
    gemchat.platform_check. The bundle carries copies of them today, but which
    libraries PyInstaller copies is its choice, and may shrink
    (packaging/gemchat.spec); any X desktop has them already.
    """
    brought = dict(brought or {})  # library -> its Depends entry, for the copies left to the system
    system_libraries = set(system_libraries) - brought.keys()
    unknown = sorted(system_libraries - SYSTEM_LIBRARIES.keys())
    if unknown:
        raise BuildError(f"the bundle loads {', '.join(unknown)} from the system, and packaging/build_deb.py's "
                         "SYSTEM_LIBRARIES does not say which package has it: add it (dpkg -S names the package)")
    names = {SYSTEM_LIBRARIES[lib] for lib in system_libraries} | set(xcb_packages) | set(RUNTIME_PACKAGES)
    names.discard("libc6")
    names -= {entry.split(" ")[0] for entry in brought.values()}
    libc = "libc6" if glibc is None else f"libc6 (>= {'.'.join(map(str, glibc))})"
    return [libc, *sorted(names | set(brought.values()))]


def xcb_packages() -> list[str]:
    from gemchat.platform_check import XCB_LIBRARIES  # no Qt: a dict and ctypes

    return list(XCB_LIBRARIES.values())


def maintainer(environ: Mapping[str, str] = os.environ) -> str:
    name = environ.get("DEBFULLNAME") or MAINTAINER[0]
    address = environ.get("DEBEMAIL") or MAINTAINER[1]
    return f"{name} <{address}>"


# -- the files it writes -------------------------------------------------------------------

def control(fields: Mapping[str, str]) -> str:
    """DEBIAN/control: one paragraph; a multi-line value continues on lines starting with a space."""
    lines = []
    for key, value in fields.items():
        first, *rest = value.split("\n")
        lines.append(f"{key}: {first}")
        lines += [f" {line}" if line.strip() else " ." for line in rest]
    return "\n".join(lines) + "\n"


def description(synopsis: str = SYNOPSIS, text: str = DESCRIPTION) -> str:
    """Synopsis, then the extended description wrapped to 79 columns, paragraphs apart."""
    paragraphs = [textwrap.fill(p, width=78) for p in text.strip().split("\n\n")]
    return synopsis + "\n" + "\n\n".join(paragraphs)


def control_fields(version: str, installed_size_kib: int, depends_on: Sequence[str], homepage: str,
                   environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    return {
        "Package": PACKAGE,
        "Version": debian_version(version),
        "Architecture": ARCHITECTURE,
        "Maintainer": maintainer(environ),
        "Installed-Size": str(installed_size_kib),
        "Depends": ", ".join(depends_on),
        "Recommends": ", ".join(RECOMMENDS),
        "Section": SECTION,
        "Priority": "optional",
        "Homepage": homepage,
        "Description": description(),
    }


def homepage(metainfo: Path = METAINFO) -> str:
    url = ET.parse(metainfo).getroot().find("url[@type='homepage']")
    if url is None or not url.text:
        raise BuildError(f"{metainfo.name} has no <url type=\"homepage\">")
    return url.text.strip()


def changelog(releases: Sequence[Release], environ: Mapping[str, str] = os.environ) -> str:
    """A Debian changelog with one entry per AppStream release (a native package: no Debian revision)."""
    entries = []
    for release in releases:
        when = dt.datetime.combine(release.date, dt.time(), tzinfo=dt.UTC)
        notes = release.notes or (f"Release {release.version}.",)
        items = "\n".join(textwrap.fill(note, width=78, initial_indent="  * ", subsequent_indent="    ")
                          for note in notes)
        entries.append(f"{PACKAGE} ({debian_version(release.version)}) unstable; urgency=medium\n\n{items}\n\n"
                       f" -- {maintainer(environ)}  {email.utils.format_datetime(when)}\n")
    return "\n".join(entries)


def man_page(help_text: str, release: Release) -> str:
    """gemchat(1): the app's --help, kept as it prints, with what a man page adds (files, removal)."""
    def escaped(line: str) -> str:
        line = line.replace("\\", "\\e").replace("-", "\\-")
        return "\\&" + line if line.startswith((".", "'")) else line

    return "\n".join([
        f'.TH GEMCHAT 1 {release.date.isoformat()} "gemchat {release.version}" "User Commands"',
        ".SH NAME",
        f"gemchat \\- {SYNOPSIS}",
        ".SH DESCRIPTION",
        ".nf",
        *(escaped(line) for line in help_text.rstrip("\n").split("\n")),
        ".fi",
        ".SH FILES",
        ".TP",
        ".I ~/.local/share/gemchat",
        "Chats, settings, drafts and logs (\\fB\\-\\-data\\-dir\\fR or \\fBGEMCHAT_DATA_DIR\\fR choose another "
        "directory). Removing the package leaves it in place.",
        ".TP",
        f".I /{INSTALL_DIR}",
        "The application itself.",
        ".SH SEE ALSO",
        "/usr/share/doc/gemchat/copyright for the licences of gemchat and of what it bundles.",
    ]) + "\n"


def help_text(app_dir: Path) -> str:
    """The built app's own --help, at the width a man page shows it."""
    env = {**os.environ, "COLUMNS": "80", "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([str(app_dir / "gemchat"), "--help"], capture_output=True, text=True, check=True,
                          env=env, timeout=60).stdout


def copyright_file(version: str, bundled: Sequence[tuple[str, str, str]], libraries: Sequence[str]) -> str:
    """debian/copyright in the machine-readable format (DEP-5).

    gemchat is MIT. The bundle under /opt/gemchat/_internal holds many other
    works, each under its own licence: named here, with where its terms are.
    """
    python = "\n".join(f"   {name} {ver}: {lic}" for name, ver, lic in bundled) or "   (none found)"
    libs = "\n".join(f"   {library}" for library in libraries) or "   (none)"
    return f"""\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: gemchat
Upstream-Contact: {maintainer()}
Comment: A binary package built from gemchat {version} with PyInstaller: the
 application and everything it runs with, under /{INSTALL_DIR}.

Files: *
Copyright: 2026 {MAINTAINER[0]}
License: MIT

Files: {INSTALL_DIR}/_internal/*
Copyright: the copyright holders of each bundled component
License: various
 The PyInstaller bundle holds, besides gemchat's own code, works of others,
 each under its own licence:
 .
  - The Python {sys.version_info.major}.{sys.version_info.minor} interpreter and standard library:
    PSF-2.0.
  - Qt 6 and its Python bindings (PySide6, Shiboken6), from the PySide6
    wheels: LGPL-3.0-only (see /usr/share/common-licenses/LGPL-3); Qt
    includes third-party code (ICU, FreeType and others) under their own
    permissive licences, listed at https://doc.qt.io/qt-6/licenses-used-in-qt.html.
  - The PyInstaller bootloader: GPL-2.0-or-later with PyInstaller's
    exception allowing it to run programs of any licence.
  - Python distributions, with the licence each declares:
{python}
  - Shared libraries copied from the build machine's system (Debian
    {debian_release()}), each under the licence in
    /usr/share/doc/<package>/copyright of the package named beside it:
{libs}
 .
 Where a distribution ships its licence file, it is in its *.dist-info
 directory beside it.

License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a
 copy of this software and associated documentation files (the "Software"),
 to deal in the Software without restriction, including without limitation
 the rights to use, copy, modify, merge, publish, distribute, sublicense,
 and/or sell copies of the Software, and to permit persons to whom the
 Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL
 THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING
 FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
 DEALINGS IN THE SOFTWARE.
"""


def debian_release() -> str:
    try:
        return Path("/etc/debian_version").read_text(encoding="utf-8").strip()
    except OSError:
        return "unknown"


def bundled_distributions(requirement: str = "gemchat") -> list[tuple[str, str, str]]:
    """Name, version and declared licence of every distribution gemchat needs at run time, itself excluded.

    Read from the environment the bundle was built from; what PyInstaller
    found unused may be absent from the bundle, so this errs on the long side.
    """
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement  # PyInstaller depends on `packaging`

    seen: dict[str, tuple[str, str, str]] = {}
    todo = [requirement]
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        seen[key] = (dist.metadata["Name"], dist.version, declared_licence(dist.metadata))
        for spec in dist.requires or ():
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    seen.pop(re.sub(r"[-_.]+", "-", requirement).lower(), None)
    return sorted(seen.values(), key=lambda d: d[0].lower())


def declared_licence(metadata: PackageMetadata) -> str:
    """License-Expression, else a one-line License field, else the classifiers' licences, else a pointer."""
    def first(field: str) -> str:
        values = metadata.get_all(field) or []
        return str(values[0]).strip() if values else ""

    if expression := first("License-Expression"):
        return expression
    field = first("License")
    if field and "\n" not in field and len(field) <= 60 and field.upper() != "UNKNOWN":
        return field
    classifiers = [c.split(" :: ")[-1] for c in metadata.get_all("Classifier") or () if c.startswith("License ::")]
    return ", ".join(classifiers) or "see its metadata"


def bundled_libraries(app_dir: Path) -> list[str]:
    """The system libraries PyInstaller copied in, each with the Debian package it came from where dpkg knows.

    Qt's and Python's own libraries are named apart in the copyright file.
    """
    internal = app_dir / "_internal"
    if not internal.is_dir():
        return []
    names = sorted(p.name for p in internal.iterdir()
                   if p.name.startswith("lib") and ".so" in p.name and not p.is_symlink()
                   and not p.name.startswith(("libQt6", "libpyside6", "libshiboken6", "libpython")))
    owners = debian_packages(names)
    return [f"{name} ({owners.get(name, 'package unknown')})" for name in names]


def debian_packages(library_names: Sequence[str]) -> dict[str, str]:
    """Library file name -> the installed Debian package with that file in the multiarch directory."""
    if not library_names or shutil.which("dpkg-query") is None:
        return {}
    result = subprocess.run(["dpkg-query", "-S", *(f"*/{name}" for name in library_names)],
                            capture_output=True, text=True)
    owners: dict[str, str] = {}
    for line in result.stdout.splitlines():
        package, _, path = line.partition(": ")
        if re.fullmatch(r"/(usr/)?lib/x86_64-linux-gnu/[^/]+", path) and "," not in package:
            owners.setdefault(Path(path).name, package.split(":")[0])
    return owners


def render_icon(svg: Path, size: int, destination: Path) -> None:
    """The SVG drawn at `size` px, as the committed PNGs were made (no display needed)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise BuildError(f"Qt cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    if not image.save(str(destination)):  # PNG, from the suffix
        raise BuildError(f"could not write {destination}")


# -- the tree and the package --------------------------------------------------------------

def is_shared_library(path: Path) -> bool:
    return re.search(r"\.so(\.|$)", path.name) is not None


def normalize_modes(tree: Path) -> None:
    """Directories 0755; files 0644, or 0755 if built executable and not a shared library.

    A library needs no execute bit to be loaded, and Debian ships them without
    one; PyInstaller copies every .so with it.
    """
    for directory, _dirnames, filenames in os.walk(tree):  # links to directories are not followed
        Path(directory).chmod(0o755)
        for name in filenames:
            path = Path(directory) / name
            if path.is_symlink():
                continue
            executable = path.stat().st_mode & 0o100 and not is_shared_library(path)
            path.chmod(0o755 if executable else 0o644)


def installed_size_kib(tree: Path) -> int:
    """As dpkg-gencontrol counts it: each file's size in KiB rounded up, and 1 for each directory or link."""
    total = 0
    for path in tree.rglob("*"):
        if path.is_symlink() or path.is_dir():
            total += 1
        else:
            total += math.ceil(path.stat().st_size / 1024)
    return total


def md5sums(tree: Path) -> str:
    lines = []
    for path in sorted(tree.rglob("*")):
        if path.is_file() and not path.is_symlink():
            lines.append(f"{hashlib.md5(path.read_bytes()).hexdigest()}  {path.relative_to(tree).as_posix()}")
    return "\n".join(lines) + "\n"


def write_gzip(path: Path, text: str) -> None:
    """Maximum compression and no timestamp or name in the header, as lintian asks."""
    path.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))


def stage(app_dir: Path, staging: Path, version: str, release: Release) -> None:
    """Lays out the package's files under `staging` (wiped first), DEBIAN/ included."""
    if not os.access(app_dir / "gemchat", os.X_OK):
        raise BuildError(f"{app_dir / 'gemchat'} is missing: run `make package` first")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(app_dir, staging / INSTALL_DIR, symlinks=True)
    (staging / "usr" / "bin").mkdir(parents=True)
    (staging / "usr" / "bin" / "gemchat").symlink_to(f"/{EXECUTABLE}")

    share = staging / "usr" / "share"
    for destination, source in install_desktop.installed_paths(share).items():
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source is None:
            destination.write_text(install_desktop.desktop_entry("gemchat"), encoding="utf-8")
        else:
            shutil.copyfile(source, destination)
    for size in PNG_SIZES:
        png = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"
        if not png.exists():
            png.parent.mkdir(parents=True, exist_ok=True)
            render_icon(install_desktop.RESOURCES / "gemchat.svg", size, png)
    (share / "metainfo").mkdir()
    shutil.copyfile(METAINFO, share / "metainfo" / METAINFO.name)
    (share / "man" / "man1").mkdir(parents=True)
    write_gzip(share / "man" / "man1" / "gemchat.1.gz", man_page(help_text(app_dir), release))
    doc = share / "doc" / PACKAGE
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(copyright_file(version, bundled_distributions(), bundled_libraries(app_dir)),
                                   encoding="utf-8")
    write_gzip(doc / "changelog.gz", changelog(read_releases()))
    (share / "lintian" / "overrides").mkdir(parents=True)
    shutil.copyfile(LINTIAN_OVERRIDES, share / "lintian" / "overrides" / PACKAGE)

    brought = {}
    for path, (package, package_version) in system_copies(staging / INSTALL_DIR / "_internal").items():
        path.unlink()  # the system's copy, from the package named in Depends, is loaded instead
        brought[path.name] = dependency(package, package_version)
    system_libraries, glibc = bundle_needs(staging / INSTALL_DIR)
    brought.update(from_the_system(system_libraries - brought.keys()))
    fields = control_fields(version, installed_size_kib(staging),
                            depends(system_libraries, glibc, xcb_packages(), brought), homepage())
    normalize_modes(staging)
    sums = md5sums(staging)
    debian = staging / "DEBIAN"
    debian.mkdir(mode=0o755)
    for name, text in (("control", control(fields)), ("md5sums", sums)):
        (debian / name).write_text(text, encoding="utf-8")
        (debian / name).chmod(0o644)


def build(app_dir: Path, output_dir: Path, staging_parent: Path) -> Path:
    version = read_version()
    name = f"{PACKAGE}_{debian_version(version)}_{ARCHITECTURE}"
    staging = staging_parent / name
    release = current_release(version)
    stage(app_dir, staging, version, release)
    output_dir.mkdir(parents=True, exist_ok=True)
    deb = output_dir / f"{name}.deb"
    # dpkg-deb stamps no file later than this (the release's date): the dates inside do not depend on the day of the build.
    epoch = int(dt.datetime.combine(release.date, dt.time(), tzinfo=dt.UTC).timestamp())
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", str(epoch))}
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", "-Zxz", str(staging), str(deb)], check=True,
                   env=env, stdout=subprocess.DEVNULL)
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build dist/gemchat_<version>_amd64.deb from dist/gemchat/.")
    parser.add_argument("--app-dir", type=Path, default=APP_DIR, help="the PyInstaller one-folder build")
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR, help="where the .deb goes")
    parser.add_argument("--staging-dir", type=Path, default=STAGING_DIR, help="where its tree is laid out")
    args = parser.parse_args(argv)
    if shutil.which("dpkg-deb") is None:
        print("build_deb: dpkg-deb is missing (Debian's dpkg package)", file=sys.stderr)
        return 1
    try:
        deb = build(args.app_dir.resolve(), args.output_dir.resolve(), args.staging_dir.resolve())
    except BuildError as error:
        print(f"build_deb: {error}", file=sys.stderr)
        return 1
    print(f"built {deb} ({deb.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
