"""Lenient loading, as Claude Code loads skills (issue 20, Build 4): a skill that bends the spec but can be
understood (an over-long description like Anthropic's `claude-api`, a `name` other than its folder's like the
`template` skill's `template-skill`) loads and runs under its folder name with one warning on stderr;
`dos skills validate` still reports it. Only what cannot be read (no frontmatter, broken YAML) is unusable."""

from __future__ import annotations

import json
from pathlib import Path

from dos.adapters.skills.fs_skills import FolderSkills
from dos.core.skill_rules import check_frontmatter, first_paragraph, run_name
from tests.adapters.models.test_routing_router import fake_models_yaml, write_models_yaml
from tests.support.fake_provider import FakeProvider
from tests.support.skillfiles import write_skill

# Shaped like anthropics/skills `claude-api`: one long description of 1,068 characters (the spec's limit is 1,024)
LONG = ("Build apps with the Claude API or Anthropic SDK. TRIGGER when code imports the SDK, or the user asks to "
        "use the Claude API. " * 10)[:1067] + "."


def write_bent(root: Path) -> tuple[Path, Path]:
    """The two shapes: `claude-api` (description too long) and `template` (name: template-skill)."""
    api = write_skill(root, "claude-api", LONG, "Use the SDK.\n")
    template = write_skill(root, "template-skill", "Replace with description of the skill and when Claude should "
                                                   "use it.", "# Insert instructions below\n\nReply with OK.\n",
                           folder="template")
    return api, template


def test_the_rules_call_both_bends_errors_that_load():
    assert len(LONG) == 1068
    [long] = check_frontmatter({"name": "claude-api", "description": LONG}, "claude-api")
    assert long.is_error and long.loads and not long.unusable and "1068 characters" in long.message
    [other] = check_frontmatter({"name": "template-skill", "description": "d"}, "template")
    assert other.is_error and other.loads and "must equal the folder name 'template'" in other.message
    assert run_name({"name": "template-skill"}, "template") == "template"
    assert run_name({"name": "Shouty"}, "shouty") == "shouty" and run_name({}, "plain") == "plain"
    # a bad DOS setting is not a bend: DOS could not apply it
    [bad] = check_frontmatter({"name": "x", "description": "d", "metadata": {"dos": {"temperature": 9}}}, "x")
    assert bad.unusable
    # neither is a name the folder cannot stand in for
    assert all(p.unusable for p in check_frontmatter({"name": "a", "description": "d"}, "Not A Name!"))


def test_no_description_falls_back_to_the_first_paragraph(tmp_path):
    assert first_paragraph("# Title\n\nFirst line\nsecond line.\n\nMore.") == "First line second line."
    skill = tmp_path / "skills" / "bare"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: bare\n---\n# Bare\n\nSays hello to people.\n")
    got = FolderSkills([("user", tmp_path / "skills")]).get("bare")
    assert got.name == "bare" and got.description == "Says hello to people."


def test_both_load_under_their_folder_names_and_warn_once(tmp_path):
    write_bent(tmp_path / "skills")
    said: list[str] = []
    skills = FolderSkills([("user", tmp_path / "skills")], warn=said.append)
    rows = {e.name: e for e in skills.entries()}
    assert set(rows) == {"claude-api", "template"}
    for entry in rows.values():
        assert entry.errors == () and len(entry.bends) == 1 and entry.warnings[0] == entry.bends[0]
    template = skills.get("template")
    assert template.name == "template" and "Reply with OK." in template.body
    api = skills.get("claude-api")
    assert api.description == " ".join(LONG.split())
    skills.get("template")  # a second turn of the same skill says nothing more
    assert len(said) == 2 and all("\n" not in s for s in said)
    assert said[0].startswith("warning: ") and "'name' 'template-skill' must equal the folder name 'template'" in said[0]
    assert said[0].endswith(f"loaded as 'template' (dos skills validate {tmp_path / 'skills' / 'template'})")
    assert "'description' is 1068 characters; the limit is 1024; loaded as 'claude-api'" in said[1]


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


def test_a_pack_holding_them_installs_with_warnings(tmp_path):
    from dos.adapters.skills.packs import PackStore, validate_pack
    from tests.support.skillfiles import write_pack

    pack = write_pack(tmp_path / "src", "anthropic-like", ())
    write_bent(pack / "skills")
    _, errors, warnings, bends = validate_pack(pack)
    assert errors == [] and len(bends) == 2 and warnings == []
    store = PackStore(tmp_path / "packs", tmp_path / "builtin", tmp_path / "packs.json")
    installed, said = store.install(str(pack))
    assert installed.name == "anthropic-like" and said == bends
