"""How many examples a property test draws: all of them, except under `make mutants`.

A mutation run runs the tests once per mutant, thousands of times; a property
test's first examples find nearly every mutant its full count would, so there
(GEMCHAT_MUTANTS=1, set by the Makefile) each draws at most `MUTANT_EXAMPLES`.
A survivor that only the full count would kill is still reported as one: the
score can only come out lower, never higher, than the full tests would give.
"""

from __future__ import annotations

import os

MUTANT_EXAMPLES = 20


def examples(full: int) -> int:
    """`full`, or at most MUTANT_EXAMPLES during a mutation run."""
    return min(full, MUTANT_EXAMPLES) if os.environ.get("GEMCHAT_MUTANTS") == "1" else full
