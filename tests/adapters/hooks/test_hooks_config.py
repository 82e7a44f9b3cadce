"""Where hooks come from: hooks.yaml (user, project), packs, and Claude Code's settings.json as it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dos.adapters.files.paths import builtin_dir
from dos.adapters.hooks.hook_config import HookConfig, builtin_catalog
from dos.core.errors import InvalidConfig
from dos.core.turn.hooks import EVENTS, build_event, matcher_hits, matches, select
from dos.core.skills.rules import Pack
from tests.support.hookfiles import settings


def config(tmp_path: Path, packs=None) -> HookConfig:
    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "project").mkdir(exist_ok=True)
    return HookConfig(tmp_path / "config", tmp_path / "project", packs, builtin_dir("hooks"))


def test_nothing_configured_means_no_hooks(tmp_path):
    assert config(tmp_path).load() == ([], [])


def test_claude_settings_json_is_accepted_as_it_is(tmp_path):
    c = config(tmp_path)
    (tmp_path / "project" / ".claude").mkdir()
    (tmp_path / "project" / ".claude" / "settings.json").write_text(json.dumps({
        "permissions": {"allow": ["Bash(ls)"]},
        "hooks": {
            "PreToolUse": [{"matcher": "Edit|Write", "hooks": [
                {"type": "command", "command": "\"$CLAUDE_PROJECT_DIR\"/.claude/hooks/check.sh", "timeout": 30}]}],
            "UserPromptSubmit": [{"hooks": [{"type": "command", "command": "echo hi"}]}],
            "Notification": [{"hooks": [{"type": "command", "command": "notify-send hi"}]}],
            "Stop": [{"hooks": [{"type": "prompt", "prompt": "Is the work done?"}]}],
        },
    }))
    specs, problems = c.load()
    assert [(s.event, s.matcher, s.timeout) for s in specs] == [("PreToolUse", "Edit|Write", 30.0),
                                                                 ("UserPromptSubmit", "", 10.0)]
    assert specs[0].origin.endswith(".claude/settings.json")
    assert len(problems) == 1 and "unsupported hook type 'prompt'" in problems[0]  # Notification: silently never fires


def test_dos_hooks_yaml_user_then_project_then_packs_then_claude(tmp_path):
    (tmp_path / "config" ).mkdir()
    (tmp_path / "config" / "hooks.yaml").write_text("""
hooks:
  UserPromptSubmit:
    - hooks:
        - {type: command, command: user-hook, timeout: 3}
""")
    project = tmp_path / "project"
    (project / ".dos").mkdir(parents=True)
    (project / ".dos" / "hooks.yaml").write_text("""
hooks:
  UserPromptSubmit:
    - skill: "^summarize$"
      hooks:
        - {type: python, function: "myhooks.py:add", options: {label: x}}
""")
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.json").write_text(settings(
        {"UserPromptSubmit": [{"hooks": [{"type": "command", "command": "claude-hook"}]}]}))
    pack_dir = tmp_path / "mypack"
    pack_dir.mkdir()
    pack = Pack("mypack", "1", "d", str(pack_dir), hooks={"UserPromptSubmit": [
        {"hooks": [{"type": "command", "command": "$DOS_PACK_ROOT/hook.sh"}]}]})
    plugin = Pack("plug", "1", "d", str(pack_dir), kind="claude-plugin", hooks={"hooks": {"UserPromptSubmit": [
        {"hooks": [{"type": "command", "command": "${CLAUDE_PLUGIN_ROOT}/p.sh"}]}]}})
    specs, problems = config(tmp_path, [pack, plugin]).load()
    assert problems == []
    assert [s.target for s in specs] == ["user-hook", f"{project / '.dos'}/myhooks.py:add", "$DOS_PACK_ROOT/hook.sh",
                                         "${CLAUDE_PLUGIN_ROOT}/p.sh", "claude-hook"]
    assert specs[1].kind == "python" and specs[1].skill == "^summarize$" and dict(specs[1].options) == {"label": "x"}
    assert specs[2].pack == "^mypack$"  # a DOS pack's hooks fire for its own skills
    assert specs[3].pack == ""  # a Claude Code plugin's hooks fire everywhere, as in Claude Code
    assert dict(specs[2].env)["CLAUDE_PLUGIN_ROOT"] == str(pack_dir)


def test_pack_hooks_from_a_file(tmp_path):
    pack_dir = tmp_path / "p"
    pack_dir.mkdir()
    (pack_dir / "hooks.yaml").write_text("Stop:\n  - hooks:\n      - {type: command, command: bell}\n")
    specs, problems = config(tmp_path, [Pack("p", "1", "d", str(pack_dir), hooks=("hooks.yaml",))]).load()
    assert [(s.event, s.target) for s in specs] == [("Stop", "bell")] and not problems


@pytest.mark.parametrize("text", ["hooks: [unclosed", "- just\n- a list\n"])
def test_a_broken_dos_hooks_yaml_is_an_error_naming_the_file(tmp_path, text):
    c = config(tmp_path)
    (tmp_path / "config" / "hooks.yaml").write_text(text)
    with pytest.raises(InvalidConfig) as err:
        c.load()
    assert "hooks.yaml:" in err.value.message


def test_bad_entries_are_skipped_with_a_problem_line(tmp_path):
    c = config(tmp_path)
    (tmp_path / "config" / "hooks.yaml").write_text("""
hooks:
  UserPromptsubmit:
    - hooks: [{command: a}]
  Stop:
    - matcher: "(["
      hooks: [{command: b}]
    - hooks: [{type: command}, {command: c, timeout: -1}, {command: d}]
""")
    specs, problems = c.load()
    assert [s.target for s in specs] == ["d"]
    text = "\n".join(problems)
    assert "did you mean UserPromptSubmit" in text and "bad regex" in text and "non-empty 'command'" in text
    assert "timeout" in text


def test_broken_claude_settings_is_skipped_not_fatal(tmp_path):
    c = config(tmp_path)
    (tmp_path / "project" / ".claude").mkdir()
    (tmp_path / "project" / ".claude" / "settings.json").write_text("{not json")
    specs, problems = c.load()
    assert specs == [] and "broken JSON" in problems[0]


def test_builtin_hooks_are_enabled_by_name(tmp_path):
    c = config(tmp_path)
    (tmp_path / "config" / "hooks.yaml").write_text("builtin:\n  - redact-secrets\n  - notify: {after_s: 5}\n  - nope\n")
    specs, problems = c.load()
    assert [s.name for s in specs] == ["builtin:redact-secrets", "builtin:notify"]
    assert dict(specs[1].options)["after_s"] == 5
    assert "no built-in hook 'nope'" in problems[0]
    assert set(builtin_catalog(builtin_dir("hooks"))) >= {"redact-secrets", "context", "notify"}


def test_claude_matcher_rules():
    assert matcher_hits("", "Bash") and matcher_hits("*", "x")
    assert matcher_hits("Edit|Write", "Write") and not matcher_hits("Edit|Write", "WriteFile")
    assert matcher_hits("Notebook.*", "NotebookEdit") and matcher_hits("mcp__.*__write", "mcp__fs__write")
    assert not matcher_hits("Bash", None)


def test_matchers_select_by_tool_skill_and_pack():
    from dos.core.turn.hooks import HookSpec

    pre = build_event("PreToolUse", session_id="s", cwd="/", tool_name="Bash", skill="review-diff", pack="dev")
    specs = [HookSpec("PreToolUse", "command", "a", "t", matcher="Bash"),
             HookSpec("PreToolUse", "command", "b", "t", matcher="Write"),
             HookSpec("PreToolUse", "command", "c", "t", skill="^review"),
             HookSpec("PreToolUse", "command", "d", "t", pack="^writing$"),
             HookSpec("PreToolUse", "command", "a", "t", matcher="Bash"),  # identical: runs once
             HookSpec("PostToolUse", "command", "e", "t")]
    assert [s.target for s in select(specs, pre)] == ["a", "c"]
    prompt = build_event("UserPromptSubmit", session_id="s", cwd="/", prompt="x", skill="summarize")
    assert matches(HookSpec("UserPromptSubmit", "command", "x", "t", matcher="Bash"), prompt)  # no matcher field


def test_python_hooks_from_the_dos_hooks_entry_point_group(tmp_path, monkeypatch):
    from dos.adapters.hooks.command_hooks import HookProcessRunner

    (tmp_path / "acme_hooks.py").write_text(
        "def ticket(event):\n    return {'hookSpecificOutput': {'additionalContext': 'ticket ACME-1'}}\n")
    dist = tmp_path / "acme_hooks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-hooks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[dos.hooks]\nUserPromptSubmit.ticket = acme_hooks:ticket\n"
                                           "NotAnEvent = acme_hooks:ticket\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    c = config(tmp_path)
    (tmp_path / "config" / "hooks.yaml").write_text(
        "entry_points: true\nhooks:\n  Stop:\n    - hooks: [{type: python, entry_point: UserPromptSubmit.ticket}]\n")
    specs, problems = c.load()
    assert [(s.event, s.target) for s in specs] == [("UserPromptSubmit", "entry-point:UserPromptSubmit.ticket"),
                                                    ("Stop", "entry-point:UserPromptSubmit.ticket")]
    assert any("NotAnEvent" in p for p in problems)
    payload = build_event("UserPromptSubmit", session_id="s", cwd="/", prompt="x")
    outcome = HookProcessRunner(lambda: (specs, [])).run(specs[:1], payload)[0]
    assert outcome.output == {"hookSpecificOutput": {"additionalContext": "ticket ACME-1"}}


def test_each_problem_names_the_line_of_the_offending_event_group_hook_or_key(tmp_path):
    c = config(tmp_path)
    user = tmp_path / "config" / "hooks.yaml"
    user.write_text("""builtin:
  - context
  - nope
hooks:
  UserPromptSubmit:
    - hooks:
        - {type: command, command: fine}
  userpromptsubmit:
    - hooks:
        - {command: a}
  Stop:
    - matcher: "(["
      hooks: [{command: b}]
    - hooks:
        - {type: command}
        - command: c
          timeout: -1
        - {type: python, function: no-colon}
  PreToolUse: not-a-list
""")
    specs, problems = c.load()
    assert [s.target for s in specs if s.kind == "command"] == ["fine"]
    assert problems == [
        f"{user}:3: no built-in hook 'nope' (built-in: context, notify, redact-secrets)",
        f"{user}:8: unknown hook event 'userpromptsubmit'; did you mean UserPromptSubmit?",
        f"{user}:12: Stop: bad regex '([': unterminated character set at position 1; group skipped",
        f"{user}:15: Stop: a command hook needs a non-empty 'command'",
        f"{user}:17: Stop: 'timeout' must be a positive number of seconds, not '-1'",
        f"{user}:18: Stop: a python hook needs 'function: module:function' or 'entry_point: NAME'",
        f"{user}:19: PreToolUse must be a list of matcher groups",
    ]


def test_problems_in_claude_settings_json_and_pack_files_name_their_line(tmp_path):
    c_dir = tmp_path / "project" / ".claude"
    c_dir.mkdir(parents=True)
    claude = c_dir / "settings.json"
    claude.write_text('{\n  "hooks": {\n    "PreToolUse": [\n      {"matcher": "Bash",\n'
                      '       "hooks": [{"type": "command", "command": "x", "timeout": "soon"}]}\n    ],\n'
                      '    "Sotp": []\n  }\n}\n')
    inline = tmp_path / "inline"
    inline.mkdir()
    (inline / "pack.yaml").write_text("name: inline\nversion: 1\ndescription: d\nhooks:\n  Stop:\n"
                                      "    - hooks:\n        - {type: command, command: ok}\n  Stpo: []\n")
    files = tmp_path / "files"
    files.mkdir()
    (files / "hooks.json").write_text('{"hooks": {\n  "Stop": [\n    {"hooks": [\n      {"type": "command"}\n'
                                      '    ]}\n  ]\n}}\n')
    packs = [Pack("inline", "1", "d", str(inline), hooks={"Stop": [{"hooks": [{"type": "command", "command": "ok"}]}],
                                                          "Stpo": []}),
             Pack("files", "1", "d", str(files), hooks=("hooks.json",))]
    specs, problems = config(tmp_path, packs).load()
    assert [s.target for s in specs] == ["ok"]
    assert problems == [
        f"{inline}/pack.yaml:8: unknown hook event 'Stpo' (events: {', '.join(EVENTS)})",
        f"{files}/hooks.json:4: Stop: a command hook needs a non-empty 'command'",
        f"{claude}:5: PreToolUse: 'timeout' must be a positive number of seconds, not 'soon'",
        f"{claude}:7: unknown hook event 'Sotp' (events: {', '.join(EVENTS)})",
    ]


def test_broken_json_names_line_and_column(tmp_path):
    c = config(tmp_path)
    (tmp_path / "project" / ".claude").mkdir()
    settings_file = tmp_path / "project" / ".claude" / "settings.json"
    settings_file.write_text('{\n  "hooks": {\n    "Stop": [,]\n  }\n}\n')
    assert c.load() == ([], [f"{settings_file}:3:14: broken JSON: Expecting value; its hooks are skipped"])
