"""Parallel writers: a smaller run of tests/stress/memory_stress.py (the full one is 16 x 500)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_parallel_library_and_cli_writers_lose_nothing_and_keep_the_chain():
    proc = subprocess.run(
        [sys.executable, str(REPO / "tests" / "stress" / "memory_stress.py"), "--procs", "8", "--turns", "50",
         "--cli", "3"],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 failures, chain valid" in proc.stdout and "809/809 events" in proc.stdout
