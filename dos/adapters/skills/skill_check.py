"""`dos skills validate`: check skill files, skill folders and packs, collecting every problem."""

from __future__ import annotations

from pathlib import Path

from dos.adapters.skills.fs_skills import FolderSkills, Source, read_skill, skill_files
from dos.adapters.skills.packs import validate_pack
from dos.adapters.skills.plugin_import import is_plugin
from dos.core.errors import InvalidSkill, UsageError

Result = tuple[str, list[str], list[str]]  # (what was checked, errors, warnings)
# A skill that breaks the spec yet loads (an over-long description, a name other than its folder's) is reported
# with errors here, though it runs: other hosts may refuse it.


def check_file(path: Path, kind: str = "skill") -> Result:
    try:
        _, errors, warnings, bends = read_skill(path, kind)
        return str(path), bends + errors, warnings
    except InvalidSkill as exc:
        return str(path), [exc.message], []


def check_pack(folder: Path) -> Result:
    try:
        _, errors, warnings, bends = validate_pack(folder)
        return str(folder), bends + errors, warnings
    except InvalidSkill as exc:
        return str(folder), [exc.message], []


def check_paths(paths: list[Path], skills: FolderSkills) -> list[Result]:
    """Each path may be a SKILL.md, a skill folder, a pack, or a folder of skills; no paths: every source."""
    if not paths:
        out = [(str(e.path), list(e.bends + e.errors), [w for w in e.warnings if w not in e.bends])
               for e in skills.entries()]
        broken = [p for p in skills.packs.entries() if p.error] if skills.packs else []
        return out + [(str(p.folder), [str(p.error)], []) for p in broken]
    out = []
    for path in paths:
        if path.is_file():
            out.append(check_file(path, "command" if path.parent.name == "commands" else "skill"))
        elif (path / "SKILL.md").is_file():
            out.append(check_file(path / "SKILL.md"))
        elif (path / "pack.yaml").is_file() or is_plugin(path):
            out.append(check_pack(path))
        elif found := list(skill_files(Source("path", path))):
            out += [check_file(p) for p in found]
        else:
            raise UsageError(f"{path}: not a skill, a pack or a folder of skills")
    return out
