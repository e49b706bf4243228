"""`gemchat --self-test` as a user (or CI, on a packaged build) runs it: a separate process.

The self-test is what proves a frozen build works, so it must pass on a good
build and, just as much, fail loudly when the exchange breaks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def self_test_env(**extra: str) -> dict[str, str]:
    """No real key, proxy or data dir leaks in; the keyring is the null one in case anything asks it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI", "GOOGLE", "GEMCHAT"))}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    env.update(extra)
    return env


def run_self_test(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gemchat", "--self-test"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=90)


# The self-test keeps its own 60 s limit; pytest's must be longer so the self-test's report is seen.
@pytest.mark.timeout(120)
def test_self_test_streams_one_answer_end_to_end_and_exits_0(tmp_path: Path) -> None:
    home = tmp_path / "home"  # the user's real data directory must not be created or touched
    result = run_self_test(self_test_env(HOME=str(home), XDG_DATA_HOME=str(home / "share")))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for line in ("ok    window shown", "ok    answer streamed and ended",
                 "ok    the window shows the whole answer",
                 "ok    the database holds the question and the whole answer",
                 "ok    keyring backends import", "ok    Qt sorts by language",
                 "ok    Qt reads PNG, JPEG and WebP", "self-test passed"):
        assert line in out, out
    assert "FAIL" not in out and "Traceback" not in result.stderr
    assert not (home / "share" / "gemchat").exists()


@pytest.mark.timeout(120)
def test_an_answer_cut_halfway_fails_the_self_test_and_says_why() -> None:
    result = run_self_test(self_test_env(GEMCHAT_SELFTEST_FAULT="drop"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL  the answer ended as 'error'" in result.stdout
    assert "connection to Gemini was lost" in result.stdout
    assert "self-test FAILED" in result.stdout and "self-test passed" not in result.stdout
