"""Sync planning (dos.core.skills.sync): pure decisions per file, status per skill, targets from sync.yaml data."""

from __future__ import annotations

import pytest

from dos.core.skills import sync as s


@pytest.mark.parametrize(
    ("src", "man", "tgt", "state", "action"),
    [
        ("a", "a", "a", s.IN_STEP, s.NONE),
        ("b", "a", "a", s.BEHIND, s.WRITE),
        ("a", "a", "x", s.DRIFTED, s.SKIP),
        ("a", "a", None, s.DRIFTED, s.SKIP),          # deleted in the target
        ("b", "a", "x", s.BOTH, s.SKIP),
        ("b", "a", "b", s.IN_STEP, s.NONE),           # converged: same edit on both sides
        ("a", None, None, s.NEW, s.WRITE),
        ("a", None, "a", s.IN_STEP, s.NONE),          # first sync onto an identical copy
        ("a", None, "x", s.UNTRACKED, s.SKIP),        # someone else's copy: never overwritten silently
        (None, "a", "a", s.DELETED, s.REMOVE),
        (None, "a", "x", s.KEPT, s.SKIP),             # deleted in the source, edited in the target
        (None, "a", None, s.IN_STEP, s.NONE),
        (None, None, "x", s.DRIFTED, s.SKIP),         # added in the target
    ],
)
def test_plan_file(src, man, tgt, state, action):
    p = s.plan_file("k/SKILL.md", src, man, tgt)
    assert (p.state, p.action) == (state, action)


@pytest.mark.parametrize(("src", "man", "tgt", "action"), [
    ("a", "a", "x", s.WRITE), ("b", "a", "x", s.WRITE), ("a", None, "x", s.WRITE),
    (None, "a", "x", s.REMOVE), (None, None, "x", s.REMOVE),
])
def test_force_turns_skips_into_writes_or_removes(src, man, tgt, action):
    assert s.plan_file("k/f", src, man, tgt, force=True).action == action


def test_plan_ignores_target_files_outside_managed_skills():
    plans = s.plan({"a/SKILL.md": "1"}, {"b/SKILL.md": "2"}, {"a/SKILL.md": "1", "b/SKILL.md": "2",
                                                               "b/extra.md": "3", "mine/SKILL.md": "4"})
    assert [(p.path, p.state) for p in plans] == [
        ("a/SKILL.md", s.IN_STEP), ("b/SKILL.md", s.DELETED), ("b/extra.md", s.DRIFTED)]


def test_skill_and_target_status():
    plans = s.plan({"a/SKILL.md": "2", "b/SKILL.md": "1", "c/SKILL.md": "1", "c/x": "2", "d/SKILL.md": "1"},
                   {"a/SKILL.md": "1", "b/SKILL.md": "1", "c/SKILL.md": "1", "c/x": "1", "d/SKILL.md": "1"},
                   {"a/SKILL.md": "1", "b/SKILL.md": "9", "c/SKILL.md": "9", "c/x": "1", "d/SKILL.md": "1"})
    statuses = s.skill_statuses(plans)
    assert statuses == {"a": s.BEHIND, "b": s.DRIFTED, "c": s.BOTH, "d": s.IN_STEP}
    assert s.combine(statuses.values()) == s.BOTH
    assert s.combine([s.IN_STEP, s.BEHIND]) == s.BEHIND
    assert s.combine([]) == s.IN_STEP


def test_next_manifest_records_only_what_happened():
    plans = s.plan({"a/f": "2", "b/f": "1"}, {"a/f": "1", "b/f": "1", "c/f": "1"},
                   {"a/f": "1", "b/f": "9", "c/f": "1"})
    assert s.next_manifest(plans) == {"a/f": "2", "b/f": "1"}
    assert s.next_manifest(plans, done=set()) == {"a/f": "1", "b/f": "1", "c/f": "1"}


def test_read_targets_presets_and_problems():
    data = {"targets": ["claude", {"preset": "codex", "packs": "writing"},
                        {"name": "shared", "kind": "git", "path": "~/skills-repo", "skills": ["sum*"], "exclude": "x"}]}
    targets, problems = s.read_targets(data, {"targets": 1}, "sync.yaml")
    assert problems == []
    assert [(t.name, t.kind, t.path) for t in targets] == [
        ("claude", "claude", "~/.claude/skills"), ("codex", "codex", "~/.codex/skills"),
        ("shared", "git", "~/skills-repo")]
    assert targets[1].wants("summarize", "writing") and not targets[1].wants("summarize", "user")
    assert targets[2].wants("summarize", "user") and not targets[2].wants("explain", "user")

    bad = {"targets": [{"name": "status", "kind": "folder", "path": "/x"}, {"name": "f", "kind": "folder"},
                       {"name": "k", "kind": "vim", "path": "/x"}, "nope"], "extra": 1}
    _, problems = s.read_targets(bad, {"targets": 2, "extra": 7}, "sync.yaml")
    assert any(p.startswith("sync.yaml:7: unknown key 'extra'") for p in problems)
    assert any("dos sync command" in p for p in problems)
    assert any("needs a 'path'" in p for p in problems)
    assert any("'kind' must be one of" in p for p in problems)
    assert any("unknown preset 'nope'" in p for p in problems)


def test_read_targets_names_the_line_of_the_offending_item_or_key():
    bad = {"targets": ["claude", {"name": "k", "kind": "vim", "path": "/x"}, {"name": "f", "kind": "folder"}, 7]}
    lines = {"targets": 1, "targets.0": 2, "targets.1": 3, "targets.1.name": 3, "targets.1.kind": 4,
             "targets.1.path": 5, "targets.2": 6, "targets.2.name": 6, "targets.2.kind": 7, "targets.3": 8}
    _, problems = s.read_targets(bad, lines, "sync.yaml")
    assert problems == ["sync.yaml:4: target 2 (k): 'kind' must be one of claude, codex, gemini, folder, git",
                        "sync.yaml:6: target 3 (f): needs a 'path' (kind folder has no default)",
                        "sync.yaml:8: target 4: must be a preset name or a mapping"]


def test_unified_diff():
    d = s.unified_diff("k/SKILL.md", b"one\ntwo\n", b"one\n2\n", "target", "source")
    assert "--- target/k/SKILL.md" in d and "-two" in d and "+2" in d
    assert "Binary files" in s.unified_diff("k/a.bin", b"\xff\x00", b"x", "t", "s")
    assert "+++ /dev/null" in s.unified_diff("k/f", b"x\n", None, "t", "s")


@pytest.mark.parametrize("path, problem", [
    ("mine/SKILL.md", None), ("mine/scripts/run.sh", None), ("my-skill/a b.md", None),
    ("../x", "outside"), ("mine/../../x", "outside"), ("./../x", "outside"), ("..", "outside"),
    ("/home/u/.bashrc", "outside"), ("\\\\server\\share", "outside"), ("C:/Users/x", "outside"),
    ("mine\\..\\..\\x", "outside"), ("mine\\x", "backslash"), ("mine/x\0", "NUL"),
    ("lonely", "not a"), ("", "not a"), ("mine//x", "not a"), ("mine/./x", "not a"), ("mine/", "not a"),
    (".git/config", "hidden"), ("./x", "not a"),
])
def test_path_problem_keeps_manifest_paths_inside_the_target(path, problem):
    found = s.path_problem(path)
    assert (found is None) if problem is None else (found is not None and problem in found), found


@pytest.mark.parametrize("name, ok", [("summarize", True), ("my-skill", True), ("..", False), (".", False),
                                      ("a/b", False), ("a\\b", False), ("/etc", False), (".hidden", False),
                                      ("", False), ("x\n", False), ("C:", False)])
def test_name_problem_refuses_names_that_are_paths(name, ok):
    assert (s.name_problem(name) is None) == ok
