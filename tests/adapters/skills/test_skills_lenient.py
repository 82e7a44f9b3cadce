"""Lenient loading, as Claude Code loads skills (issue 20, Build 4): a skill that bends the spec but can be
understood (an over-long description like Anthropic's `claude-api`, a `name` other than its folder's like the
`template` skill's `template-skill`) loads and runs under its folder name with one warning on stderr;
`dos skills validate` still reports it. Only what cannot be read (no frontmatter, broken YAML) is unusable.
(Through `dos skills list|validate` and `dos run`: tests/cli/test_skills_lenient.py.)"""

from __future__ import annotations

from pathlib import Path

from dos.adapters.skills.fs_skills import FolderSkills
from dos.core.skills.rules import check_frontmatter, first_paragraph, run_name
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
