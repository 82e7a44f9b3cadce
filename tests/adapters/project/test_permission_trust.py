"""Where "always, for this folder" keeps its rules (./.dos/settings.local.json, trust kept for a file that was trusted)
and how `dos trust` covers project files that only grant permissions."""

from __future__ import annotations

import json

from dos.adapters.project.permissions import PermissionConfig
from dos.adapters.project.trust import ProjectTrust, declaring



def test_always_keeps_the_rules_and_a_trusted_file_stays_trusted(tmp_path):
    config, project = tmp_path / "config", tmp_path / "project"
    project.mkdir()
    trust = ProjectTrust(config)
    source = PermissionConfig(config, project, trust)
    assert source.saves_to() == "./.dos/settings.local.json"
    assert source.remember(["Bash(pytest *)"]) == "saved Bash(pytest *) to ./.dos/settings.local.json"
    assert source.remember(["Bash(pytest *)", "Read(./docs/**)"]).startswith("saved")
    local = project / ".dos" / "settings.local.json"
    assert json.loads(local.read_text()) == {"permissions": {"allow": ["Bash(pytest *)", "Read(./docs/**)"]}}
    permissions, problems = source.load()
    assert problems == [] and len(permissions.allow) == 2

    # a file planted untrusted stays untrusted: the rule is written, its allow rules unused until `dos trust`
    planted = tmp_path / "cloned"
    (planted / ".dos").mkdir(parents=True)
    (planted / ".dos" / "settings.local.json").write_text('{"permissions": {"allow": ["Bash"], "deny": ["Read"]}}')
    source = PermissionConfig(config, planted, trust)
    assert "not trusted" in source.remember(["Bash(pytest *)"])
    permissions, problems = source.load()
    assert permissions.allow == () and [str(r) for r in permissions.deny] == ["Read"] and "not trusted" in problems[0]


def test_dos_trust_covers_files_that_only_grant_permissions(tmp_path):
    config, project = tmp_path / "config", tmp_path / "project"
    (project / ".dos").mkdir(parents=True)
    (project / ".claude").mkdir()
    (project / ".dos" / "settings.json").write_text('{"permissions": {"allow": ["Bash(make *)"]}}')
    (project / ".claude" / "settings.json").write_text('{"permissions": {"deny": ["Read(./.env)"]}}')
    (project / ".claude" / "settings.local.json").write_text('{"permissions": {"defaultMode": "acceptEdits"}}')
    found = {d.rel: d.what for d in declaring(project)}
    assert found == {".dos/settings.json": "permissions", ".claude/settings.local.json": "permissions"}  # deny: none
    trust = ProjectTrust(config)
    assert trust.notice(project) is None  # said by the permissions config, in a turn with tools
    reviewed = trust.review(project)
    assert [lines for _, lines, _ in reviewed] == [["defaultMode acceptEdits"], ["allow Bash(make *)"]]
    before, _ = PermissionConfig(config, project, trust).load()
    trust.trust(project, [d for d, _, _ in reviewed])
    after, problems = PermissionConfig(config, project, trust).load()
    assert (before.allow, before.mode) == ((), "default")
    assert [str(r) for r in after.allow] == ["Bash(make *)"] and after.mode == "acceptEdits" and problems == []
