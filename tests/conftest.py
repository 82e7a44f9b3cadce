"""Shared fixtures: a fresh DOS_HOME per test and a runner for the real `dos` CLI as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# What a test prepares in a DOS_HOME (config, hooks, a database) is born private, as DOS makes its own files, so no
# command prints its one-time "made private" note there; tests of that note set a loose umask themselves
# (loose_umask below). Subprocesses inherit it.
os.umask(0o077)


@dataclass
class Result:
    code: int
    out: str
    err: str


def clean_env(dos_home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without the developer's DOS_* variables, pointed at `dos_home`, and with the
    kernel off: a test that wants the kernel says so (DOS_KERNEL=1) and stops it afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_")}
    return env | {"DOS_HOME": str(dos_home), "DOS_KERNEL": "0", "NO_COLOR": "1"} | extra


@pytest.fixture
def dos_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


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


@pytest.fixture
def loose_umask():
    """The usual umask (022): what made memory.db 0644 and data/ 0755 before."""
    old = os.umask(0o022)
    yield
    os.umask(old)
