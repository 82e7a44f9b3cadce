"""Helpers that write real skill, pack and plugin folders for the skills and packs tests."""

from __future__ import annotations

import json
from pathlib import Path


def write_skill(root: Path, name: str, description: str = "Does a thing. Use when testing.",
                body: str = "Reply with OK.\n", extra: str = "", folder: str | None = None) -> Path:
    skill = root / (folder or name)
    skill.mkdir(parents=True, exist_ok=True)
    (skill / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {description}\n{extra}---\n{body}", "utf-8")
    return skill


def write_pack(root: Path, name: str, skills: tuple[str, ...] = ("alpha",), extra: str = "") -> Path:
    pack = root / name
    pack.mkdir(parents=True)
    (pack / "pack.yaml").write_text(
        f"name: {name}\nversion: 1.0.0\ndescription: The {name} pack.\nskills: skills\n{extra}", "utf-8")
    for skill in skills:
        write_skill(pack / "skills", skill, f"The {skill} skill of {name}.")
    return pack


def write_plugin(root: Path, name: str = "cc-plugin") -> Path:
    """A Claude Code plugin laid out as the docs describe: manifest, skills, commands, hooks, .mcp.json."""
    plugin = root / name
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / ".claude-plugin" / "plugin.json").write_text(json.dumps(
        {"name": name, "version": "0.3.0", "description": "A Claude Code plugin.", "author": {"name": "A. Dev"}}))
    write_skill(plugin / "skills", "code-tour", "Give a short tour of a codebase.", extra="allowed-tools: Read Grep\n")
    (plugin / "commands").mkdir()
    (plugin / "commands" / "fix-typos.md").write_text(
        "---\ndescription: Fix typos in the given text\nargument-hint: [text]\nallowed-tools: Read\n---\n"
        "Fix the typos in $ARGUMENTS. Reply with the fixed text only.\n")
    (plugin / "commands" / "Say-Hi.md").write_text("Say hi to $ARGUMENTS.\n")
    (plugin / "commands" / "git").mkdir()
    (plugin / "commands" / "git" / "undo.md").write_text("---\ndescription: Explain how to undo the last commit\n---\nHelp.\n")
    (plugin / "hooks").mkdir()
    (plugin / "hooks" / "hooks.json").write_text(json.dumps({"hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [
        {"type": "command", "command": "${CLAUDE_PLUGIN_ROOT}/scripts/check.sh"}]}]}}))
    (plugin / ".mcp.json").write_text(json.dumps({"mcpServers": {"files": {"command": "npx", "args": ["srv"]}}}))
    return plugin
