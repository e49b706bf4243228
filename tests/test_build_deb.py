"""`make deb`: what goes into the Debian package, checked without the PyInstaller build.

The real package (160 MB, over a minute to build) is checked by `.ci/run` with
packaging/check_deb.py; here are the parts that decide what it holds, and one
build of a stand-in app of a few files through the same script and checker.
"""

from __future__ import annotations

import configparser
import datetime as dt
import gzip
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

import build_deb  # noqa: E402  (packaging/ is not a package)
import check_deb  # noqa: E402
import install_desktop  # noqa: E402

import gemchat  # noqa: E402
from gemchat.platform_check import XCB_LIBRARIES  # noqa: E402

RELEASE = build_deb.Release("0.1.0", dt.date(2026, 11, 29), ("First release.",))
needs_dpkg_deb = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb (Debian's dpkg)")


def read_entry(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  (keys are case-sensitive)
    parser.read_string(text)
    return dict(parser["Desktop Entry"])


# -- version and releases ------------------------------------------------------------------

def test_the_version_is_gemchat_s_own_read_without_importing_it() -> None:
    assert build_deb.read_version() == gemchat.__version__


@pytest.mark.parametrize(("pep440", "debian"), [
    ("0.1.0", "0.1.0"), ("1.0rc1", "1.0~rc1"), ("1.0a2", "1.0~a2"), ("2.0.dev3", "2.0~dev3"), ("1.2b1", "1.2~b1"),
])
def test_a_pre_release_sorts_before_its_release_in_dpkg(pep440: str, debian: str) -> None:
    assert build_deb.debian_version(pep440) == debian
    if pep440 != debian and shutil.which("dpkg"):
        release = debian.split("~")[0]
        assert subprocess.run(["dpkg", "--compare-versions", debian, "lt", release]).returncode == 0


def test_the_metainfo_has_a_release_for_this_version() -> None:
    release = build_deb.current_release(gemchat.__version__)
    assert release.version == gemchat.__version__ and release.notes


def test_a_version_without_a_release_is_refused_saying_what_to_add() -> None:
    with pytest.raises(build_deb.BuildError, match=r'add <release version="9\.9\.9"'):
        build_deb.current_release("9.9.9")


# -- the desktop entry and the AppStream file ------------------------------------------------

def test_the_package_s_entry_is_install_desktop_s_run_from_path() -> None:
    entry = read_entry(install_desktop.desktop_entry("gemchat"))
    assert entry["Exec"] == "gemchat %F" and entry["TryExec"] == "gemchat"
    template = read_entry(install_desktop.TEMPLATE.read_text(encoding="utf-8"))
    assert {k: v for k, v in entry.items() if k != "TryExec"} == template


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="needs desktop-file-utils")
def test_the_package_s_entry_passes_desktop_file_validate(tmp_path: Path) -> None:
    path = tmp_path / f"{build_deb.DESKTOP_ID}.desktop"
    path.write_text(install_desktop.desktop_entry("gemchat"), encoding="utf-8")
    result = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
    assert result.returncode == 0 and " error: " not in result.stdout, result.stdout


def test_the_metainfo_names_the_entry_the_binary_and_the_homepage() -> None:
    import xml.etree.ElementTree as ET

    root = ET.parse(build_deb.METAINFO).getroot()
    assert root.findtext("id") == build_deb.DESKTOP_ID
    assert root.findtext("launchable[@type='desktop-id']") == f"{build_deb.DESKTOP_ID}.desktop"
    assert root.findtext("provides/binary") == "gemchat"
    assert build_deb.homepage().startswith("https://")


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="needs appstreamcli (Debian: appstream)")
def test_the_metainfo_passes_appstreamcli_validate() -> None:
    result = subprocess.run(["appstreamcli", "validate", "--no-net", "--pedantic", str(build_deb.METAINFO)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# -- DEBIAN/control ------------------------------------------------------------------------

def test_depends_has_the_newest_glibc_the_system_libraries_and_the_xcb_packages() -> None:
    depends = build_deb.depends({"libc.so.6", "libm.so.6", "libGL.so.1", "libxcb.so.1"}, (2, 36),
                                list(XCB_LIBRARIES.values()))
    assert depends[0] == "libc6 (>= 2.36)" and "libc6" not in depends[1:]
    assert {"libgl1", "libxcb1", "libfontconfig1", "ca-certificates", *XCB_LIBRARIES.values()} <= set(depends)
    assert len(depends) == len(set(depends))


def test_a_system_library_nobody_mapped_stops_the_build_naming_it() -> None:
    with pytest.raises(build_deb.BuildError, match=r"libunheard\.so\.7.*SYSTEM_LIBRARIES"):
        build_deb.depends({"libc.so.6", "libunheard.so.7"}, (2, 34), [])


def test_the_control_file_reads_back_with_every_field_dpkg_wants() -> None:
    env = {"DEBFULLNAME": "Ann Packager", "DEBEMAIL": "ann@example.org"}
    fields = build_deb.control_fields("1.0rc1", 1234, ["libc6 (>= 2.36)", "libgl1"], "https://example.org", env)
    text = build_deb.control(fields)
    parsed = check_deb.parse_control(text)
    assert parsed["Package"] == "gemchat" and parsed["Version"] == "1.0~rc1" and parsed["Architecture"] == "amd64"
    assert parsed["Maintainer"] == "Ann Packager <ann@example.org>"
    assert parsed["Installed-Size"] == "1234" and parsed["Depends"] == "libc6 (>= 2.36), libgl1"
    assert parsed["Priority"] == "optional" and parsed["Section"] == "net"
    synopsis, *extended = parsed["Description"].split("\n")
    assert synopsis == build_deb.SYNOPSIS and "." in extended  # paragraphs apart, as " ."
    assert all(len(line) <= 80 for line in text.splitlines())
    assert text.endswith("\n") and "\n\n" not in text


def test_the_maintainer_is_the_project_s_unless_debemail_says_otherwise() -> None:
    assert build_deb.maintainer({}) == f"{build_deb.MAINTAINER[0]} <{build_deb.MAINTAINER[1]}>"


# -- reading the bundle's binaries ---------------------------------------------------------

READELF_TWO_FILES = """
File: /app/_internal/libfoo.so.1

Dynamic section at offset 0x2d90 contains 26 entries:
  Tag        Type                         Name/Value
 0x0000000000000001 (NEEDED)             Shared library: [libGL.so.1]
 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]

Version definition section '.gnu.version_d' contains 2 entries:
  0x0000: Rev: 1  Flags: BASE  Index: 1  Cnt: 1  Name: GLIBC_2.99

Version needs section '.gnu.version_r' contains 1 entry:
 Addr: 0x0000000000000540  Offset: 0x000540  Link: 7 (.dynstr)
  000000: Version: 1  File: libc.so.6  Cnt: 3
  0x0010:   Name: GLIBC_2.2.5  Flags: none  Version: 4
  0x0020:   Name: GLIBC_2.34  Flags: none  Version: 3
  0x0030:   Name: GLIBC_2.4  Flags: none  Version: 2

File: /app/gemchat

Dynamic section at offset 0x2d90 contains 20 entries:
 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]
"""


def test_readelf_output_gives_each_file_s_libraries_and_newest_glibc() -> None:
    needs = build_deb.parse_readelf(READELF_TWO_FILES)
    assert needs["/app/_internal/libfoo.so.1"] == build_deb.ElfNeeds(frozenset({"libGL.so.1", "libc.so.6"}), (2, 34))
    assert needs["/app/gemchat"] == build_deb.ElfNeeds(frozenset({"libc.so.6"}), None)


@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs readelf (binutils)")
def test_a_real_binary_s_needs_from_outside_the_bundle_are_found(tmp_path: Path) -> None:
    app = tmp_path / "app"
    (app / "_internal").mkdir(parents=True)
    shutil.copy(shutil.which("true") or "/bin/true", app / "gemchat")
    (app / "_internal" / "libc.so.6").write_text("a file of that name: as if bundled")
    outside, glibc = build_deb.bundle_needs(app)
    assert "libc.so.6" not in outside  # bundled, so not the system's
    assert glibc is not None and glibc >= (2, 2)


# -- the tree's modes and size ---------------------------------------------------------------

def test_modes_are_debian_s_libraries_lose_the_execute_bit(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub").chmod(0o700)
    files = {"gemchat": 0o775, "sub/libx.so.1": 0o777, "sub/mod.cpython-311-x86_64-linux-gnu.so": 0o755,
             "sub/data.txt": 0o600, "sub/tool": 0o700}
    for name, mode in files.items():
        (tree / name).write_text(name)
        (tree / name).chmod(mode)
    (tree / "link").symlink_to("gemchat")
    build_deb.normalize_modes(tree)
    modes = {name: stat.S_IMODE((tree / name).stat().st_mode) for name in files}
    assert modes == {"gemchat": 0o755, "sub/libx.so.1": 0o644, "sub/mod.cpython-311-x86_64-linux-gnu.so": 0o644,
                     "sub/data.txt": 0o644, "sub/tool": 0o755}
    assert stat.S_IMODE((tree / "sub").stat().st_mode) == 0o755


def test_installed_size_counts_kib_rounded_up_and_one_for_each_directory_or_link(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "one-byte").write_bytes(b"x")
    (tmp_path / "d" / "just-over").write_bytes(b"x" * 1025)
    (tmp_path / "link").symlink_to("d")
    assert build_deb.installed_size_kib(tmp_path) == 1 + 1 + 2 + 1


# -- doc files -------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("dpkg-parsechangelog") is None, reason="needs dpkg-parsechangelog (dpkg-dev)")
def test_the_changelog_is_one_dpkg_reads(tmp_path: Path) -> None:
    older = build_deb.Release("0.0.9", dt.date(2026, 10, 1), ())
    path = tmp_path / "changelog"
    path.write_text(build_deb.changelog([RELEASE, older], {}), encoding="utf-8")
    result = subprocess.run(["dpkg-parsechangelog", "-l", str(path), "--all"], capture_output=True, text=True,
                            check=True)
    fields = check_deb.parse_control(result.stdout)
    assert fields["Version"] == "0.1.0" and fields["Distribution"] == "unstable"
    assert fields["Date"] == "Sun, 29 Nov 2026 00:00:00 +0000"
    assert "First release." in fields["Changes"] and "Release 0.0.9." in fields["Changes"]


def test_the_man_page_keeps_the_help_text_and_escapes_what_roff_would_read() -> None:
    page = build_deb.man_page("usage: gemchat [--data-dir DIR]\n.starts with a dot\nback\\slash\n", RELEASE)
    assert page.startswith('.TH GEMCHAT 1 2026-11-29 "gemchat 0.1.0"')
    assert "usage: gemchat [\\-\\-data\\-dir DIR]" in page.splitlines()
    assert "\\&.starts with a dot" in page.splitlines() and "back\\eslash" in page.splitlines()


@pytest.mark.skipif(shutil.which("man") is None, reason="needs man-db")
def test_the_man_page_renders_without_warnings(tmp_path: Path) -> None:
    path = tmp_path / "gemchat.1"
    path.write_text(build_deb.man_page("usage: gemchat [--version]\n", RELEASE), encoding="utf-8")
    result = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", str(path)],
                            capture_output=True, text=True, env={**os.environ, "MANWIDTH": "80"})
    assert result.returncode == 0 and result.stderr == ""


def test_the_copyright_file_is_dep5_with_every_licence_given() -> None:
    text = build_deb.copyright_file("0.1.0", [("keyring", "25.7.0", "MIT")], ["libz.so.1 (zlib1g)"])
    paragraphs = [check_deb.parse_control(p) for p in text.split("\n\n")]
    assert paragraphs[0]["Format"] == "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
    files = {p["Files"]: p for p in paragraphs if "Files" in p}
    assert set(files) == {"*", "opt/gemchat/_internal/*"}
    assert files["*"]["License"] == "MIT"
    standalone = {p["License"].split("\n")[0]: p["License"] for p in paragraphs if "License" in p and "Files" not in p}
    assert "Permission is hereby granted" in standalone["MIT"]
    bundled = files["opt/gemchat/_internal/*"]["License"]
    assert bundled.startswith("various\n") and "keyring 25.7.0: MIT" in bundled and "libz.so.1 (zlib1g)" in bundled


def test_the_bundled_distributions_are_gemchat_s_run_time_requirements() -> None:
    names = {name.lower() for name, _version, _licence in build_deb.bundled_distributions()}
    assert {"google-genai", "qasync", "keyring", "platformdirs"} <= names
    assert not names & {"gemchat", "pytest", "pyinstaller"}


# -- the checker ----------------------------------------------------------------------------

def listing(*lines: str) -> list[check_deb.Entry]:
    return check_deb.parse_contents("\n".join(f"{line[:10]} root/root 0 2026-11-29 00:00 ./{line[11:]}"
                                              for line in lines))


GOOD_LISTING = [
    "drwxr-xr-x ", "drwxr-xr-x opt/", "drwxr-xr-x opt/gemchat/", "-rwxr-xr-x opt/gemchat/gemchat",
    "drwxr-xr-x opt/gemchat/_internal/", "-rw-r--r-- opt/gemchat/_internal/libz.so.1",
    "lrwxrwxrwx usr/bin/gemchat -> /opt/gemchat/gemchat",
    *(f"-rw-r--r-- {path}" for path in sorted(check_deb.expected_files("0.1.0"))
      if path not in ("usr/bin/gemchat", "opt/gemchat/gemchat")),
]


def test_the_checker_passes_a_package_laid_out_as_debian_wants() -> None:
    assert check_deb.contents_problems(listing(*GOOD_LISTING), "0.1.0") == []


def test_the_checker_names_each_fault_in_a_package() -> None:
    bad = [line for line in GOOD_LISTING if "metainfo" not in line] + [
        "-rwxrwxrwx opt/gemchat/_internal/libbad.so", "-rw-r--r-- etc/gemchat.conf",
    ]
    entries = listing(*bad) + [check_deb.Entry("-rw-r--r--", "1000/1000", "opt/gemchat/mine", None)]
    problems = check_deb.contents_problems(entries, "0.1.0")
    assert problems == [
        f"missing: /usr/share/metainfo/{build_deb.DESKTOP_ID}.metainfo.xml",
        "/opt/gemchat/_internal/libbad.so has mode -rwxrwxrwx, not -rw-r--r--",
        "/etc/gemchat.conf: a file outside gemchat's places",
        "/opt/gemchat/mine is owned by 1000/1000, not root/root",
    ]


def test_the_checker_wants_the_xcb_packages_a_versioned_libc_and_what_qt_links_to() -> None:
    fields = build_deb.control_fields("0.1.0", 10, ["libc6", "libgl1"], "https://example.org", {})
    problems = check_deb.control_problems(fields, "0.1.0", ["libQt6Gui.so.6", "libqxcb.so"])
    assert "Depends lacks libxcb-cursor0" in problems and "Depends lacks ca-certificates" in problems
    assert "Depends lacks libegl1" in problems and "Depends lacks libxcb1" in problems
    assert "Depends lacks libgl1" not in problems
    assert "Depends has no versioned libc6 (the bundle's glibc needs)" in problems


# -- a whole build, of a stand-in app --------------------------------------------------------

@needs_dpkg_deb
@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs readelf (binutils)")
def test_a_stand_in_app_builds_into_a_package_the_checker_passes(tmp_path: Path) -> None:
    """The build script and the checker end to end, on a shell script and one real ELF file (2 s, not 2 min)."""
    app = tmp_path / "app"
    (app / "_internal").mkdir(parents=True)
    (app / "gemchat").write_text("#!/bin/sh\necho 'usage: gemchat [--self-test]'\n")
    (app / "gemchat").chmod(0o775)
    shutil.copy(shutil.which("true") or "/bin/true", app / "_internal" / "libstandin.so.1")
    result = subprocess.run([sys.executable, str(PACKAGING / "build_deb.py"), "--app-dir", str(app),
                             "--output-dir", str(tmp_path / "out"), "--staging-dir", str(tmp_path / "staging")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    deb = tmp_path / "out" / f"gemchat_{build_deb.debian_version(gemchat.__version__)}_amd64.deb"
    check = subprocess.run([sys.executable, str(PACKAGING / "check_deb.py"), str(deb)], capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    tree = tmp_path / "staging" / deb.stem
    man = gzip.decompress((tree / "usr/share/man/man1/gemchat.1.gz").read_bytes()).decode()
    assert "usage: gemchat [\\-\\-self\\-test]" in man
    png = tree / "usr/share/icons/hicolor/512x512/apps/gemchat.png"
    assert png.read_bytes()[16:24] == (512).to_bytes(4, "big") * 2  # the PNG header's width and height


def test_a_library_left_to_the_system_is_depended_on_at_the_builds_version_or_newer_under_either_name() -> None:
    assert build_deb.dependency("libssl3", "3.0.19-1~deb12u1") == "libssl3 (>= 3.0.19) | libssl3t64"
    assert build_deb.dependency("libx11-6", "2:1.8.4-2+deb12u2") == "libx11-6 (>= 2:1.8.4) | libx11-6t64"
    entries = build_deb.depends({"libc.so.6", "libssl.so.3"}, (2, 35), [], {"libssl.so.3": "libssl3 (>= 3) | libssl3t64"})
    assert entries == ["libc6 (>= 2.35)", "ca-certificates", "libfontconfig1", "libssl3 (>= 3) | libssl3t64"]


def test_only_exact_copies_of_a_packages_library_are_left_to_the_system(tmp_path: Path) -> None:
    system = Path("/usr/lib/x86_64-linux-gnu/libz.so.1")
    if not system.is_file() or shutil.which("dpkg-query") is None:
        pytest.skip("needs Debian's zlib1g and dpkg (installed on the machines CI and the package build run on)")
    internal = tmp_path / "_internal"
    internal.mkdir()
    (internal / "libz.so.1").write_bytes(system.read_bytes())
    (internal / "libbz2.so.1.0").write_bytes(b"\x7fELF not the system's copy")
    found = build_deb.system_copies(internal)
    assert [(path.name, package) for path, (package, _version) in found.items()] == [("libz.so.1", "zlib1g")]


def test_a_library_the_bundle_loads_from_the_system_is_depended_on_through_the_package_that_has_it() -> None:
    if not Path("/usr/lib/x86_64-linux-gnu/libz.so.1").is_file() or shutil.which("dpkg-query") is None:
        pytest.skip("needs Debian's zlib1g and dpkg (installed on the machines CI and the package build run on)")
    found = build_deb.from_the_system({"libz.so.1", "libc.so.6", "libunheard.so.7"})
    assert list(found) == ["libz.so.1"]  # libc is SYSTEM_LIBRARIES' (unversioned); no package has the third
    assert found["libz.so.1"].startswith("zlib1g (>= ") and found["libz.so.1"].endswith(") | zlib1gt64")
    with pytest.raises(build_deb.BuildError, match=r"libunheard\.so\.7"):
        build_deb.depends({"libc.so.6", "libz.so.1", "libunheard.so.7"}, (2, 35), [], found)
