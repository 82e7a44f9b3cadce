"""Claude Code plugin folders (`.claude-plugin/plugin.json`) read as packs, with no edits to the plugin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dos.adapters.yaml_text import read_text
from dos.core.errors import InvalidSkill
from dos.core.skill_rules import Pack, name_problems, path_list

MANIFEST = Path(".claude-plugin") / "plugin.json"
MAX_JSON_BYTES = 256_000


def is_plugin(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


def read_json(path: Path) -> Any:
    try:
        return json.loads(read_text(path, MAX_JSON_BYTES))
    except json.JSONDecodeError as exc:
        raise InvalidSkill(f"{path}:{exc.lineno}: broken JSON: {exc.msg}") from None
    except RecursionError:
        raise InvalidSkill(f"{path}:1: JSON is nested too deeply") from None


def _component(folder: Path, value: Any, key: str, default: str) -> Any:
    """hooks or mcpServers: an inline object, a path to a JSON file, or the default file if present."""
    if isinstance(value, dict):
        return value
    paths, problems = path_list(value, key, (default,))
    if problems:
        raise InvalidSkill(f"{folder / MANIFEST}:1: {problems[0]}")
    merged: dict[str, Any] = {}
    for rel in paths:
        if (folder / rel).is_file():
            data = read_json(folder / rel)
            if isinstance(data, dict):
                merged |= data
    return merged or None


def read_plugin(folder: Path, builtin: bool = False) -> tuple[Pack, list[str]]:
    """The pack a plugin folder stands for, and warnings. Custom component paths add to the default
    folders (skills/, commands/), as in Claude Code."""
    manifest_path = folder / MANIFEST
    manifest = read_json(manifest_path)
    if not isinstance(manifest, dict):
        raise InvalidSkill(f"{manifest_path}:1: must be a JSON object")
    name = manifest.get("name")
    if problems := name_problems(name):
        raise InvalidSkill(f"{manifest_path}:1: {problems[0]}")
    dirs: dict[str, tuple[str, ...]] = {}
    for key in ("skills", "commands"):
        extra, problems = path_list(manifest.get(key), key, ())
        if problems:
            raise InvalidSkill(f"{manifest_path}:1: {problems[0]}")
        dirs[key] = tuple(dict.fromkeys((key, *(p for p in extra if not p.endswith(".md")))))
    warnings = []
    if any(isinstance(v, str) and v.endswith(".md") for v in _as_list(manifest.get("commands"))):
        warnings.append(f"{manifest_path}:1: single command files in 'commands' are not loaded; use a folder")
    if manifest.get("agents"):
        warnings.append(f"{manifest_path}:1: agents are not supported by DOS and are skipped")
    pack = Pack(
        name=str(name),
        version=str(manifest.get("version") or "0"),
        description=str(manifest.get("description") or f"Claude Code plugin {name}"),
        path=str(folder),
        kind="claude-plugin",
        builtin=builtin,
        skill_dirs=dirs["skills"],
        command_dirs=dirs["commands"],
        hooks=_component(folder, manifest.get("hooks"), "hooks", "hooks/hooks.json"),
        mcp=_component(folder, manifest.get("mcpServers"), "mcpServers", ".mcp.json"),
    )
    return pack, warnings


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
