"""A Claude Code plugin folder installs and loads as a pack with no edits; its commands become skills."""

from __future__ import annotations

import json

import pytest

from skillfiles import write_plugin


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
