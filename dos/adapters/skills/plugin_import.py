"""Claude Code plugin folders (`.claude-plugin/plugin.json`) read as packs, with no edits to the plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dos.adapters.files.json_text import parse_json
from dos.adapters.files.yaml_text import line_at, read_text
from dos.core.errors import InvalidSkill
from dos.core.printable import printable
from dos.core.skills.rules import Pack, name_problems, path_list

MANIFEST = Path(".claude-plugin") / "plugin.json"
MAX_JSON_BYTES = 256_000


def is_plugin(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


def read_json(path: Path) -> Any:
    return read_json_lines(path)[0]


def read_json_lines(path: Path) -> tuple[Any, dict[str, int]]:
    """A plugin's JSON file and the line of each key (dotted paths); InvalidSkill naming file and line."""
    return parse_json(read_text(path, MAX_JSON_BYTES), str(path))


def component_files(folder: Path, value: Any, key: str, default: str) -> list[tuple[Path, str]]:
    """Where a plugin's hooks or mcpServers are declared: (file, key path of the block in it) — plugin.json
    itself for an inline object, else each JSON file named (or the default file). `value` is the manifest's."""
    if isinstance(value, dict):
        return [(folder / MANIFEST, key)]
    paths, _ = path_list(value, key, (default,))
    return [(folder / rel, "") for rel in paths if (folder / rel).is_file()]


def _component(folder: Path, value: Any, key: str, default: str, lines: dict[str, int]) -> Any:
    """hooks or mcpServers: an inline object, a path to a JSON file, or the default file if present."""
    if isinstance(value, dict):
        return value
    paths, problems = path_list(value, key, (default,))
    if problems:
        raise InvalidSkill(f"{folder / MANIFEST}:{line_at(lines, key)}: {problems[0]}")
    merged: dict[str, Any] = {}
    for file, _ in component_files(folder, value, key, default):
        data = read_json(file)
        if isinstance(data, dict):
            merged |= data
    return merged or None


def read_plugin(folder: Path, builtin: bool = False) -> tuple[Pack, list[str]]:
    """The pack a plugin folder stands for, and warnings. Custom component paths add to the default
    folders (skills/, commands/), as in Claude Code."""
    manifest_path = folder / MANIFEST
    manifest, lines = read_json_lines(manifest_path)
    if not isinstance(manifest, dict):
        raise InvalidSkill(f"{manifest_path}:1: must be a JSON object")
    name = manifest.get("name")
    if problems := name_problems(name):
        raise InvalidSkill(f"{manifest_path}:{line_at(lines, 'name')}: {problems[0]}")
    dirs: dict[str, tuple[str, ...]] = {}
    for key in ("skills", "commands"):
        extra, problems = path_list(manifest.get(key), key, ())
        if problems:
            raise InvalidSkill(f"{manifest_path}:{line_at(lines, key)}: {problems[0]}")
        dirs[key] = tuple(dict.fromkeys((key, *(p for p in extra if not p.endswith(".md")))))
    warnings = []
    if any(isinstance(v, str) and v.endswith(".md") for v in _as_list(manifest.get("commands"))):
        warnings.append(f"{manifest_path}:{line_at(lines, 'commands')}: single command files in 'commands' are not "
                        "loaded; use a folder")
    if manifest.get("agents"):
        warnings.append(f"{manifest_path}:{line_at(lines, 'agents')}: agents are not supported by DOS and are skipped")
    pack = Pack(
        name=str(name),
        version=printable(str(manifest.get("version") or "0")),
        description=printable(" ".join(str(manifest.get("description") or f"Claude Code plugin {name}").split())),
        path=str(folder),
        kind="claude-plugin",
        builtin=builtin,
        skill_dirs=dirs["skills"],
        command_dirs=dirs["commands"],
        hooks=_component(folder, manifest.get("hooks"), "hooks", "hooks/hooks.json", lines),
        mcp=_component(folder, manifest.get("mcpServers"), "mcpServers", ".mcp.json", lines),
    )
    return pack, warnings


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
