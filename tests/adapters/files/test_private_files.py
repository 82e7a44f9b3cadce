"""DOS's folders and files are readable by their owner alone: born so, and tightened on start when they are not."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from dos.adapters.files.private import private_opener, secure_home, tighten


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


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
