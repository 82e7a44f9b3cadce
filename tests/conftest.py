"""Shared by every folder: a fresh DOS_HOME per test, the environment a `dos` subprocess runs in, a loose umask.
The runner for the real `dos` CLI, the `dos` fixture, is in tests/cli/conftest.py: only tests/cli/ drives the CLI."""

from __future__ import annotations

import os
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
def loose_umask():
    """The usual umask (022): what made memory.db 0644 and data/ 0755 before."""
    old = os.umask(0o022)
    yield
    os.umask(old)
