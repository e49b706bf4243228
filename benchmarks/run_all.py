"""`make bench`: runs every benchmark script in this folder, one after another, and prints what each says.

One at a time, because they time things and would disturb each other on a
small machine. Each script measures its own baseline in the same run, so their
figures can be compared within a script, not across machines. A script that
fails is reported and the others still run; the exit status says whether all
of them succeeded.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_"))
    failed: list[str] = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent)
        if result.returncode != 0:
            failed.append(script.name)
            print(f"   {script.name} failed with exit status {result.returncode}", flush=True)
        print(f"   ({time.monotonic() - started:.0f} s)\n", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
