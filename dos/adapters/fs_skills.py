"""Skills from folders of SKILL.md files (Anthropic's Agent Skills format)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from dos.core.domain import Skill, SkillInfo
from dos.core.errors import InvalidSkill, UnknownSkill

MAX_SKILL_BYTES = 1_000_000
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_skill_file(path: Path) -> tuple[dict[str, Any], str]:
    """Frontmatter (a mapping) and body of a SKILL.md; InvalidSkill names the file and line."""
    try:
        size = path.stat().st_size
        if size > MAX_SKILL_BYTES:
            raise InvalidSkill(f"{path}: too large ({size} bytes; the limit is {MAX_SKILL_BYTES})")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSkill(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InvalidSkill(f"{path}: cannot read ({exc.strerror})") from None
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise InvalidSkill(f"{path}:1: SKILL.md must start with '---' and YAML frontmatter")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise InvalidSkill(f"{path}:1: frontmatter is not closed by a '---' line")
    try:
        meta = yaml.load("".join(lines[1:end]), Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidSkill(f"{path}:{line}: broken YAML frontmatter: {problem}") from None
    if not isinstance(meta, dict):
        raise InvalidSkill(f"{path}:2: frontmatter must be a mapping of keys to values")
    for key in ("name", "description"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise InvalidSkill(f"{path}:2: frontmatter needs a non-empty '{key}'")
    return meta, "".join(lines[end + 1 :])


class FolderSkills:
    """Skills from an ordered list of (source label, folder); earlier folders win a name clash."""

    def __init__(self, roots: list[tuple[str, Path]]):
        self.roots = roots

    def _files(self) -> Iterator[tuple[str, Path]]:
        for source, root in self.roots:
            try:
                entries = sorted(root.iterdir())
            except OSError:
                continue
            for folder in entries:
                skill_md = folder / "SKILL.md"
                if skill_md.is_file():
                    yield source, skill_md

    def list(self) -> list[SkillInfo]:
        infos: list[SkillInfo] = []
        winner: dict[str, str] = {}
        for source, path in self._files():
            try:
                meta, _ = parse_skill_file(path)
                name, description, error = str(meta["name"]), str(meta["description"]).strip(), None
            except InvalidSkill as exc:
                name, description, error = path.parent.name, "", exc.message
            shadowed_by = winner.get(name)
            winner.setdefault(name, str(path))
            infos.append(SkillInfo(name, description, str(path), source, error, shadowed_by))
        return infos

    def get(self, name: str) -> Skill:
        names = []
        for source, path in self._files():
            folder_name = path.parent.name
            if folder_name != name:
                names.append(folder_name)
                continue
            meta, body = parse_skill_file(path)
            metadata = meta.get("metadata") if isinstance(meta.get("metadata"), dict) else {}
            return Skill(str(meta["name"]), str(meta["description"]).strip(), body, str(path), source, metadata)
        raise UnknownSkill(name, difflib.get_close_matches(name, sorted(set(names)), n=3, cutoff=0.5))
