"""fabric patterns (`<name>/system.md`) imported as Agent Skills, so a pattern library comes along."""

from __future__ import annotations

import json
from pathlib import Path

from dos.adapters.files.yaml_text import read_text
from dos.core.errors import InvalidSkill, StorageError, UsageError
from dos.core.skills.rules import DESCRIPTION_MAX, slug

INPUT = "{{input}}"


def describe(name: str, system: str) -> str:
    """A description from the pattern: its first sentence of prose after any heading, else its name."""
    for line in system.splitlines():
        text = line.strip().lstrip("#").strip()
        if len(text) > 20 and not text.isupper():
            return f"{text[:DESCRIPTION_MAX - 40]} (fabric pattern {name})"
    return f"The fabric pattern {name}."


def to_skill(name: str, system: str) -> str:
    """SKILL.md text for a pattern; `{{input}}` points at the user's message, which DOS sends separately."""
    body = system.replace(INPUT, "the user's message")
    description = json.dumps(describe(name, system))  # a JSON string is a valid YAML scalar
    return f"---\nname: {name}\ndescription: {description}\nmetadata:\n  source: fabric\n---\n{body}"


def import_patterns(patterns_dir: Path, into: Path, force: bool = False) -> tuple[list[str], list[str]]:
    """Import every `<pattern>/system.md` under `patterns_dir`: (imported names, skipped with reasons)."""
    if not patterns_dir.is_dir():
        raise UsageError(f"{patterns_dir}: no such folder")
    imported, skipped = [], []
    for system_md in sorted(patterns_dir.glob("*/system.md")):
        name = slug(system_md.parent.name)
        target = into / name / "SKILL.md"
        if target.exists() and not force:
            skipped.append(f"{name}: already exists at {target} (use --force)")
            continue
        try:
            text = to_skill(name, read_text(system_md))
        except InvalidSkill as exc:  # one bad pattern must not stop the rest
            skipped.append(f"{name}: {exc.message}")
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, "utf-8")
        except OSError as exc:
            raise StorageError(f"cannot write {target}: {exc.strerror or exc}") from None
        imported.append(name)
    if not imported and not skipped:
        raise UsageError(f"{patterns_dir}: no fabric patterns (<name>/system.md) found")
    return imported, skipped
