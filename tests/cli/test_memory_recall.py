"""`dos run -c` continues this terminal's conversation only, and `--show-context` / `--no-memory` say and change
what recall offers the model."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.model
def test_run_continue_keeps_to_this_terminal_and_show_context(dos, tmp_path: Path):
    args = ("run", "explain", "--max-tokens", "3", "--temperature", "0")
    first = dos(*args, "What is a zebra?", cwd=tmp_path)
    assert first.code == 0, first.err
    other_terminal = dos(*args, "-c", "--show-context", "Tell me more.", env={"TERM_SESSION_ID": "other"}, cwd=tmp_path)
    assert "0 earlier turn(s)" in other_terminal.err
    same = dos(*args, "-c", "--show-context", "Tell me more.", cwd=tmp_path)
    assert "1 earlier turn(s)" in same.err and "What is a zebra?" in same.err
    quiet = dos(*args, "-c", "--no-memory", "--show-context", "More.", cwd=tmp_path)
    assert "context:" not in quiet.err
