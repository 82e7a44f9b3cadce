"""The Agent Skills spec as DOS applies it: errors refuse, real-world bends warn; every problem has file:line."""

from __future__ import annotations

import json

from dos.core.skill_rules import check_frontmatter, inside, name_problems
from skillfiles import write_skill


def test_name_rules_follow_the_spec():
    for good in ("a", "pdf-processing", "x" * 64, "v2-tool"):
        assert name_problems(good) == [], good
    for bad in ("", "-pdf", "pdf-", "pdf--x", "PDF", "a_b", "a b", "x" * 65, 3, None):
        assert name_problems(bad), bad


def test_frontmatter_bends_warn_and_breaks_error():
    meta = {"name": "My-Skill", "description": "d", "version": "1"}
    problems = {(p.message.split()[0], p.severity) for p in check_frontmatter(meta, "my-skill", {"version": 4})}
    assert all(s == "warning" for _, s in problems), problems
    bad = check_frontmatter({"name": "other", "description": "", "compatibility": "x" * 501,
                             "metadata": {"dos": {"temperature": 5}}}, "mine")
    assert len([p for p in bad if p.is_error]) == 4


def test_manifest_paths_cannot_escape():
    assert inside("skills") and inside("./a/../b") and inside("a/b/")
    for bad in ("../x", "/etc", "a/../../b", "C:\\x", "..\\x", "", "\\\\server\\share"):
        assert not inside(bad), bad


def test_validate_prints_every_problem_with_file_and_line(dos, tmp_path):
    skill = tmp_path / "bad-one"
    skill.mkdir()
    (skill / "SKILL.md").write_text("---\nname: Bad--One\ndescription: ''\nlicense: MIT\ncolour: red\n---\nbody\n")
    r = dos("skills", "validate", str(skill))
    assert r.code == 5, r
    path = skill / "SKILL.md"
    assert f"{path}:2: 'name' must not contain a double hyphen" in r.out
    assert f"{path}:3: 'description' must be a non-empty string" in r.out
    assert f"{path}:5: unknown field 'colour'" in r.out and "(warning)" in r.out
    assert r.err.startswith("dos: 1 of 1 invalid") and "Traceback" not in r.err


def test_validate_broken_yaml_names_the_line(dos, tmp_path):
    skill = tmp_path / "broken"
    skill.mkdir()
    (skill / "SKILL.md").write_text("---\nname: broken\ndescription: ok\nmetadata: [unclosed\n---\nbody\n")
    r = dos("skills", "validate", str(skill / "SKILL.md"), "--json")
    assert r.code == 5
    [result] = json.loads(r.out)
    assert not result["valid"] and result["errors"][0].startswith(f"{skill / 'SKILL.md'}:")
    assert "broken YAML" in result["errors"][0]


def test_case_bend_loads_with_warning(dos, dos_home, tmp_path):
    write_skill(dos_home / "data" / "skills", "Shouty", folder="shouty", extra="author: me\n")
    listed = {s["name"]: s for s in json.loads(dos("skills", "list", "--json").out)}
    assert listed["shouty"]["error"] is None and len(listed["shouty"]["warnings"]) == 3
    r = dos("skills", "validate", str(dos_home / "data" / "skills"))
    assert r.code == 0 and "(warning)" in r.out


def test_builtin_skills_are_valid(dos):
    r = dos("skills", "validate")
    assert r.code == 0, r.out + r.err
    assert "0 errors, 0 warnings" in r.out


def test_new_creates_a_valid_skill(dos, dos_home):
    r = dos("skills", "new", "standup-notes")
    assert r.code == 0, r.err
    assert dos("skills", "validate", r.out.strip()).code == 0
    assert dos("skills", "new", "Bad_Name").code == 2
    assert dos("skills", "new", "standup-notes").code == 2
