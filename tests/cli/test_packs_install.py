"""Packs: install validates before writing, enable/disable/remove, broken packs are skipped, paths stay inside."""

from __future__ import annotations

import json
import subprocess

from tests.support.skillfiles import write_pack, write_skill


def packs(dos) -> dict[str, dict]:
    r = dos("packs", "list", "--json")
    assert r.code == 0, r.err
    return {p["name"]: p for p in json.loads(r.out)}


def skill_sources(dos) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in json.loads(dos("skills", "list", "--json").out):
        out.setdefault(s["name"], []).append(s["source"])
    return out


def test_install_enable_disable_remove(dos, dos_home, tmp_path):
    src = write_pack(tmp_path / "src", "research", ("cite", "summarize"), "routing:\n  model: local/smollm2\n"
                     "budget:\n  day: 1\n")
    r = dos("packs", "install", str(src))
    assert r.code == 0 and "installed research 1.0.0" in r.out, r.err
    assert (dos_home / "data" / "packs" / "research" / "pack.yaml").is_file()
    assert packs(dos)["research"]["state"] == "enabled"
    assert skill_sources(dos)["cite"] == ["pack:research"]
    assert skill_sources(dos)["summarize"] == ["pack:research", "builtin:writing"]
    shown = json.loads(dos("skills", "show", "research:cite", "--json").out)
    assert shown["settings"]["budget"] == {"day": 1} and shown["settings"]["model"] == "local/smollm2"

    assert dos("packs", "install", str(src)).code == 2
    assert dos("packs", "install", str(src), "--force").code == 0

    assert dos("packs", "disable", "research").code == 0
    assert packs(dos)["research"]["state"] == "disabled"
    assert "cite" not in skill_sources(dos)
    assert json.loads((dos_home / "config" / "packs.json").read_text()) == {"disabled": ["research"]}
    assert dos("packs", "enable", "research").code == 0
    assert "cite" in skill_sources(dos)

    assert dos("packs", "remove", "research").code == 0
    assert "research" not in packs(dos)
    assert dos("packs", "remove", "research").code == 2
    assert dos("packs", "remove", "writing").code == 2  # built-in: disable instead


def test_disable_builtin_pack(dos):
    assert dos("packs", "disable", "memory").code == 0
    assert "recall" not in skill_sources(dos)
    assert dos("run", "recall", "x").code == 3


def test_invalid_pack_is_not_installed(dos, dos_home, tmp_path):
    src = write_pack(tmp_path / "src", "shaky", ("fine",))
    (src / "skills" / "oops").mkdir()  # a skill that cannot be read (a bad name alone would load: test_skills_lenient)
    (src / "skills" / "oops" / "SKILL.md").write_text("---\nname: [oops\n---\nbody\n")
    r = dos("packs", "install", str(src))
    assert r.code == 5 and "not installed" in r.err and "SKILL.md:3: broken YAML" in r.err
    assert not (dos_home / "data" / "packs" / "shaky").exists()


def test_manifest_path_escape_is_refused(dos, dos_home, tmp_path):
    outside = tmp_path / "outside"
    write_skill(outside, "leak")
    for skills_path in ("../outside", str(outside), "skills/../../outside"):
        src = tmp_path / f"esc{abs(hash(skills_path))}"
        src.mkdir()
        (src / "pack.yaml").write_text(f"name: esc\nversion: '1'\ndescription: d\nskills: {skills_path!r}\n")
        r = dos("packs", "install", str(src))
        assert r.code == 5 and "escapes the pack folder" in r.err, (skills_path, r.err)
    link = write_pack(tmp_path / "src", "linky", ())
    (link / "skills").mkdir(exist_ok=True)
    (link / "skills" / "leak").symlink_to(outside / "leak")
    r = dos("packs", "install", str(link))
    assert r.code == 5 and "symlink points outside" in r.err


def test_broken_installed_pack_is_reported_and_skipped(dos, dos_home):
    broken = dos_home / "data" / "packs" / "broken"
    broken.mkdir(parents=True)
    (broken / "pack.yaml").write_text("name: [unterminated\n")
    r = dos("skills", "list")
    assert r.code == 0 and "summarize" in r.out
    assert "dos: warning: pack 'broken' skipped:" in r.err and "pack.yaml:" in r.err
    assert packs(dos)["broken"]["state"] == "broken"
    assert dos("skills", "validate").code == 5


def test_install_from_git(dos, dos_home, tmp_path):
    src = write_pack(tmp_path / "repo", "gitpack", ("from-git",))
    git = ["git", "-C", str(src), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(src)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "pack"], check=True)
    r = dos("packs", "install", f"git+file://{src}")
    assert r.code == 0, r.err
    assert not (dos_home / "data" / "packs" / "gitpack" / ".git").exists()
    assert "from-git" in skill_sources(dos)
    assert dos("packs", "install", "https://invalid.invalid/none.git").code == 2


def test_new_pack_validates_and_installs(dos, tmp_path):
    r = dos("packs", "new", "notes", "--dir", str(tmp_path))
    assert r.code == 0, r.err
    assert dos("skills", "validate", str(tmp_path / "notes")).code == 0
    assert dos("packs", "install", str(tmp_path / "notes")).code == 0
    assert "notes-hello" in skill_sources(dos)


def test_generation_settings_in_a_pack_routing_block_do_not_break_its_route(dos, tmp_path):
    """temperature and max_tokens under `routing:` become the skills' settings; the route keeps only its keys."""
    pack = tmp_path / "research"
    skill = pack / "skills" / "research-hello"
    skill.mkdir(parents=True)
    (pack / "pack.yaml").write_text("name: research\nversion: 0.1.0\ndescription: Research helpers.\nskills: skills\n"
                                    "routing:\n  temperature: 0.1\n  max_tokens: 50\n  prefer: cheapest\n")
    (skill / "SKILL.md").write_text("---\nname: research-hello\ndescription: Say hello.\n---\nSay hello.\n")
    assert dos("packs", "install", str(pack)).code == 0
    explained = dos("route", "explain", "research-hello", "--json")
    assert explained.code == 0, explained.err
    assert json.loads(explained.out)["request"]["prefer"] == "cheapest"
    shown = json.loads(dos("skills", "show", "research-hello", "--json").out)
    assert shown["settings"]["temperature"] == 0.1 and shown["settings"]["max_tokens"] == 50
