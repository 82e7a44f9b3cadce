"""DOS's folders and files are readable by their owner alone: born so, and tightened on start when they are not."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from dos.adapters.files.private import private_opener, secure_home, tighten


@pytest.fixture
def loose_umask():
    """The usual umask (022): what made memory.db 0644 and data/ 0755 before."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def readable_by_others(home: Path) -> list[str]:
    found = []
    for root, dirs, files in os.walk(home / "home"):
        for name in dirs + files:
            path = Path(root) / name
            if not path.is_symlink() and mode(path) & 0o077:
                found.append(f"{path.relative_to(home)} {mode(path):04o}")
    return found


def test_a_fresh_home_is_private_after_everyday_commands(dos, dos_home, tmp_path, loose_umask):
    for args in (("memory", "remember", "the launch is on Tuesday"), ("credits", "grant", "1"),
                 ("config", "set", "editor", "nano"), ("tokens", "create", "editor"), ("packs", "list"),
                 ("skills", "list")):
        run = dos(*args)
        assert run.code == 0, (args, run.err)
        assert "made private" not in run.err  # born private: nothing to tighten later
    data = dos_home / "data"
    assert {mode(dos_home / f) for f in ("config", "data", "state")} == {0o700}
    assert {mode(p) for p in data.glob("memory.db*")} == {0o600}
    assert readable_by_others(tmp_path) == []


def test_an_old_loose_home_is_tightened_once_with_a_note_and_nothing_lost(dos, dos_home, tmp_path, loose_umask):
    assert dos("memory", "remember", "the launch is on Tuesday").code == 0
    for path in [dos_home / d for d in ("config", "data", "state")]:
        path.chmod(0o755)
    db = dos_home / "data" / "memory.db"
    db.chmod(0o644)
    (dos_home / "state" / "kernel.log").write_text("an old log\n")
    (dos_home / "state" / "kernel.log").chmod(0o644)
    elsewhere = tmp_path / "dotfiles.yaml"  # a user's symlinked config: what it points to is not DOS's
    elsewhere.write_text("editor: vi\n")
    elsewhere.chmod(0o644)
    (dos_home / "config" / "models.yaml").symlink_to(elsewhere)

    run = dos("memory", "search", "launch")
    assert run.code == 0 and "Tuesday" in run.out
    notes = [line for line in run.err.splitlines() if "made private" in line]
    assert len(notes) == 1 and f"in {dos_home}: config, data, data/memory.db, state, state/kernel.log" in notes[0]
    assert readable_by_others(tmp_path) == []
    assert mode(elsewhere) == 0o644

    again = dos("memory", "search", "launch")
    assert again.code == 0 and "Tuesday" in again.out and "made private" not in again.err


def test_secure_home_makes_missing_folders_0700_and_runs_once_a_process(tmp_path, loose_umask):
    folders = [tmp_path / "c", tmp_path / "d"]
    notes: list[str] = []
    assert secure_home(folders, notes.append) == []
    assert {mode(f) for f in folders} == {0o700} and notes == []
    (folders[1] / "memory.db").write_text("x")
    (folders[1] / "memory.db").chmod(0o664)
    assert secure_home(folders, notes.append) == []  # this process already secured them
    assert tighten(folders) == [str(folders[1] / "memory.db")]
    assert mode(folders[1] / "memory.db") == 0o600


def test_tighten_keeps_an_owners_executable_bit_and_skips_what_is_missing(tmp_path):
    (tmp_path / "hook.sh").write_text("#!/bin/sh\n")
    (tmp_path / "hook.sh").chmod(0o755)
    tmp_path.chmod(0o700)
    assert tighten([tmp_path, tmp_path / "missing"]) == [str(tmp_path / "hook.sh")]
    assert mode(tmp_path / "hook.sh") == 0o700


def test_private_opener_creates_a_log_0600_and_sqlite_follows_the_database_mode(tmp_path, loose_umask):
    with open(tmp_path / "kernel.log", "ab", opener=private_opener) as log:
        log.write(b"ready\n")
    assert mode(tmp_path / "kernel.log") == 0o600
    from dos.adapters.store.sqlite_memory import SqliteMemory

    memory = SqliteMemory(tmp_path / "data" / "memory.db")
    memory.db.execute("SELECT 1")
    wal = sqlite3.connect(tmp_path / "data" / "memory.db")  # a second connection keeps -wal and -shm in place
    assert mode(tmp_path / "data") == 0o700
    assert {mode(p) for p in (tmp_path / "data").glob("memory.db*")} == {0o600}
    assert len(list((tmp_path / "data").glob("memory.db*"))) == 3
    wal.close()
    memory.close()
