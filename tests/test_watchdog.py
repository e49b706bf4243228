"""The suite's watchdog (tests/conftest.py): a test that hangs the app fails alone, and the run goes on.

A child pytest runs a small file of tests that hang the app's event loop the
two ways it can hang, each followed by one that must still run and pass.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HANGING = '''
import asyncio

from PySide6.QtCore import QTimer

from tests.conftest import run


def test_a_slot_that_never_returns(qloop):
    def forever() -> None:
        while True:
            pass

    QTimer.singleShot(0, forever)
    run(qloop, asyncio.sleep(3600), 7200)


def test_after_the_slot(qloop):
    run(qloop, asyncio.sleep(0))


def test_waiting_for_what_never_comes_on_an_idle_loop(qloop):
    qloop.run_until_complete(asyncio.Event().wait())


def test_after_the_wait(qloop):
    run(qloop, asyncio.sleep(0))
'''


def test_a_test_that_hangs_the_app_fails_alone_with_where_it_hung_and_the_next_test_runs(tmp_path: Path) -> None:
    (tmp_path / "test_hanging.py").write_text(HANGING, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "--no-xvfb", "-rA",
         "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path), "--timeout", "3",
         str(tmp_path / "test_hanging.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=45,
    )
    out = child.stdout + child.stderr
    assert child.returncode == 1, out
    assert re.search(r"^=+ 2 failed, 2 passed\b", out, re.MULTILINE), out
    for outcome, name in [("FAILED", "test_a_slot_that_never_returns"), ("PASSED", "test_after_the_slot"),
                          ("FAILED", "test_waiting_for_what_never_comes_on_an_idle_loop"),
                          ("PASSED", "test_after_the_wait")]:
        assert re.search(rf"^{outcome} \S*test_hanging\.py::{name}\b", out, re.MULTILINE), (name, out)
    assert "Segmentation fault" not in out and "+ Timeout +" not in out, out  # no crash, no last resort
    assert "was still running after its time limit of 3 s" in out, out
    assert 'test_hanging.py", line 11, in forever' in out, out  # where the slot was stuck
