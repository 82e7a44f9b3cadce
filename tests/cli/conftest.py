"""The real `dos` CLI as a subprocess: only the tests in this folder drive it (tests elsewhere call the code)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Result, clean_env


@pytest.fixture
def dos(dos_home: Path, tmp_path: Path):
    """Call `dos ARGS...` as a subprocess with DOS_HOME set; returns code, stdout, stderr."""

    def call(*args: str, input: str | bytes | None = None, env: dict | None = None, cwd: Path | None = None,
             timeout: float = 180) -> Result:
        full_env = clean_env(dos_home, **(env or {}))
        data = input.encode() if isinstance(input, str) else input
        proc = subprocess.run(
            [sys.executable, "-m", "dos", *args],
            input=data if data is not None else b"",
            capture_output=True,
            env=full_env,
            cwd=cwd or tmp_path,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))

    return call
