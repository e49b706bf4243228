"""The mutation score of `make mutants`, per package and per module, from `mutmut results --all true`.

mutmut prints one line per mutant (`    gemchat.core.budget.x_name__mutmut_3: killed`);
this counts them. A mutant is caught when a test failed (killed) or hung (timeout);
it is missed when every test passed (survived) or no test reached it (no tests).
Prints the survivors too, so the next test to write is one look away.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

CAUGHT = {"killed", "timeout", "caught by type check"}
MISSED = {"survived", "no tests"}
LINE = re.compile(r"^\s+(gemchat\.[\w.]+?)\.(?:x_|xǁ)\S*: (.+)$")


def main() -> int:
    mutmut = Path(sys.executable).with_name("mutmut")
    out = subprocess.run([str(mutmut), "results", "--all", "true"], check=True, capture_output=True,
                         text=True, encoding="utf-8").stdout
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    missed: list[str] = []
    for line in out.splitlines():
        if match := LINE.match(line):
            module, status = match.groups()
            by_module[module][status] += 1
            if status in MISSED:
                missed.append(line.strip())
    if not by_module:
        print("no mutants found: run `make mutants` first", file=sys.stderr)
        return 1
    by_package: dict[str, Counter[str]] = defaultdict(Counter)
    for module, counts in by_module.items():
        by_package[".".join(module.split(".")[:2])].update(counts)

    def row(name: str, counts: Counter[str]) -> str:
        total = sum(counts.values())
        caught = sum(counts[s] for s in CAUGHT)
        others = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s not in CAUGHT)
        return f"{name:32} {caught:5}/{total:<5} {100 * caught / total:5.1f}%  {others}"

    print("\nSurvivors (no test failed when the code was changed this way; `mutmut show NAME` shows it):")
    print("\n".join(f"  {m}" for m in missed) or "  none")
    print("\nMutation score: caught/total (killed or timed out)")
    for module in sorted(by_module):
        print(row("  " + module, by_module[module]))
    for package in sorted(by_package):
        print(row(package, by_package[package]))
    print(row("all", sum(by_package.values(), Counter())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
