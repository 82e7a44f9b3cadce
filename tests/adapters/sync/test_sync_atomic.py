"""`dos sync` writes atomically: a reader never sees half a file, and a sync that fails part way leaves each
file as it was or fully updated, with a manifest that records exactly what was written."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from dos.bootstrap import build


@pytest.fixture
def engine(dos_home: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("DOS_HOME", str(dos_home))
    monkeypatch.setenv("HOME", str(tmp_path / "userhome"))
    monkeypatch.chdir(tmp_path)
    skill = dos_home / "data" / "skills" / "big"
    (skill / "references").mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: big\ndescription: A skill with many files.\n---\nUse them.\n")
    (dos_home / "config").mkdir(parents=True)
    target = tmp_path / "target"
    (dos_home / "config" / "sync.yaml").write_text(f"targets:\n  - {{name: t, kind: folder, path: {target}, packs: user}}\n")
    return build().sync, skill, target


def write_refs(skill: Path, version: str, n: int = 6, size: int = 1) -> None:
    for i in range(n):
        (skill / "references" / f"r{i}.md").write_text(f"{version} {i}\n" * size)


def test_a_failed_sync_leaves_each_file_old_or_new(engine, monkeypatch):
    sync, skill, target = engine
    write_refs(skill, "old")
    [report] = sync.sync()
    assert not report.error
    write_refs(skill, "new")

    real_replace, calls = os.replace, []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr("dos.adapters.sync.sync_targets.os.replace", failing_replace)
    [report] = sync.sync()
    assert report.error and "No space left on device" in report.error
    assert len(report.done) == 2
    for i in range(6):
        assert (target / "big" / "references" / f"r{i}.md").read_text() in (f"old {i}\n", f"new {i}\n")
    assert not [p for p in target.rglob("*") if p.name.startswith(".dos-sync-") and p.name != ".dos-sync.json"]

    monkeypatch.setattr("dos.adapters.sync.sync_targets.os.replace", real_replace)
    # the manifest holds exactly what was written: the rest is behind, nothing looks drifted
    [status] = sync.status()
    states = {p.path: p.state for p in status.plans}
    assert sorted(s for s in states.values() if s != "in step") == ["behind"] * 4
    [report] = sync.sync()
    assert not report.error and not report.skips
    for i in range(6):
        assert (target / "big" / "references" / f"r{i}.md").read_text() == f"new {i}\n"


def test_a_reader_never_sees_half_a_file(engine):
    sync, skill, target = engine
    versions = [("A" * 1000 + "\n") * 500, ("B" * 1000 + "\n") * 500]
    file = skill / "references" / "big.md"
    file.write_text(versions[0])
    sync.sync()
    seen: set[str] = set()
    stop = threading.Event()

    def read() -> None:
        copy = target / "big" / "references" / "big.md"
        while not stop.is_set():
            seen.add(copy.read_text())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(20):
            file.write_text(versions[(i + 1) % 2])
            [report] = sync.sync()
            assert not report.error and not report.skips
    finally:
        stop.set()
        reader.join()
    torn = [f"{s[:1]}... ({len(s)} chars, {s.count('A')} A, {s.count('B')} B)" for s in seen if s not in versions]
    assert not torn and len(seen) == 2
