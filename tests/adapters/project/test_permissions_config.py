"""Where permission rules come from (dos.adapters.project.permissions): the user's settings.json, then
./.claude/settings(.local).json, then ./.dos/settings(.local).json, all in Claude Code's shape; a project file
grants only once trusted, but its deny and ask rules always hold."""

from __future__ import annotations

import json
from pathlib import Path

from dos.adapters.hooks.hook_config import HookConfig
from dos.adapters.project.permissions import PermissionConfig
from dos.core.permissions import ALLOW, ASK, DENY


class Trust:
    """A stand-in for ProjectTrust: the project files it names are trusted."""

    def __init__(self, *trusted: Path):
        self.trusted = set(trusted)

    def allows(self, folder: Path, path: Path) -> bool:
        return path in self.trusted


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) if not isinstance(data, str) else data)
    return path


def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    config, project, home = tmp_path / "config", tmp_path / "project", tmp_path / "home"
    for folder in (config, project, home):
        folder.mkdir()
    return config, project, home


def test_nothing_declared_is_the_default_mode_and_no_rule(tmp_path):
    config, project, home = setup(tmp_path)
    perms, problems = PermissionConfig(config, project, home=home).load()
    assert (perms.allow, perms.ask, perms.deny, perms.mode, problems) == ((), (), (), "default", [])
    assert perms.home == str(home)


def test_every_file_adds_rules_and_the_last_mode_wins(tmp_path):
    config, project, home = setup(tmp_path)
    write(config / "settings.json", {"permissions": {"deny": ["Read(~/.ssh/**)"], "defaultMode": "acceptEdits"}})
    claude = write(project / ".claude" / "settings.json", {"permissions": {"allow": ["Bash(npm test *)"]},
                                                           "hooks": {}})
    local = write(project / ".claude" / "settings.local.json", {"permissions": {"ask": ["Bash(git push *)"]}})
    dos = write(project / ".dos" / "settings.json", {"permissions": {"allow": ["Edit(/src/**)"],
                                                                     "defaultMode": "plan"}})
    perms, problems = PermissionConfig(config, project, Trust(claude, local, dos), home=home).load()
    assert problems == []
    assert [(str(r), Path(r.origin).name) for r in perms.allow] == [("Bash(npm test *)", "settings.json"),
                                                                    ("Edit(/src/**)", "settings.json")]
    assert perms.mode == "plan" and str(perms.ask[0]) == "Bash(git push *)" and str(perms.deny[0]) == "Read(~/.ssh/**)"
    plan_free = perms.with_mode("default")
    assert plan_free.decide("Bash", {"command": "npm test --ci"}, str(project)).behavior == ALLOW
    assert plan_free.decide("Edit", {"file_path": str(project / "src" / "a.py")}, str(project)).behavior == ALLOW
    assert plan_free.decide("Edit", {"file_path": str(project / "lib" / "src" / "a.py")}, str(project)).behavior == ASK
    assert plan_free.decide("Read", {"file_path": str(home / ".ssh" / "id_rsa")}, str(project)).behavior == DENY


def test_an_untrusted_project_file_only_narrows(tmp_path):
    config, project, home = setup(tmp_path)
    claude = write(project / ".claude" / "settings.json", {"permissions": {
        "allow": ["Bash", "Read"], "deny": ["Bash(rm *)"], "ask": ["WebFetch"], "defaultMode": "bypassPermissions",
        "additionalDirectories": ["/"]}})
    write(project / ".dos" / "settings.json", {"permissions": {"defaultMode": "dontAsk"}})
    perms, problems = PermissionConfig(config, project, Trust(), home=home).load()
    assert perms.allow == () and perms.directories == () and perms.mode == "dontAsk"
    assert [str(r) for r in perms.deny] == ["Bash(rm *)"] and [str(r) for r in perms.ask] == ["WebFetch"]
    assert problems == [f"{claude}: not trusted, so its 2 allow rule(s), additionalDirectories, defaultMode "
                        "bypassPermissions are not used (`dos trust` in the project, or DOS_TRUST_PROJECT=1 for one run)"]
    trusted, _ = PermissionConfig(config, project, Trust(claude), home=home).load()
    assert len(trusted.allow) == 2 and trusted.directories == ("/",)


def test_problems_name_file_and_line_and_the_rest_still_applies(tmp_path):
    config, project, home = setup(tmp_path)
    user = write(config / "settings.json", '{\n  "permissions": {\n    "allow": [\n      "Bash(ls *)",\n'
                                           '      "Bash(npm:* x)"\n    ],\n    "defaultMode": "yolo"\n  }\n}\n')
    broken = write(project / ".dos" / "settings.local.json", "{not json")
    perms, problems = PermissionConfig(config, project, home=home).load()
    assert [str(r) for r in perms.allow] == ["Bash(ls *)"] and perms.allow[0].line == 4
    assert problems[0] == f"{user}:5: permission rule 'Bash(npm:* x)': ':*' may only end a Bash rule; use '*' " \
                          "elsewhere; skipped"
    assert problems[1].startswith(f"{user}:7: unknown permission mode 'yolo'")
    assert problems[2].startswith(f"{broken}:1") and problems[2].endswith("; its permissions are skipped")


def test_slash_rules_start_from_the_project_and_the_users_from_the_working_folder(tmp_path):
    config, project, home = setup(tmp_path)
    write(config / "settings.json", {"permissions": {"deny": ["Read(/notes/**)"]}})
    claude = write(project / ".claude" / "settings.json", {"permissions": {"deny": ["Edit(/build/**)"]}})
    perms, _ = PermissionConfig(config, project, Trust(claude), home=home).load()
    sub = project / "pkg"
    assert perms.decide("Write", {"file_path": str(project / "build" / "x")}, str(sub)).behavior == DENY
    assert perms.decide("Write", {"file_path": str(sub / "build" / "x")}, str(sub)).behavior == ASK
    assert perms.decide("Read", {"file_path": str(sub / "notes" / "a.md")}, str(sub)).behavior == DENY


def test_the_hooks_config_still_reads_claude_settings_the_same_way(tmp_path):
    config, project, _ = setup(tmp_path)
    write(project / ".claude" / "settings.json", "[1, 2]")
    write(project / ".claude" / "settings.local.json", "{oops")
    specs, problems = HookConfig(config, project).load()
    assert specs == [] and len(problems) == 1 and problems[0].endswith("; its hooks are skipped")
    perms, problems = PermissionConfig(config, project).load()
    assert perms.allow == () and len(problems) == 1 and problems[0].endswith("; its permissions are skipped")
