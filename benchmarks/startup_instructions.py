"""Start-up to the window mapped, as CPU instructions, counted by valgrind, beside the bare PySide6 window.

`desktop.py` times start-up from outside, as a user feels it; on a small
virtual machine the same start takes 360-570 ms from one run to the next, so
a change of 20 ms is lost in the noise of even 30 runs. Instructions do not
vary with the machine's load: each count here comes out the same, within about
1%, however often it is run. Both processes run on their own Xvfb (the xcb
platform, as a user's), with PYTHONHASHSEED=0, and end when the window's
`show()` has asked the X server to map it (`_instructions_child.py`).

What counts is the CPU's work, not waiting: the X server's, the disk's and the
dynamic loader's waits are not in it, and they are the same for both. So the
ratio of instructions is larger than the ratio of the times `desktop.py` sees.

Needs valgrind (Debian: apt-get install valgrind) and Xvfb. One count takes
about 30 s under valgrind. Run: `.venv/bin/python benchmarks/startup_instructions.py`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, compile_like_an_install, conditions
from benchmarks.desktop import XServer, x_env

CHILD = ROOT / "benchmarks" / "_instructions_child.py"
PHASES = ("Python, PySide6 and the QApplication", "The window's modules",
          "Building the window", "Showing it (to the request to map it)")
TARGET = 1.5  # issue 12: start-up no more than 1.5 times the bare window's


def count(display: str, args: list[str], out: Path) -> list[int]:
    """Instructions of each phase of one start (PHASES); the whole start only, if no phase was told apart."""
    command = ["valgrind", "--tool=callgrind", "--dump-before=os_getppid", f"--callgrind-out-file={out}/cg.%p",
               sys.executable, str(CHILD), *args]
    result = subprocess.run(command, cwd=ROOT, env=x_env(display, PYTHONHASHSEED="0"), capture_output=True,
                            text=True, timeout=600)
    dumps: dict[str, list[tuple[int, int]]] = {}
    for path in out.glob("cg.*"):
        match = re.fullmatch(r"cg\.(\d+)(?:\.(\d+))?", path.name)
        text = path.read_text(errors="replace")
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if match and total:
            dumps.setdefault(match.group(1), []).append((int(match.group(2) or 10**6), int(total.group(1))))
        path.unlink()
    if not dumps:
        raise RuntimeError(f"valgrind counted nothing for {args}:\n{result.stderr[-3000:]}")
    # The process itself: the one with the most dumps (libdbus forks children that end at once).
    parts = [n for _, n in sorted(max(dumps.values(), key=len))]
    # Dump k holds what ran before the k-th marker: PHASES, then the end (a few thousand instructions).
    return parts[:len(PHASES)] if len(parts) > len(PHASES) else [sum(parts)]


def millions(n: int) -> str:
    return f"{n / 1e6:,.1f} M"


def main() -> int:
    if shutil.which("valgrind") is None:
        raise SystemExit("startup_instructions.py needs valgrind (Debian: apt-get install valgrind)")
    compile_like_an_install()
    server = XServer()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            bare = count(server.display, ["bare"], out)
            app = count(server.display, ["gemchat", str(out / "new-data-directory")], out)
    finally:
        server.close()
    print("## Start-up to the window mapped, in instructions (valgrind --tool=callgrind)\n")
    print(f"{conditions().replace('QT_QPA_PLATFORM=offscreen', 'xcb on Xvfb')}, PYTHONHASHSEED=0\n")
    print("| Phase | gemchat | Bare window | Difference |\n|---|---|---|---|")
    if len(bare) == len(app) == len(PHASES):
        for name, mine, theirs in zip(PHASES, app, bare, strict=True):
            print(f"| {name} | {millions(mine)} | {millions(theirs)} | {millions(mine - theirs)} |")
    ratio = sum(app) / sum(bare)
    print(f"| **Whole start** | **{millions(sum(app))}** | **{millions(sum(bare))}** | {millions(sum(app) - sum(bare))} |")
    print(f"\nRatio {ratio:.2f}x (issue 12's start-up target, in time: {TARGET}x). "
          f"The bare window's count is {TARGET}x at {millions(int(sum(bare) * TARGET))}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
