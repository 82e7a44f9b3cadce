"""`dos sync` writes and deletes only inside its target (issue 25): a target's manifest (`.dos-sync.json`) is
untrusted input. Each test stages an attack first (a hostile manifest with `../x`, an absolute path, a symlink
out of the target, a hash-matching entry outside it, `pull` with a path for a skill name, a manifest that tries to
select the project preset) and asserts that the files outside survive and the refusal is one line."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from dos.bootstrap import build

SKILL = "---\nname: {name}\ndescription: A test skill for sync.\n---\nDo the {name} thing.\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_skill(root: Path, name: str) -> Path:
    folder = root / name
    (folder / "references").mkdir(parents=True)
    (folder / "SKILL.md").write_text(SKILL.format(name=name))
    (folder / "references" / "notes.md").write_text("notes v1\n")
    return folder


def hostile(root: Path, files: dict[str, str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / ".dos-sync.json").write_text(json.dumps({"version": 1, "files": files}))


def victims(folder: Path, n: int = 3) -> dict[Path, str]:
    """Files that belong to someone else, next to (or far from) a target."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for i in range(n):
        p = folder / f"precious{i}.txt"
        p.write_text(f"do not delete {i}\n")
        out[p] = p.read_text()
    return out


def survive(files: dict[Path, str]) -> None:
    for p, text in files.items():
        assert p.is_file() and p.read_text() == text, f"{p} was deleted or overwritten"


@pytest.fixture
def world(dos_home: Path, tmp_path: Path, monkeypatch):
    """A user skill `mine`, a folder target `t` at tmp/place/target (so its parent holds other files) and a
    project folder the commands run in."""
    monkeypatch.setenv("DOS_HOME", str(dos_home))
    monkeypatch.setenv("HOME", str(tmp_path / "userhome"))
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    make_skill(dos_home / "data" / "skills", "mine")
    target = tmp_path / "place" / "target"
    (dos_home / "config").mkdir(parents=True)
    (dos_home / "config" / "sync.yaml").write_text(
        f"targets:\n  - {{name: t, kind: folder, path: {target}, packs: user}}\n")
    return {"target": target, "parent": target.parent, "tmp": tmp_path, "project": project, "home": dos_home}


def refused(report, *words: str) -> None:
    assert report.error, "the target was synced, not refused"
    assert "\n" not in report.error
    for w in words:
        assert w in report.error, report.error
    assert not report.done


# --- the manifest names paths outside the target --------------------------------------------------------

@pytest.mark.parametrize("force", [False, True])
def test_dotdot_entry_deletes_nothing_in_the_parent(world, force):
    """`"../x"` made `--force` delete every non-hidden file in the target's parent."""
    outside = victims(world["parent"])
    hostile(world["target"], {"../precious0.txt": sha(b"do not delete 0\n"), "../x": "0" * 64})
    [report] = build().sync.sync(force=force)
    refused(report, "../precious0.txt", "outside")
    survive(outside)
    assert not (world["target"] / "mine").exists()  # nothing written either


@pytest.mark.parametrize("entry", ["{far}/precious0.txt", "mine/../../precious0.txt", "./../precious0.txt",
                                  "mine\\..\\..\\precious0.txt", "mine//x", "lonely", ""])
def test_absolute_and_odd_entries_are_refused(world, entry):
    far = world["tmp"] / "far"
    outside = victims(far) | victims(world["parent"])
    name = entry.format(far=far)
    hostile(world["target"], {name: sha(b"do not delete 0\n")})
    for force in (False, True):
        [report] = build().sync.sync(force=force)
        refused(report, "outside" if ".." in name or name.startswith("/") else "not a")
    survive(outside)
    assert not (world["target"] / "mine").exists()


def test_a_hash_matching_entry_outside_is_never_deleted(world):
    """Without --force, an entry whose hash matches the outside file made it `deleted` (removed)."""
    home = world["home"]
    (home / "data").mkdir(exist_ok=True)
    db = home / "data" / "memory.db"
    db.write_bytes(b"SQLite format 3\0 the user's memory")
    rel = "../" * len(world["target"].relative_to("/").parts) + str(db).lstrip("/")
    hostile(world["target"], {rel: sha(db.read_bytes()), str(db): sha(db.read_bytes())})
    [report] = build().sync.sync()
    refused(report, "outside")
    assert db.read_bytes() == b"SQLite format 3\0 the user's memory"


def test_status_and_dry_run_refuse_too(world):
    victims(world["parent"])
    hostile(world["target"], {"../precious0.txt": sha(b"do not delete 0\n")})
    [report] = build().sync.status()
    refused(report, "outside")
    [report] = build().sync.sync(dry_run=True, force=True)
    refused(report, "outside")


# --- symlinks out of the target --------------------------------------------------------------------------

def test_a_skill_folder_symlinked_out_of_the_target(world):
    """target/mine -> a folder elsewhere: --force would remove every file there the source does not have."""
    elsewhere = world["tmp"] / "documents"
    outside = victims(elsewhere)
    world["target"].mkdir(parents=True)
    (world["target"] / "mine").symlink_to(elsewhere, target_is_directory=True)
    hostile(world["target"], {"mine/precious0.txt": sha(b"do not delete 0\n")})
    for force in (False, True):
        [report] = build().sync.sync(force=force)
        refused(report, "mine", "outside")
    survive(outside)
    assert not (elsewhere / "SKILL.md").exists()  # and nothing written through the link


def test_a_subfolder_symlinked_out_of_the_target_is_not_written_through(world):
    """target/mine/references -> elsewhere: a forced write of mine/references/notes.md went through the link."""
    elsewhere = world["tmp"] / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "notes.md").write_text("someone else's notes\n")
    assert not build().sync.sync()[0].error
    import shutil

    shutil.rmtree(world["target"] / "mine" / "references")
    (world["target"] / "mine" / "references").symlink_to(elsewhere, target_is_directory=True)
    for force in (False, True):
        [report] = build().sync.sync(force=force)
        refused(report, "mine/references/notes.md", "outside")
    assert (elsewhere / "notes.md").read_text() == "someone else's notes\n"


def test_a_file_symlinked_out_of_the_target(world):
    secret = world["tmp"] / "secret.txt"
    secret.write_text("private\n")
    assert not build().sync.sync()[0].error
    (world["target"] / "mine" / "extra.md").symlink_to(secret)
    [report] = build().sync.sync(force=True)
    refused(report, "mine/extra.md", "outside")
    assert secret.read_text() == "private\n"


def test_a_target_root_that_is_a_symlink_is_still_the_target(world):
    """Legitimate: ~/.claude/skills -> ~/dotfiles/skills. The target is where the link points."""
    real = world["tmp"] / "dotfiles" / "skills"
    real.mkdir(parents=True)
    world["parent"].mkdir(parents=True)
    world["target"].symlink_to(real, target_is_directory=True)
    [report] = build().sync.sync()
    assert not report.error, report.error
    assert (real / "mine" / "SKILL.md").is_file()
    [report] = build().sync.sync()
    assert not report.error and not report.changes


# --- pull ------------------------------------------------------------------------------------------------


def test_pull_refuses_a_hostile_manifest_and_a_symlinked_skill(world):
    from dos.core.errors import DosError

    sync = build().sync
    assert not sync.sync()[0].error
    data = world["home"] / "data"
    (data / "memory.db").write_bytes(b"the user's memory")
    manifest = json.loads((world["target"] / ".dos-sync.json").read_text())
    manifest["files"]["mine/../../memory.db"] = sha(b"the user's memory")
    (world["target"] / ".dos-sync.json").write_text(json.dumps(manifest))
    with pytest.raises(DosError, match="outside"):
        sync.pull("t", "mine")
    assert (data / "memory.db").read_bytes() == b"the user's memory"

    # a skill folder in the target that links elsewhere is not read into the source
    manifest["files"].pop("mine/../../memory.db")
    (world["target"] / ".dos-sync.json").write_text(json.dumps(manifest))
    import shutil

    shutil.rmtree(world["target"] / "mine")
    elsewhere = make_skill(world["tmp"] / "elsewhere", "mine")
    (world["target"] / "mine").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(DosError, match="outside"):
        sync.pull("t", "mine")


# --- which targets `dos sync` picks on its own ----------------------------------------------------------


def test_a_symlink_loop_or_a_strange_name_is_one_line(world):
    assert not build().sync.sync()[0].error
    (world["target"] / "mine" / "loop").symlink_to(world["target"] / "mine" / "loop")
    manifest = json.loads((world["target"] / ".dos-sync.json").read_text())
    manifest["files"]["mine/loop/x"] = "0" * 64
    (world["target"] / ".dos-sync.json").write_text(json.dumps(manifest))
    [report] = build().sync.sync(force=True)
    refused(report, "loop")
    (world["target"] / "mine" / "loop").unlink()
    manifest["files"].pop("mine/loop/x")
    (world["target"] / ".dos-sync.json").write_text(json.dumps(manifest))
    elsewhere = world["tmp"] / "x\n\x1b[2Jevil"
    elsewhere.write_text("private\n")
    (world["target"] / "mine" / "odd\nname\x1b[31m").symlink_to(elsewhere)
    [report] = build().sync.sync(force=True)
    refused(report, "outside")
    assert "\x1b" not in report.error and elsewhere.read_text() == "private\n"
