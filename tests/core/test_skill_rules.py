"""The Agent Skills spec as the core applies it: name rules, frontmatter bends that warn and breaks that refuse,
manifest paths that cannot escape, and which settings can send a skill's turns off the machine."""

from __future__ import annotations

from dos.core.skills.rules import check_frontmatter, inside, name_problems, off_machine


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


def test_which_settings_can_send_a_skills_turns_off_the_machine():
    local = {"local/smollm2", "ollama/llama3"}.__contains__
    assert off_machine({"model": "ollama/llama3", "temperature": 0.2}, local) == []
    assert off_machine({"model": "gpt-4o", "route": {"model": "gpt-4o"}}, local) == ["pins model gpt-4o"]
    assert off_machine({"route": {"min_context": 100000, "capabilities": ["vision"], "prefer": "cheapest"}}, local) == \
        ["prefers cheapest", "requires capabilities vision", "requires min_context 100000"]
    assert off_machine({"route": {"sovereignty": "eu,us"}}, local) == ["allows sovereignty eu, us only"]
    assert off_machine({"route": {"sovereignty": "local, eu", "prefer": "best"}}, local) == ["prefers best"]
    assert off_machine({"model": "gpt-4o", "route": {"sovereignty": ["local"], "prefer": "best"}}, local) == []
    assert off_machine("not a mapping", local) == off_machine(None, local) == []
