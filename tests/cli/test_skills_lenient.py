"""Lenient loading through the CLI: `dos skills list` shows skills that bend the spec as usable while
`dos skills validate` still reports them, what cannot be read stays unusable, and `dos run` runs the template skill
with one warning line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.adapters.skills.test_skills_lenient import write_bent
from tests.support.fake_provider import FakeProvider
from tests.support.models_yaml import fake_models_yaml, write_models_yaml


def test_list_shows_them_usable_and_validate_still_reports_them(dos, dos_home):
    api, template = write_bent(dos_home / "data" / "skills")
    listed = {s["name"]: s for s in json.loads(dos("skills", "list", "--json").out)}
    assert listed["template"]["error"] is None and listed["claude-api"]["error"] is None
    assert "must equal the folder name" in listed["template"]["warnings"][0]
    for folder, problem in ((template, "must equal the folder name 'template'"), (api, "1068 characters")):
        r = dos("skills", "validate", str(folder))
        assert r.code == 5 and problem in r.out and "(warning)" not in r.out, r
    r = dos("skills", "validate", "--json")
    rows = {Path(row["path"]).parent.name: row for row in json.loads(r.out)}
    assert r.code == 5 and not rows["template"]["valid"] and not rows["claude-api"]["valid"]
    assert rows["template"]["warnings"] == []  # the bend is an error here, not counted twice


def test_unreadable_skills_stay_unusable(dos, dos_home):
    root = dos_home / "data" / "skills"
    for name, text in (("no-front", "Just text.\n"), ("bad-yaml", "---\nname: bad-yaml\ndescription: [x\n---\nhi\n")):
        (root / name).mkdir(parents=True)
        (root / name / "SKILL.md").write_text(text)
    listed = {s["name"]: s for s in json.loads(dos("skills", "list", "--json").out)}
    assert listed["no-front"]["error"] and listed["bad-yaml"]["error"]
    r = dos("run", "no-front", "hi")
    assert r.code == 5 and "SKILL.md:1:" in r.err


def test_dos_run_runs_the_template_skill_with_one_warning_line(dos, dos_home):
    write_bent(dos_home / "data" / "skills")
    with FakeProvider() as server:
        write_models_yaml(dos_home, fake_models_yaml(server.url))
        r = dos("run", "template", "--model", "cloud-eu", "hello")
    assert r.code == 0 and r.out.strip() == "fake answer", r.err
    warning = [line for line in r.err.splitlines() if "template-skill" in line]
    assert len(warning) == 1 and warning[0].startswith("dos: warning: ") and "loaded as 'template'" in warning[0]
    assert "Reply with OK." in json.dumps(server.bodies[0]["messages"])
