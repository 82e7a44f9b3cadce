"""Fuzz `dos skills list|validate|show` with any frontmatter text: each exits 0, 3 or 5, never with a traceback."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from tests.adapters.skills.test_skills_fuzz import yamlish


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(yamlish)
def test_cli_never_crashes_on_a_skill_file(dos, dos_home, text):
    skill = dos_home / "data" / "skills" / "fuzzed"
    skill.mkdir(parents=True, exist_ok=True)
    (skill / "SKILL.md").write_text("---\n" + text + "\n---\nbody\n", "utf-8")
    for args in (("skills", "list"), ("skills", "validate"), ("skills", "show", "fuzzed")):
        r = dos(*args)
        assert r.code in (0, 3, 5), (args, r)
        assert "Traceback" not in r.err and "internal error" not in r.err
