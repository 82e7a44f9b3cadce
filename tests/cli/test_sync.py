"""`dos sync` with real folders: three targets, edits in a copy, source changes, status, pull, force, deletes,
a target that cannot be written. HOME points into tmp so the presets never touch the real ~/.claude."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

SKILL = "---\nname: {name}\ndescription: {desc}\n---\nDo the {name} thing.\n"


def make_skill(root: Path, name: str, desc: str = "A test skill for sync.") -> Path:
    folder = root / name
    (folder / "scripts").mkdir(parents=True)
    (folder / "references").mkdir()
    (folder / "SKILL.md").write_text(SKILL.format(name=name, desc=desc))
    (folder / "scripts" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (folder / "scripts" / "run.sh").chmod(0o755)
    (folder / "references" / "notes.md").write_text("notes v1\n")
    return folder


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "userhome"
    h.mkdir()
    return h


@pytest.fixture
def sync(dos, home):
    def call(*args: str, **kw):
        return dos("sync", *args, env={"HOME": str(home)}, **kw)
    return call


@pytest.fixture
def setup(dos_home: Path, home: Path, tmp_path: Path):
    """A user skill `mine` and three targets: Claude Code (preset, under HOME), Codex (user skills only) and a
    plain folder."""
    user = dos_home / "data" / "skills"
    src = make_skill(user, "mine")
    make_skill(user, "other")
    (dos_home / "config").mkdir(parents=True)
    (dos_home / "config" / "sync.yaml").write_text(
        "targets:\n"
        "  - {preset: claude, skills: [mine, other, summarize]}\n"
        "  - {preset: codex, packs: [user]}\n"
        f"  - {{name: shared, kind: folder, path: {tmp_path / 'shared'}, skills: 'm*'}}\n")
    return {"src": src, "user": user, "claude": home / ".claude" / "skills", "codex": home / ".codex" / "skills",
            "shared": tmp_path / "shared"}


def statuses(sync) -> dict[str, dict[str, str]]:
    r = sync("status", "--json")
    assert r.code == 0, r.err
    return {t["name"]: t["skills"] for t in json.loads(r.out)["targets"]}


def test_three_targets_edit_change_status_pull_force(sync, setup):
    src, claude, codex, shared = setup["src"], setup["claude"], setup["codex"], setup["shared"]
    r = sync()
    assert r.code == 0, r.err
    for target in (claude, codex, shared):
        assert (target / "mine" / "SKILL.md").read_text() == (src / "SKILL.md").read_text()
        assert (target / "mine" / "references" / "notes.md").read_text() == "notes v1\n"
        assert os.stat(target / "mine" / "scripts" / "run.sh").st_mode & stat.S_IXUSR
        manifest = json.loads((target / ".dos-sync.json").read_text())
        assert "mine/SKILL.md" in manifest["files"]
    # selection: claude by name (a built-in included), codex by pack (user only), shared by glob
    assert (claude / "summarize" / "SKILL.md").is_file() and (claude / "other").is_dir()
    assert (codex / "other").is_dir() and not (codex / "summarize").exists()
    assert not (shared / "other").exists()
    assert statuses(sync) == {"claude": {"mine": "in step", "other": "in step", "summarize": "in step"},
                              "codex": {"mine": "in step", "other": "in step"}, "shared": {"mine": "in step"}}

    # edit one copy, change the source
    (claude / "mine" / "SKILL.md").write_text(SKILL.format(name="mine", desc="Edited in Claude Code."))
    (src / "references" / "notes.md").write_text("notes v2\n")
    st = statuses(sync)
    assert st["claude"]["mine"] == "both"        # drifted SKILL.md + behind notes.md
    assert st["codex"]["mine"] == "behind" and st["shared"]["mine"] == "behind"
    assert st["claude"]["other"] == "in step"

    r = sync()
    assert r.code == 0, r.err
    assert "skip   mine/SKILL.md: edited in the target" in r.out
    assert "Edited in Claude Code." in (claude / "mine" / "SKILL.md").read_text()  # not overwritten
    assert (claude / "mine" / "references" / "notes.md").read_text() == "notes v2\n"  # the rest synced
    assert (codex / "mine" / "references" / "notes.md").read_text() == "notes v2\n"
    assert statuses(sync)["claude"]["mine"] == "drifted"

    # pull the edit back into the source (a user skill: edited in place), then the others follow
    r = sync("pull", "claude", "mine")
    assert r.code == 0, r.err
    assert f"into {src}" in r.out and "shadows" not in r.out
    assert "Edited in Claude Code." in (src / "SKILL.md").read_text()
    st = statuses(sync)
    assert st["claude"]["mine"] == "in step" and st["codex"]["mine"] == "behind"
    assert sync().code == 0
    assert "Edited in Claude Code." in (shared / "mine" / "SKILL.md").read_text()
    assert all(s == "in step" for t in statuses(sync).values() for s in t.values())

    # --force overwrites an edit
    (codex / "mine" / "scripts" / "run.sh").write_text("#!/bin/sh\nrm -rf /\n")
    r = sync("codex")
    assert "skip   mine/scripts/run.sh" in r.out
    assert "rm -rf" in (codex / "mine" / "scripts" / "run.sh").read_text()
    r = sync("codex", "--force")
    assert r.code == 0, r.err
    assert (codex / "mine" / "scripts" / "run.sh").read_text() == "#!/bin/sh\necho hi\n"
    assert statuses(sync)["codex"]["mine"] == "in step"


def test_pull_of_a_builtin_goes_to_the_user_folder(sync, setup):
    assert sync("claude").code == 0
    edited = (setup["claude"] / "summarize" / "SKILL.md").read_text() + "Answer in French.\n"
    (setup["claude"] / "summarize" / "SKILL.md").write_text(edited)
    r = sync("pull", "claude", "summarize")
    assert r.code == 0, r.err
    assert "came from builtin:writing" in r.out and "shadows it" in r.out
    assert (setup["user"] / "summarize" / "SKILL.md").read_text() == edited
    assert statuses(sync)["claude"]["summarize"] == "in step"


def test_deleting_a_skill_removes_only_unedited_copies(sync, setup):
    assert sync().code == 0
    (setup["claude"] / "other" / "references" / "notes.md").write_text("my own notes\n")
    import shutil

    shutil.rmtree(setup["user"] / "other")
    r = sync()
    assert r.code == 0, r.err
    assert not (setup["codex"] / "other").exists()                        # untouched copy: removed
    assert (setup["claude"] / "other" / "references" / "notes.md").read_text() == "my own notes\n"  # edited: kept
    assert "skip   other/references/notes.md: deleted from the source but edited in the target" in r.out
    assert statuses(sync)["claude"]["other"] == "drifted"
    r = sync("claude", "--force")
    assert r.code == 0 and not (setup["claude"] / "other").exists()


@pytest.fixture(params=["parent-is-a-file", "immutable"])
def unwritable(request, tmp_path: Path):
    """A target folder that cannot be written, even by root: its parent is a regular file, or it is
    `chattr +i` (skipped where the file system or the user cannot set the flag)."""
    import shutil
    import subprocess

    if request.param == "parent-is-a-file":
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a regular file where a folder is expected\n")
        yield blocker / "skills"
        return
    folder = tmp_path / "frozen"
    folder.mkdir()
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)


def test_a_target_that_cannot_be_written_is_reported_and_the_others_sync(sync, setup, dos_home, unwritable):
    with (dos_home / "config" / "sync.yaml").open("a") as f:
        f.write(f"  - {{name: broken, kind: folder, path: {unwritable}}}\n")
    r = sync()
    assert r.code == 13, (r.out, r.err)
    errors = [line for line in r.err.splitlines() if "broken" in line]
    assert errors[0].startswith("dos: broken: cannot sync:")
    assert errors[-1] == "dos: 1 of 4 targets failed (broken); the others were synced"
    for name in ("claude", "codex", "shared"):
        assert (setup[name] / "mine" / "SKILL.md").is_file()
    assert "Traceback" not in r.err
    assert len(errors) == 2
    assert not list(unwritable.parent.glob("**/.dos-sync-*"))  # no temp file left behind


def test_dry_run_prints_the_diff_and_writes_nothing(sync, setup):
    assert sync("shared").code == 0
    (setup["src"] / "SKILL.md").write_text(SKILL.format(name="mine", desc="Changed in the source."))
    before = (setup["shared"] / "mine" / "SKILL.md").read_text()
    manifest = (setup["shared"] / ".dos-sync.json").read_text()
    r = sync("shared", "--dry-run")
    assert r.code == 0, r.err
    assert "--- shared/mine/SKILL.md" in r.out and "+++ dos/mine/SKILL.md" in r.out
    assert "-description: A test skill for sync." in r.out and "+description: Changed in the source." in r.out
    assert (setup["shared"] / "mine" / "SKILL.md").read_text() == before
    assert (setup["shared"] / ".dos-sync.json").read_text() == manifest
    data = json.loads(sync("shared", "--dry-run", "--json").out)
    assert data["dry_run"] and "+description: Changed" in data["targets"][0]["diff"]


def test_targets_presets_and_config_errors(sync, setup, dos_home):
    r = sync("targets")
    assert r.code == 0, r.err
    names = [line.split()[0] for line in r.out.splitlines()]
    assert names[:3] == ["claude", "codex", "shared"] and "gemini" in names and "claude-project" in names
    assert sync("nope").code == 2
    (dos_home / "config" / "sync.yaml").write_text("targets:\n  - {name: x, kind: vim, path: /tmp/x}\n")
    r = sync("status")
    assert r.code == 5 and "sync.yaml:2:" in r.err and "'kind' must be one of" in r.err
    (dos_home / "config" / "sync.yaml").write_text(
        "targets:\n  - claude\n  - name: mine\n    kind: folder\n    path: /tmp/x\n    skils: [a]\n")
    r = sync("status")  # the line of the misspelt key, not the line of `targets:`
    assert r.code == 5 and r.err == f"dos: {dos_home / 'config' / 'sync.yaml'}:6: target 2: unknown key 'skils'\n"


def test_no_config_names_a_preset(sync, dos_home, home):
    make_skill(dos_home / "data" / "skills", "solo")
    assert sync().code == 2
    r = sync("gemini", "codex")
    assert r.code == 0, r.err
    assert (home / ".gemini" / "skills" / "solo" / "SKILL.md").is_file()
    assert (home / ".codex" / "skills" / "solo" / "scripts" / "run.sh").is_file()
    # without sync.yaml, a preset is used only when named: never because its folder holds a manifest (issue 25)
    r = sync("status")
    assert r.code == 2 and "no targets in" in r.err and "dos sync claude" in r.err
    r = sync("status", "codex", "gemini")
    assert r.code == 0 and [line.split(":")[0] for line in r.out.splitlines()] == ["codex", "gemini"]


def test_git_target_commits(sync, dos_home, tmp_path):
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    make_skill(dos_home / "data" / "skills", "solo")
    (dos_home / "config").mkdir(parents=True)
    repo = tmp_path / "repo"
    (dos_home / "config" / "sync.yaml").write_text(
        f"targets:\n  - {{name: repo, kind: git, path: {repo}, packs: user}}\n")
    r = sync()
    assert r.code == 0, r.err
    log = subprocess.run(["git", "-C", str(repo), "log", "--name-only", "--format=%s"], capture_output=True, text=True)
    assert "dos sync:" in log.stdout and "solo/SKILL.md" in log.stdout and ".dos-sync.json" in log.stdout


def test_sync_commands_import_no_model_library(dos_home, tmp_path, monkeypatch):
    from tests.architecture.test_architecture import HEAVY, modules_loaded_by

    monkeypatch.setenv("HOME", str(tmp_path / "userhome"))
    for args in (["sync", "targets"], ["sync", "gemini"], ["sync", "status", "gemini"]):
        loaded = modules_loaded_by(args, dos_home, tmp_path)
        assert "dos" in loaded and not loaded & set(HEAVY), args


def test_a_file_deleted_in_a_target_is_drift_and_pull_deletes_it_in_the_source(sync, setup):
    assert sync("shared").code == 0
    (setup["shared"] / "mine" / "references" / "notes.md").unlink()
    assert statuses(sync)["shared"]["mine"] == "drifted"
    r = sync("shared")
    assert "skip   mine/references/notes.md: deleted in the target" in r.out
    assert not (setup["shared"] / "mine" / "references" / "notes.md").exists()
    r = sync("pull", "shared", "mine", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["removed"] == ["references/notes.md"]
    assert not (setup["src"] / "references" / "notes.md").exists() and (setup["src"] / "SKILL.md").is_file()
    assert statuses(sync)["shared"]["mine"] == "in step"


def test_plugin_commands_are_named_once_and_only_for_targets_that_want_them(sync, dos, dos_home, tmp_path):
    from tests.support.skillfiles import write_plugin

    assert dos("packs", "install", str(write_plugin(tmp_path))).code == 0
    (dos_home / "config").mkdir(parents=True, exist_ok=True)
    (dos_home / "config" / "sync.yaml").write_text(
        f"targets:\n  - {{name: a, kind: folder, path: {tmp_path / 'a'}}}\n"
        f"  - {{name: b, kind: folder, path: {tmp_path / 'b'}}}\n"
        f"  - {{name: users, kind: folder, path: {tmp_path / 'c'}, packs: [user]}}\n")
    everything = sync("push")
    assert everything.code == 0, everything.err
    lines = [ln for ln in everything.err.splitlines() if "Claude Code command" in ln]
    assert lines == ["dos: 3 Claude Code commands from pack:cc-plugin (fix-typos, say-hi, undo) are not skill "
                     "folders: not synced"], everything.err
    only_user = sync("push", "users")
    assert only_user.code == 0 and "Claude Code command" not in only_user.err
