"""Start-up to the first paint of this checkout against another checkout of gemchat, in one run.

For a change that may cost start-up time (a module split, a new import), a
figure per checkout measured in separate runs moves with the machine's load
more than with the change. This runs a bare PySide6 window, the other checkout
and this one in turn, as fresh processes started the way `benchmarks/startup.py`
starts them (each checkout's own `benchmarks/_startup_child.py`, with its
bytecode written first), so load falls on all three alike. It reports, for
each, the wall time to the first paint and the CPU time the process had used
by then, which load changes less.

    git worktree add /tmp/before 49116e0
    .venv/bin/python benchmarks/startup_compare.py --against /tmp/before
"""

from __future__ import annotations

import argparse
import compileall
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, conditions, env, median

# The child prints "painted" at the first paint; it is then stopped and its CPU time read.
PAINTED = "painted"


def start(root: Path, args: list[str]) -> tuple[float, float]:
    """Seconds to the first paint, and the child's CPU seconds (user + system) until it was stopped there."""
    child = env(GEMINI_API_KEY="benchmark-key", GOOGLE_GEMINI_BASE_URL="http://127.0.0.1:9", PYTHONPATH=str(root))
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(root / "benchmarks" / "_startup_child.py"), *args], cwd=root,
                               env=child, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    painted = None
    for line in process.stdout:
        if line.startswith(PAINTED):
            painted = time.perf_counter() - began
            break
    process.kill()
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = -9
    process.stdout.close()
    if painted is None:
        raise RuntimeError(f"{root} ({args[0]}) never painted")
    return painted, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", type=Path, help="another checkout of gemchat (the baseline)")
    parser.add_argument("--runs", type=int, default=21, help="starts of each (default 21)")
    options = parser.parse_args(argv)
    if options.against is None:  # as `make bench` runs it: there is nothing to compare with
        print("startup_compare.py: skipped, give --against CHECKOUT (a git worktree of an earlier commit)")
        return 0
    other = options.against.resolve()
    if not (other / "benchmarks" / "_startup_child.py").is_file():
        parser.error(f"{other} is not a checkout of gemchat with benchmarks/_startup_child.py")
    for root in (ROOT, other):
        compileall.compile_dir(str(root / "gemchat"), quiet=1)
    names = {"bare window": ROOT, f"{other.name} (--against)": other, "this checkout": ROOT}
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(options.runs):
            for name, root in names.items():
                args = ["bare"] if name == "bare window" else ["gemchat", str(Path(tmp) / f"{n}-{len(wall[name])}-{name}")]
                seconds, used = start(root, args)
                wall[name].append(seconds)
                cpu[name].append(used)
    print("## Start-up to first paint, two checkouts in one run")
    print(conditions())
    print(f"this checkout: {ROOT}; against: {other}; {options.runs} starts each, alternating")
    print("| | wall, median | x bare | CPU, median | x bare |\n|---|---|---|---|---|")
    bare_wall, bare_cpu = median(wall["bare window"]), median(cpu["bare window"])
    for name in names:
        w, c = median(wall[name]), median(cpu[name])
        print(f"| {name} | {w * 1000:.0f} ms | {w / bare_wall:.2f}x | {c * 1000:.0f} ms | {c / bare_cpu:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
