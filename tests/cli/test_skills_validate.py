"""The Agent Skills spec as DOS applies it: errors refuse, real-world bends warn; every problem has file:line."""

from __future__ import annotations

import json

from tests.support.skillfiles import write_pack, write_skill


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


BAD_SETTINGS = """metadata:
  author: me
  dos:
    model: local/smollm2
    tools: [time]
    route:
      sovereignty: [local]
      colour: red
      max_price: cheap
    budget:
      weekly: 1
      day: lots
    temperature: 3
    shade: blue
"""


def test_problems_under_metadata_dos_name_the_line_of_the_offending_key(dos, tmp_path):
    skill = write_skill(tmp_path, "notes", extra=BAD_SETTINGS)
    path = skill / "SKILL.md"  # name: line 2, description: 3, metadata: 4, dos: 6 ... shade: 17
    r = dos("skills", "validate", str(skill))
    assert r.code == 5, r
    assert r.out.splitlines()[:-1] == [
        f"{path}:16: 'metadata.dos.temperature' must be a number from 0 to 2",
        f"{path}:11: unknown route key 'metadata.dos.route.colour' (known: capabilities, max_price, min_context, "
        "model, prefer, sovereignty, tags)",
        f"{path}:12: metadata.dos.route: 'max_price' must be a number (USD per million tokens), not 'cheap'",
        f"{path}:14: metadata.dos.budget: unknown budget period 'weekly' (use day, week, month, total)",
        f"{path}:15: metadata.dos.budget: budget day must be a number of credits (1 credit = 1 USD), not 'lots'",
        f"{path}:17: unknown setting 'metadata.dos.shade' (warning)",  # tools is a setting, not a warning
    ]


def test_running_a_skill_with_a_bad_route_key_names_its_line_exit_5(dos, tmp_path):
    write_skill(tmp_path / ".dos" / "skills", "notes", extra="metadata:\n  dos:\n    route:\n      prefer: fastest\n"
                                                                "      sovereinty: [local]\n")
    r = dos("run", "notes", "hi")
    path = tmp_path / ".dos" / "skills" / "notes" / "SKILL.md"
    assert r.code == 5 and r.err.startswith(f"dos: {path}:8: unknown route key 'metadata.dos.route.sovereinty'"), r.err
    assert r.err.count("\n") == 1


def test_a_bad_pack_routing_or_budget_names_its_line_in_pack_yaml(dos, tmp_path):
    pack = write_pack(tmp_path, "research", extra="routing:\n  model: local/smollm2\n  temperature: 4\n"
                                                  "  colour: red\nbudget:\n  day: 1\n  fortnight: 2\n")
    r = dos("skills", "validate", str(pack))
    assert r.code == 5
    manifest = pack / "pack.yaml"
    assert f"{manifest}:7: 'routing.temperature' must be a number from 0 to 2" in r.out + r.err
    r = dos("packs", "install", str(pack))
    assert r.code == 5 and r.err == f"dos: {manifest}:7: 'routing.temperature' must be a number from 0 to 2\n"
    (pack / "pack.yaml").write_text((pack / "pack.yaml").read_text().replace("temperature: 4", "temperature: 0.2"))
    r = dos("packs", "install", str(pack))
    assert r.code == 5 and r.err.startswith(f"dos: {manifest}:8: unknown route key 'routing.colour'")
    (pack / "pack.yaml").write_text((pack / "pack.yaml").read_text().replace("  colour: red\n", ""))
    r = dos("packs", "install", str(pack))
    assert r.code == 5 and r.err == (f"dos: {manifest}:10: budget: unknown budget period 'fortnight' "
                                     "(use day, week, month, total)\n")
