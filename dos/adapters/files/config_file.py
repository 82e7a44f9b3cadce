"""config.yaml: a flat, commented YAML file of settings. Problems name the file and line; a bad change is
never written over a good file (the new text is validated whole, then swapped in atomically)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from dos.adapters.files.yaml_text import bad_value_line
from dos.core.config import SETTINGS, check, defaults
from dos.core.errors import InvalidConfig

MAX_BYTES = 256_000


def template() -> str:
    """A fresh config.yaml: every setting at its default, each with its meaning above it."""
    lines = ["# DOS settings. `dos config set KEY VALUE` changes one; `dos config show` lists them.", ""]
    for s in SETTINGS:
        shown = ", ".join(c or "''" for c in s.choices)  # an empty choice shows as ''
        choices = f" One of: {shown}." if s.choices else ""
        lines += [f"# {s.help}{choices}", f"{s.key}: {_scalar(s.default)}", ""]
    return "\n".join(lines)


def _scalar(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("\n...").strip()


def problems(text: str, path: Path) -> tuple[dict[str, Any], list[str]]:
    """The settings in `text` (defaults filled in) and every problem, as 'file:line: message'."""
    values = defaults()
    if len(text.encode()) > MAX_BYTES:
        return values, [f"{path}:1: larger than {MAX_BYTES} bytes"]
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return values, [f"{path}:{mark.line + 1 if mark else 1}: not valid YAML: {getattr(exc, 'problem', exc)}"]
    if node is None:
        return values, []
    if not isinstance(node, yaml.MappingNode):
        return values, [f"{path}:{node.start_mark.line + 1}: must be a mapping of settings"]
    found: list[str] = []
    first_seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if first_seen.setdefault(str(key_node.value), line) != line:
            found.append(f"{path}:{line}: '{key_node.value}' is set twice (first on line {first_seen[str(key_node.value)]})")
            continue
        try:
            key = yaml.safe_load(yaml.serialize(key_node))
            value = yaml.safe_load(yaml.serialize(value_node))
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:  # e.g. 2025-13-45: no such month
            found.append(f"{path}:{bad_value_line(value_node)}: unusable value for '{key_node.value}': {exc}")
            continue
        reason = check(str(key), value)
        if reason:
            found.append(f"{path}:{line}: {reason}")
        else:
            values[str(key)] = value
    return values, found


class ConfigFile:
    def __init__(self, path: Path):
        self.path = path

    def text(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):  # no file yet (or no folder: storage reports that)
            return ""
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidConfig(f"{self.path}: cannot read ({exc})") from None

    def check(self, text: str | None = None) -> tuple[dict[str, Any], list[str]]:
        """The settings and every problem of the file (or of `text` as the file's new content)."""
        return problems(self.text() if text is None else text, self.path)

    def text_or_template(self) -> str:
        return self.text() or template()

    def load(self) -> dict[str, Any]:
        """The settings; InvalidConfig with the first problem if the file has any."""
        values, found = self.check()
        if found:
            more = f" (and {len(found) - 1} more: dos config show)" if len(found) > 1 else ""
            raise InvalidConfig(found[0] + more)
        return values

    def set(self, key: str, value: Any) -> None:
        reason = check(key, value)
        if reason:
            raise InvalidConfig(f"{self.path}: {reason}")
        text = self.text_or_template()
        line = f"{key}: {_scalar(value)}"
        pattern = re.compile(rf"^{re.escape(key)}\s*:.*$", re.MULTILINE)
        text = pattern.sub(lambda _: line, text, count=1) if pattern.search(text) else text.rstrip("\n") + f"\n{line}\n"
        self.replace(text)

    def replace(self, text: str) -> None:
        """Write `text` as the new file only if it is wholly valid; the old file stays otherwise."""
        _, found = self.check(text)
        if found:
            raise InvalidConfig(found[0])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".config-", suffix=".yaml")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, self.path)
