"""Where skills come from: project, user, enabled packs, built-ins; the first wins and the rest are shadowed."""

from __future__ import annotations

import json
import os
import time

import pytest

from tests.support.skillfiles import write_pack, write_skill


def listing(dos, **kw) -> list[dict]:
    r = dos("skills", "list", "--json", **kw)
    assert r.code == 0, r.err
    return json.loads(r.out)


def test_builtin_packs_hold_the_day_one_skills(dos):
    names = {s["name"]: s["source"] for s in listing(dos)}
    for name in ("summarize", "rewrite", "translate", "proofread"):
        assert names[name] == "builtin:writing"
    for name in ("explain", "commit-message", "review-diff"):
        assert names[name] == "builtin:dev"
    assert names["recall"] == names["reflect"] == "builtin:memory"


def test_precedence_and_shadowing(dos, dos_home, tmp_path):
    project = tmp_path / "proj"
    write_skill(project / ".dos" / "skills", "summarize", "Project summarize.")
    write_skill(dos_home / "data" / "skills", "summarize", "User summarize.")
    write_skill(dos_home / "data" / "skills", "mine", "Only mine.")
    write_pack(dos_home / "data" / "packs", "extra", ("mine", "summarize"))
    trusted = {"DOS_TRUST_PROJECT": "1"}  # a project skill that shadows another is used once trusted (test_skill_trust)
    rows = [s for s in listing(dos, cwd=project, env=trusted) if s["name"] in ("summarize", "mine")]
    assert [(s["name"], s["source"], s["shadowed_by"] is None) for s in rows] == [
        ("summarize", "project", True),
        ("mine", "user", True),
        ("summarize", "user", False),
        ("mine", "pack:extra", False),
        ("summarize", "pack:extra", False),
        ("summarize", "builtin:writing", False),
    ]
    text = dos("skills", "list", cwd=project, env=trusted).out
    assert "summarize\tuser\tUser summarize. (shadowed by " in text
    assert dos("skills", "path", "summarize", cwd=project, env=trusted).out.strip() == \
        str(project / ".dos" / "skills" / "summarize")
    assert dos("skills", "path", "extra:summarize", cwd=project).out.strip().endswith("extra/skills/summarize")
    assert dos("skills", "path", "writing:summarize", cwd=project).out.strip().endswith("writing/skills/summarize")


def test_show_lists_resources_without_pasting_them(dos, dos_home):
    skill = write_skill(dos_home / "data" / "skills", "with-refs", extra="metadata:\n  dos:\n    max_tokens: 7\n")
    (skill / "references").mkdir()
    (skill / "references" / "guide.md").write_text("SECRET GUIDE CONTENT\n" * 100)
    (skill / "scripts").mkdir()
    (skill / "scripts" / "run.sh").write_text("echo hi\n")
    shown = json.loads(dos("skills", "show", "with-refs", "--json").out)
    assert shown["files"] == ["references/guide.md", "scripts/run.sh"]
    assert shown["settings"] == {"max_tokens": 7}
    assert "references/guide.md" in shown["instructions"] and "SECRET GUIDE" not in shown["instructions"]


def test_unknown_skill_suggests_near_names(dos):
    r = dos("skills", "show", "sumarize")
    assert r.code == 3 and "summarize" in r.err


def test_broken_skill_is_listed_not_fatal(dos, dos_home):
    bad = dos_home / "data" / "skills" / "bad"
    bad.mkdir(parents=True)
    (bad / "SKILL.md").write_text("no frontmatter here")
    rows = {s["name"]: s for s in listing(dos)}
    assert rows["bad"]["error"].endswith("must start with a '---' line and YAML frontmatter")
    r = dos("run", "bad", "hello")
    assert r.code == 5 and "SKILL.md:1:" in r.err


def test_index_cache_sees_edits(dos, dos_home):
    skill = write_skill(dos_home / "data" / "skills", "edited", "First text.")
    assert any(s["description"] == "First text." for s in listing(dos))
    assert (dos_home / "state" / "cache" / "skill-index.json").is_file()
    time.sleep(0.01)
    (skill / "SKILL.md").write_text("---\nname: edited\ndescription: Second text, longer.\n---\nbody\n")
    os.utime(skill / "SKILL.md", ns=(time.time_ns(), time.time_ns() + 10**9))
    assert any(s["description"] == "Second text, longer." for s in listing(dos))


def test_list_does_not_import_model_libraries(dos_home, monkeypatch):
    import subprocess
    import sys

    code = ("import sys; sys.argv=['dos','skills','list']\nfrom dos.cli.entry import main\ntry: main()\n"
            "except SystemExit: pass\nbad=[m for m in ('litellm','llama_cpp','mcp') if m in sys.modules]\n"
            "sys.stderr.write(repr(bad))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_")} | {"DOS_HOME": str(dos_home)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.stderr.strip().endswith("[]"), r.stderr


@pytest.mark.model
@pytest.mark.parametrize("name", ["summarize", "explain", "rewrite", "commit-message"])
def test_original_builtins_still_run(dos, name):
    r = dos("run", name, "--temperature", "0", "--max-tokens", "4", "--no-log", input="git is a version control tool")
    assert r.code == 0, r.err
    assert r.out.strip()
