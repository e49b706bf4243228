"""The mutation score of `make mutants`, per package and per module, from `mutmut results --all true`.

mutmut prints one line per mutant (`    gemchat.core.budget.x_name__mutmut_3: killed`);
this counts them. A mutant is caught when a test failed (killed), hung (timeout) or crashed;
it is missed when every test passed (survived) or no test reached it (no tests).

Two kinds of mutant change nothing anyone can observe, and are counted apart
(`equivalent`, whether run or not), each recognised from the mutant's own code in
mutants/ (the original function beside each mutated copy), never from a list of names:

- SQL case: the only change is the letter case of an SQL statement's keywords and
  names, its quoted literals unchanged (`SELECT id FROM chats WHERE status = 'x'` ->
  `select id from chats where status = 'x'`); SQLite reads those in any case.
- log text: the only changed lines are a `log.<level>(...)` call; what is logged
  is for a developer reading the log, and no test reads log wording.

The score is printed both ways: caught/all and caught/(all - equivalent).
Survivors are listed, so the next test to write is one look away.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

CAUGHT = {"killed", "timeout", "segfault", "caught by type check"}  # the tests failed, hung or crashed
MISSED = {"survived", "no tests"}
LINE = re.compile(r"^\s+((gemchat\.[\w.]+?)\.(?:x_|xǁ)\S*): (.+)$")
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|CREATE|PRAGMA|BEGIN|COMMIT|ROLLBACK|WITH)\b", re.IGNORECASE)
QUOTED = re.compile(r"'[^']*'")  # SQL string literals: their case matters
SQL_CALL = re.compile(r"\b(execute|executemany|_write)\(")
LOG_CALL = re.compile(r"^\s*log\.(debug|info|warning|error|exception|critical)\(")


def mutated_functions(path: Path) -> dict[str, list[str]]:
    """Each function of mutmut's copy of a module (`x_name__mutmut_3`, `..._orig`): its source lines."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found: dict[str, list[str]] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and "__mutmut_" in node.name:
            body = lines[node.lineno - 1:node.end_lineno]
            found[node.name] = body[1:]  # without the `def` line, which names the mutant
    return found


def equivalence(name: str, functions: dict[str, list[str]]) -> str | None:
    """The category of an unobservable mutant, or None when it may change behaviour."""
    function = name.split(".")[-1]
    original = functions.get(function.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
    mutant = functions.get(function)
    if original is None or mutant is None or len(original) != len(mutant):
        return None
    changed = [(a, b) for a, b in zip(original, mutant, strict=True) if a != b]
    if not changed:
        return None
    if all(a.lower() == b.lower() and QUOTED.findall(a) == QUOTED.findall(b) and _in_sql_call(original, a)
           for a, b in changed):
        return "SQL case"
    statement = "\n".join(original)
    if all(_in_log_call(statement, a) for a, _b in changed):
        return "log text"
    return None


def _in_sql_call(lines: list[str], line: str) -> bool:
    """Whether `line` is part of an SQL statement passed to `execute`, `executemany` or `_write`."""
    index = lines.index(line)
    statement = "\n".join(lines[max(0, index - 3):index + 1])
    return bool(SQL_CALL.search(statement) and SQL.search(statement))


def _in_log_call(function_source: str, line: str) -> bool:
    """Whether `line` is part of a `log.<level>(...)` call in the function."""
    lines = function_source.splitlines()
    for index, text in enumerate(lines):
        if text == line:
            for back in range(index, -1, -1):  # the statement this line belongs to
                if LOG_CALL.match(lines[back]):
                    opened = "\n".join(lines[back:index + 1])
                    return opened.count("(") > opened.count(")") or index == back
                if back < index and not lines[back].rstrip().endswith((",", "(")):
                    return False
    return False


def main() -> int:
    mutmut = Path(sys.executable).with_name("mutmut")
    out = subprocess.run([str(mutmut), "results", "--all", "true"], check=True, capture_output=True,
                         text=True, encoding="utf-8").stdout
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    missed: list[tuple[str, str]] = []
    sources: dict[str, dict[str, list[str]]] = {}
    for line in out.splitlines():
        if not (match := LINE.match(line)):
            continue
        name, module, status = match.groups()
        if status not in CAUGHT:  # an equivalent mutant is one by its code, run or not
            if module not in sources:
                path = Path("mutants", *module.split(".")).with_suffix(".py")
                sources[module] = mutated_functions(path) if path.exists() else {}
            if category := equivalence(name, sources[module]):
                status = f"equivalent ({category})"
            elif status in MISSED:
                missed.append((name, status))
        by_module[module][status] += 1
    if not by_module:
        print("no mutants found: run `make mutants` first", file=sys.stderr)
        return 1
    by_package: dict[str, Counter[str]] = defaultdict(Counter)
    for module, counts in by_module.items():
        by_package[".".join(module.split(".")[:2])].update(counts)

    def row(name: str, counts: Counter[str]) -> str:
        total = sum(counts.values())
        caught = sum(counts[s] for s in CAUGHT)
        equivalent = sum(n for s, n in counts.items() if s.startswith("equivalent"))
        others = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s not in CAUGHT)
        observable = total - equivalent
        return (f"{name:34} {caught:5}/{total:<5} {100 * caught / total:5.1f}%   "
                f"{caught:5}/{observable:<5} {100 * caught / max(observable, 1):5.1f}%   {others}")

    print("\nSurvivors that may change behaviour (`mutmut show NAME` shows the change):")
    print("\n".join(f"  {name}: {status}" for name, status in missed) or "  none")
    print(f"\n{'':34} {'caught/all':>17}   {'caught/observable':>19}   (observable: all but equivalent)")
    for module in sorted(by_module):
        print(row("  " + module, by_module[module]))
    for package in sorted(by_package):
        print(row(package, by_package[package]))
    print(row("all", sum(by_package.values(), Counter())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
