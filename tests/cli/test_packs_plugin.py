"""A Claude Code plugin folder installs and loads as a pack with no edits; its commands become skills."""

from __future__ import annotations

import json

import pytest

from tests.support.skillfiles import write_plugin


def test_plugin_installs_and_lists(dos, dos_home, tmp_path):
    plugin = write_plugin(tmp_path)
    before = sorted(p.relative_to(plugin) for p in plugin.rglob("*"))
    r = dos("packs", "install", str(plugin))
    assert r.code == 0 and "installed cc-plugin 0.3.0" in r.out, r.err
    assert sorted(p.relative_to(plugin) for p in plugin.rglob("*")) == before

    rows = {s["name"]: s for s in json.loads(dos("skills", "list", "--json").out)}
    assert rows["code-tour"]["source"] == "pack:cc-plugin"
    assert rows["fix-typos"]["description"] == "Fix typos in the given text"
    assert rows["say-hi"]["description"] == "Say hi to the user's message."

    shown = json.loads(dos("packs", "show", "cc-plugin", "--json").out)
    assert shown["kind"] == "claude-plugin"
    assert set(shown["skills"]) == {"code-tour", "fix-typos", "say-hi", "undo"}
    assert "PreToolUse" in shown["hooks"]["hooks"] and "files" in shown["mcp"]["mcpServers"]

    cmd = json.loads(dos("skills", "show", "cc-plugin:fix-typos", "--json").out)
    assert "$ARGUMENTS" not in cmd["instructions"] and "the user's message" in cmd["instructions"]
    assert dos("skills", "validate", str(plugin)).code == 0


def test_plugin_custom_paths_add_to_defaults_and_cannot_escape(dos, tmp_path):
    plugin = write_plugin(tmp_path)
    manifest = plugin / ".claude-plugin" / "plugin.json"
    data = json.loads(manifest.read_text())
    (plugin / "more").mkdir()
    (plugin / "more" / "extra.md").write_text("Be extra.\n")
    manifest.write_text(json.dumps(data | {"commands": ["./more/"]}))
    assert dos("packs", "install", str(plugin)).code == 0
    names = {s["name"] for s in json.loads(dos("skills", "list", "--json").out)}
    assert {"extra", "fix-typos"} <= names
    manifest.write_text(json.dumps(data | {"skills": "../../elsewhere"}))
    r = dos("packs", "install", str(plugin), "--force")
    assert r.code == 5 and "escapes the pack folder" in r.err


@pytest.mark.model
def test_plugin_command_runs(dos, tmp_path):
    assert dos("packs", "install", str(write_plugin(tmp_path))).code == 0
    r = dos("run", "fix-typos", "--temperature", "0", "--max-tokens", "4", "--no-log", input="helo wrold")
    assert r.code == 0 and r.out.strip(), r.err


def test_plugin_manifest_and_hook_problems_name_their_file_and_line(dos, dos_home, tmp_path):
    plugin = write_plugin(tmp_path)
    manifest = plugin / ".claude-plugin" / "plugin.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(data | {"skills": "../../elsewhere"}, indent=2))
    r = dos("packs", "install", str(plugin))
    line = next(n for n, text in enumerate(manifest.read_text().splitlines(), 1) if '"skills"' in text)
    assert r.code == 5 and r.err.startswith(f"dos: {manifest}:{line}: 'skills' path '../../elsewhere' escapes"), r.err
    manifest.write_text(json.dumps(data, indent=2))
    hooks = plugin / "hooks" / "hooks.json"
    hooks.write_text('{\n  "hooks": {\n    "Stop": [{"hooks": [{"type": "command", "command": "true"}]}],\n'
                     '    "PreToolUse": [\n      {"matcher": "Bash", "hooks": [{"type": "command", "timeout": 0}]}\n'
                     '    ]\n  }\n}\n')
    assert dos("packs", "install", str(plugin)).code == 0
    r = dos("hooks", "list")
    assert r.code == 0
    installed = dos_home / "data" / "packs" / "cc-plugin" / "hooks" / "hooks.json"  # a copy, same lines
    assert f"warning: {installed}:5: PreToolUse: 'timeout' must be a positive number of seconds, not '0'" in r.err
