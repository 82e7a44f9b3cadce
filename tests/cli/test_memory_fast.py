"""The typer-free path for `dos memory search|log` on a pipe prints exactly what the full command prints."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def fast(dos_home: Path, *argv: str) -> tuple[str, str]:
    code = "import sys; from dos.cli.memory_fast import fast_memory; print('EXIT', fast_memory(sys.argv[1:]))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_")} | {"DOS_HOME": str(dos_home)}
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, cwd=REPO).stdout
    body, _, exit_line = out.rpartition("EXIT ")
    return body, exit_line.strip()


@pytest.mark.parametrize("argv", [
    ("memory", "search", "beta"),
    ("memory", "search", "beta", "--json", "-n", "1"),
    ("memory", "log"),
    ("memory", "log", "--json", "--limit", "3"),
])
def test_fast_path_matches_the_full_command(dos, dos_home, argv):
    dos("memory", "remember", "alpha beta")
    dos("memory", "import", "-", input='{"kind": "prompt", "text": "beta question", "turn_id": "t1"}\n'
                                       '{"kind": "response", "text": "an answer", "turn_id": "t1"}\n')
    body, code = fast(dos_home, *argv)
    assert code == "0" and body == dos(*argv).out and body


@pytest.mark.parametrize("argv", [
    ("memory", "search", "--kind", "note", "beta"), ("memory", "search"), ("memory", "log", "extra"),
    ("memory", "stats"), ("skills", "list"), ("memory", "search", "-n", "0", "x"),
])
def test_fast_path_leaves_everything_else_to_typer(dos_home, argv):
    assert fast(dos_home, *argv) == ("", "None")
