"""ICU's data library rebuilt with fewer items, for the Linux build (packaging/gemchat.spec).

PySide6's libQt6Core links ICU: libicuuc, libicui18n and libicudata, whose only
content is one exported array, ICU's data package (31 MB for ICU 73). That
package is ICU's "common data" format: a table of contents of named items
(`icudt73l/coll/de.res`...), each a whole ICU data file, sorted by name and
16-byte aligned. ICU looks items up by name and treats a missing one as data
it does not have, which is how ICU's own data build tool makes smaller
packages (https://unicode-org.github.io/icu/userguide/icu_data/buildtool.html).

`trimmed_library` reads the package out of the library, keeps the items the
caller wants and links them into a library with the same file name, soname
and symbol (`icudt73_dat`), so everything that links libicudata still does.
It links with binutils' `as` and `ld`, which a Linux PyInstaller build already
needs (for `strip`); without them, or with a library it does not recognise,
it raises `IcuDataError` and the spec keeps the original.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

_MAGIC = b"\xda\x27"
_COMMON_DATA_FORMAT = b"CmnD"
_ALIGN = 16
_PAD = b"\xaa"  # what ICU's pkgdata pads with, so keeping every item gives the original byte for byte
_SHT_DYNSYM = 11


class IcuDataError(Exception):
    """The library is not one this module can rewrite, or the tools to link it are missing."""


class _Symbol(NamedTuple):
    name: str
    section: int  # 0: undefined here, taken from another library
    value: int
    size: int


def _elf_symbols(library: Path) -> tuple[bytes, list[tuple[int, ...]], list[_Symbol]]:
    """An ELF64 little-endian file's bytes, section headers and dynamic symbols."""
    elf = library.read_bytes()
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise IcuDataError(f"{library.name} is not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    symbols = []
    for _name, kind, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if kind != _SHT_DYNSYM:
            continue
        strtab = sections[link][4]
        for at in range(offset + entsize, offset + size, entsize):  # entry 0 is the null symbol
            name_at, _info_byte, _other, shndx, value, length = struct.unpack_from("<IBBHQQ", elf, at)
            name = elf[strtab + name_at:elf.index(b"\0", strtab + name_at)].decode()
            symbols.append(_Symbol(name, shndx, value, length))
    return elf, sections, symbols


def imported_symbols(library: Path) -> set[str]:
    """The names of the symbols a shared library takes from others."""
    _elf, _sections, symbols = _elf_symbols(library)
    return {symbol.name for symbol in symbols if symbol.section == 0 and symbol.name}


def exported_data(library: Path) -> dict[str, bytes]:
    """The symbols a shared library defines, with their bytes."""
    elf, sections, symbols = _elf_symbols(library)
    found: dict[str, bytes] = {}
    for symbol in symbols:
        if symbol.section == 0 or symbol.section >= len(sections):
            continue  # undefined, or absolute
        _name, _kind, _flags, address, offset, *_rest = sections[symbol.section]
        start = offset + symbol.value - address
        found[symbol.name] = elf[start:start + symbol.size]
    return found


def common_data(library: Path) -> tuple[str, bytes]:
    """The name of the data symbol (`icudt73_dat`) and the package it holds."""
    symbols = {name: data for name, data in exported_data(library).items() if re.fullmatch(r"icudt\d+_dat", name)}
    if len(symbols) != 1:
        raise IcuDataError(f"{library.name} does not export exactly one icudtNN_dat symbol: {sorted(symbols)}")
    ((symbol, package),) = symbols.items()
    return symbol, package


def items(package: bytes) -> list[tuple[str, bytes]]:
    """The package's items in order: (name, data), data padded to the next item."""
    header_size, = struct.unpack_from("<H", package, 0)
    if package[2:4] != _MAGIC or package[12:16] != _COMMON_DATA_FORMAT or package[16] != 1 or package[8] != 0:
        raise IcuDataError("not a little-endian ICU common data package (CmnD, format 1)")
    count, = struct.unpack_from("<I", package, header_size)
    toc = [struct.unpack_from("<II", package, header_size + 4 + 8 * i) for i in range(count)]
    ends = [data_at for _name_at, data_at in toc[1:]] + [len(package) - header_size]
    found = []
    for (name_at, data_at), end in zip(toc, ends, strict=True):
        start = header_size + name_at
        name = package[start:package.index(b"\0", start)].decode("ascii")
        found.append((name, package[header_size + data_at:header_size + end]))
    return found


def _padded(data: bytes) -> bytes:
    return data + _PAD * (-len(data) % _ALIGN)


def filtered(package: bytes, keep: Callable[[str], bool]) -> bytes:
    """The package with only the items whose names `keep` accepts, laid out as ICU's icupkg writes it."""
    header_size, = struct.unpack_from("<H", package, 0)
    kept = [(name, data) for name, data in items(package) if keep(name)]
    names = b"".join(name.encode("ascii") + b"\0" for name, _data in kept)
    toc_size = 4 + 8 * len(kept)
    first_data = len(_padded(bytes(header_size + toc_size) + names)) - header_size
    entries = b""
    name_at, data_at = toc_size, first_data
    for name, data in kept:
        entries += struct.pack("<II", name_at, data_at)
        name_at += len(name) + 1
        data_at += len(_padded(data))
    toc = _padded(package[:header_size] + struct.pack("<I", len(kept)) + entries + names)
    return toc + b"".join(_padded(data) for _name, data in kept)


def link_data_library(symbol: str, package: bytes, soname: str, output: Path) -> None:
    """A shared library `soname` that exports `package` as `symbol`, as ICU's own build makes it."""
    found = {tool: shutil.which(tool) for tool in ("as", "ld")}
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        raise IcuDataError(f"binutils' {' and '.join(missing)} not found")
    tools = {tool: str(path) for tool, path in found.items()}
    output.parent.mkdir(parents=True, exist_ok=True)
    data, source, obj = (output.parent / f"{symbol}{suffix}" for suffix in (".dat", ".s", ".o"))
    data.write_bytes(package)
    source.write_text(
        f"\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign {_ALIGN}\n"
        f"{symbol}:\n\t.incbin \"{data}\"\n\t.size {symbol}, . - {symbol}\n"
        "\t.section .note.GNU-stack,\"\",@progbits\n"
    )
    subprocess.run([tools["as"], "-o", str(obj), str(source)], check=True)
    subprocess.run([tools["ld"], "-shared", "-soname", soname, "-z", "noexecstack", "-o", str(output), str(obj)],
                   check=True)


def trimmed_library(library: Path, keep: Callable[[str], bool], output: Path) -> tuple[int, int]:
    """Writes libicudata with only the kept items to `output`; returns (items kept, items left out).

    The result is read back and must export the same symbols as the original,
    holding exactly the filtered package.
    """
    symbol, package = common_data(library)
    smaller = filtered(package, keep)
    link_data_library(symbol, smaller, library.name, output)
    before, after = exported_data(library), exported_data(output)
    if set(after) != set(before) or after[symbol] != smaller:
        raise IcuDataError(f"the rebuilt {output.name} exports {sorted(after)}, not {sorted(before)} "
                           "with the filtered data")
    total, kept = len(items(package)), len(items(smaller))
    return kept, total - kept
