"""packaging/icu_data.py: ICU's data library, rebuilt with fewer items, still works where ICU links it.

The Linux package ships such a library (packaging/gemchat.spec says which
items it leaves out); these tests rebuild one from the ICU that PySide6 ships
and let that same ICU, in a separate process, load it.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))

import icu_data  # noqa: E402 (packaging/ is not a package)

_PYSIDE = importlib.util.find_spec("PySide6")
QT_LIB = Path(_PYSIDE.submodule_search_locations[0]) / "Qt" / "lib" if _PYSIDE and _PYSIDE.submodule_search_locations \
    else Path("/nonexistent")
ICU_DATA = next(QT_LIB.glob("libicudata.so.*"), None)

pytestmark = pytest.mark.skipif(ICU_DATA is None or not shutil.which("as") or not shutil.which("ld"),
                                reason="needs PySide6's ICU (Linux wheels) and binutils")

# Run in a fresh interpreter: this one may have loaded PySide6's ICU already, with the full data.
PROBE = """
import ctypes, sys
folder, version = sys.argv[1], sys.argv[2]
uc = ctypes.CDLL(f"{folder}/libicuuc.so.{version}")
i18n = ctypes.CDLL(f"{folder}/libicui18n.so.{version}")
def icu(library, name, restype=ctypes.c_void_p):
    function = getattr(library, f"{name}_{version}")
    function.restype = restype
    return function
status = ctypes.c_int(0)
collator = icu(i18n, "ucol_open")(b"sv", ctypes.byref(status))
print(f"collator={status.value}")
order = icu(i18n, "ucol_strcoll", ctypes.c_int)(ctypes.c_void_p(collator), "ö".encode("utf-16-le"), 1,
                                                 "z".encode("utf-16-le"), 1)
print(f"order={order}")
status = ctypes.c_int(0)
icu(uc, "ubrk_open")(1, b"en", None, 0, ctypes.byref(status))  # UBRK_WORD
print(f"breaker={status.value}")
"""
U_ZERO_ERROR, U_MISSING_RESOURCE_ERROR, UCOL_GREATER = 0, 2, 1


def test_keeping_every_item_gives_back_the_package_byte_for_byte() -> None:
    assert ICU_DATA is not None
    _symbol, package = icu_data.common_data(ICU_DATA)
    assert icu_data.filtered(package, lambda name: True) == package


def test_icu_sorts_swedish_from_the_rebuilt_library_and_lacks_what_was_left_out(tmp_path: Path) -> None:
    assert ICU_DATA is not None
    version = ICU_DATA.name.rsplit(".", 1)[1]
    kept, left_out = icu_data.trimmed_library(ICU_DATA, lambda name: "/brkitr/" not in name, tmp_path / ICU_DATA.name)
    assert kept > 1000 and left_out > 10
    for name in (f"libicuuc.so.{version}", f"libicui18n.so.{version}"):
        shutil.copy(QT_LIB / name, tmp_path / name)  # their RUNPATH ($ORIGIN) finds the rebuilt data beside them

    result = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), version],
                            capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [f"collator={U_ZERO_ERROR}", f"order={UCOL_GREATER}",
                                     f"breaker={U_MISSING_RESOURCE_ERROR}"]


def test_a_library_that_is_not_icu_data_is_refused(tmp_path: Path) -> None:
    not_icu = QT_LIB / "libQt6Core.so.6"
    with pytest.raises(icu_data.IcuDataError, match="icudtNN_dat"):
        icu_data.trimmed_library(not_icu, lambda name: True, tmp_path / "libicudata.so.99")
