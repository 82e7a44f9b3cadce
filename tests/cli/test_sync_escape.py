"""`dos sync` refuses a hostile target through the CLI (issue 25): one line and exit 13, a relative target
symlinked out of the project, `pull` with a path for a skill name, a manifest that tries to select a preset. The
attacks are staged by the `world` fixture of tests/adapters/sync/test_sync_escape.py."""

from __future__ import annotations

import pytest

from dos.bootstrap import build
from tests.adapters.sync.test_sync_escape import (  # world: the fixture, found by pytest under this name
    SKILL, hostile, refused, sha, survive, victims, world,
)


def test_the_cli_says_one_line_and_exits_13(dos, world):
    outside = victims(world["parent"])
    hostile(world["target"], {"../precious0.txt": sha(b"do not delete 0\n")})
    r = dos("sync", "--force", env={"HOME": str(world["tmp"] / "userhome")}, cwd=world["project"])
    assert r.code == 13, (r.out, r.err)
    lines = r.err.splitlines()
    assert len(lines) == 2 and lines[0].startswith("dos: t: cannot sync: ") and "../precious0.txt" in lines[0]
    assert "Traceback" not in r.err
    survive(outside)


def test_a_relative_target_symlinked_out_of_the_project(dos, world):
    """A cloned repository's .claude -> the user's home: `dos sync claude-project` must not write there."""
    home = world["tmp"] / "victimhome"
    outside = victims(home / "skills" / "notes")
    (world["project"] / ".claude").symlink_to(home, target_is_directory=True)
    hostile(home / "skills", {"notes/precious0.txt": sha(b"do not delete 0\n")})
    [report] = build().sync.sync(["claude-project"], force=True)
    refused(report, "outside")
    survive(outside)
    assert not (home / "skills" / "mine").exists()


@pytest.mark.parametrize("name", ["..", ".", "a/b", "../data", "/etc", ".hidden", "a\\b", ""])
def test_pull_refuses_a_skill_name_that_is_a_path(dos, world, name):
    """`dos sync pull claude-project ..` deleted memory.db (the user skills folder's parent)."""
    data = world["home"] / "data"
    db = data / "memory.db"
    db.write_bytes(b"the user's memory")
    claude = world["project"] / ".claude"
    (claude / "skills").mkdir(parents=True)
    (claude / "SKILL.md").write_text(SKILL.format(name="x"))  # so `..` looks like a skill folder
    hostile(claude / "skills", {"../memory.db": sha(db.read_bytes()), "../skills/mine/SKILL.md": "0" * 64})
    before = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    r = dos("sync", "pull", "claude-project", name, env={"HOME": str(world["tmp"] / "userhome")},
            cwd=world["project"])
    assert r.code == 2, (r.out, r.err)
    assert len(r.err.splitlines()) == 1 and "Traceback" not in r.err
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == before


def test_a_manifest_never_selects_a_preset(dos, world, tmp_path):
    """No sync.yaml: a cloned repository's ./.claude/skills/.dos-sync.json made `dos sync` pick claude-project."""
    (world["home"] / "config" / "sync.yaml").unlink()
    repo = world["project"]
    outside = victims(repo / ".claude" / "skills" / "notes")
    hostile(repo / ".claude" / "skills", {"notes/precious0.txt": sha(b"do not delete 0\n")})
    userhome = tmp_path / "userhome"
    hostile(userhome / ".claude" / "skills", {})  # a user-wide preset synced before is not picked either
    for args in (["--force"], ["status"], []):
        r = dos("sync", *args, env={"HOME": str(userhome)}, cwd=repo)
        assert r.code == 2, (args, r.out, r.err)
        assert len(r.err.splitlines()) == 1 and "sync.yaml" in r.err
    survive(outside)
    assert not (repo / ".claude" / "skills" / "mine").exists()
    assert not (userhome / ".claude" / "skills" / "mine").exists()
    # named on the command line, a preset is used
    r = dos("sync", "claude", env={"HOME": str(userhome)}, cwd=repo)
    assert r.code == 0, r.err
    assert (userhome / ".claude" / "skills" / "mine" / "SKILL.md").is_file()
