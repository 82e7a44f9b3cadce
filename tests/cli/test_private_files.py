"""DOS's folders and files are readable by their owner alone, through the real CLI: a fresh home is born private,
an old loose one is tightened once with a note."""

from __future__ import annotations

import os
from pathlib import Path

from tests.adapters.files.test_private_files import mode


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
