"""Safe, bounded YAML and Markdown frontmatter: plain data only, with the file line of every key and list item.

Lines are keyed by dotted path: `metadata` is a top-level key, `metadata.dos.temperature` a nested one, and
`hooks.Stop.0` the first item of a list. `line_at(lines, path)` gives the line of the nearest path that exists,
so a problem deep inside a value still points at the key that holds it."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dos.core.errors import InvalidSkill

MAX_FILE_BYTES = 1_000_000
MAX_YAML_BYTES = 64_000
MAX_NODES = 5_000


@dataclass(frozen=True)
class Document:
    """A parsed file: its mapping, the 1-based line of each key by dotted path, and the Markdown body."""

    data: dict[str, Any]
    lines: dict[str, int]
    body: str = ""
    body_line: int = 1


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """A UTF-8 text file of at most `limit` bytes, or InvalidSkill naming it."""
    try:
        with path.open("rb") as f:
            raw = f.read(limit + 1)
    except OSError as exc:
        raise InvalidSkill(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(raw) > limit:
        raise InvalidSkill(f"{path}: too large (the limit is {limit} bytes)")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidSkill(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def parse_yaml(text: str, where: str, first_line: int = 1) -> tuple[Any, dict[str, int]]:
    """Plain data from YAML text (safe loader: no objects, no aliases blown up); `first_line` is the
    file line of the text's first line, so errors and key lines point into the file."""
    import yaml

    if len(text.encode("utf-8", "replace")) > MAX_YAML_BYTES:
        raise InvalidSkill(f"{where}:{first_line}: YAML is too large (the limit is {MAX_YAML_BYTES} bytes)")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    node = None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        _check_size(node, where, first_line)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + (mark.line if mark is not None else 0)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidSkill(f"{where}:{line}: broken YAML: {problem}") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        line = bad_value_line(node, first_line) if node is not None else first_line
        raise InvalidSkill(f"{where}:{line}: unusable YAML value: {str(exc)[:120]}") from None
    finally:
        loader.dispose()
    try:
        clean = plain(data, where, first_line)
    except InvalidSkill:  # !!binary, !!set...: found again, with its line (only now: walking costs time)
        clean = plain(data, where, bad_value_line(node, first_line))
    return clean, key_lines(node, first_line)


def key_lines(node: Any, first_line: int = 1) -> dict[str, int]:
    """The file line of every mapping key and list item under `node`, by dotted path (`a.b.0.c`). A key given
    twice has the line of the last one, whose value the data holds. The node graph is already bounded by
    `_check_size`; a node reached again through an alias is not walked twice."""
    import yaml

    lines: dict[str, int] = {}
    stack: list[tuple[Any, str]] = [(node, "")]
    seen: set[int] = set()
    while stack:
        current, prefix = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            children = [(key.value, key, value) for key, value in current.value if isinstance(key, yaml.ScalarNode)]
        elif isinstance(current, yaml.SequenceNode):
            children = [(str(i), item, item) for i, item in enumerate(current.value)]
        else:
            continue
        for name, mark_node, _ in children:
            lines[f"{prefix}{name}"] = first_line + mark_node.start_mark.line  # a repeated key: the last, as in the data
        stack += [(value, f"{prefix}{name}.") for name, _, value in reversed(children)]
    return lines


def bad_value_line(node: Any, first_line: int = 1) -> int:
    """The line of the first value the safe loader cannot turn into plain data (`2025-13-45` is a timestamp
    with no such month; `!!binary` and `!!set` are not plain data), to name where an "unusable YAML value"
    is; `first_line` if none is found."""
    import yaml

    plain_tags = ("tag:yaml.org,2002:binary", "tag:yaml.org,2002:set", "tag:yaml.org,2002:omap",
                  "tag:yaml.org,2002:pairs")
    stack, seen = [node], 0
    while stack and seen <= MAX_NODES:
        current = stack.pop()
        seen += 1
        if current.tag in plain_tags:
            return first_line + current.start_mark.line
        if isinstance(current, yaml.ScalarNode):
            try:
                yaml.SafeLoader("").construct_object(current, deep=True)
            except (ValueError, TypeError, OverflowError, yaml.YAMLError):
                return first_line + current.start_mark.line
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(reversed(current.value))
        elif isinstance(current, yaml.MappingNode):
            stack.extend(n for pair in reversed(current.value) for n in reversed(pair))
    return first_line


def line_at(lines: Any, path: str, default: int = 1) -> int:
    """The line of `path` (dotted), or of its nearest parent that has one, or `default`."""
    while path:
        if path in lines:
            return lines[path]
        path = path.rpartition(".")[0]
    return default


def _check_size(node: Any, where: str, line: int) -> None:
    """Refuse documents whose node graph (aliases counted each time they are used) is huge or cyclic."""
    import yaml

    seen, stack = 0, [node]
    while stack:
        current = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise InvalidSkill(f"{where}:{line}: YAML is too complex (more than {MAX_NODES} values, or aliases that loop)")
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))


def plain(value: Any, where: str, line: int) -> Any:
    """JSON-safe data: string keys, dates as ISO text, no bytes or sets."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: plain(v, where, line) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, where, line) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise InvalidSkill(f"{where}:{line}: unsupported YAML value of type {type(value).__name__}")


def parse_frontmatter(text: str, where: str) -> Document:
    """A Markdown file that opens with `---`, YAML, `---`; InvalidSkill names the file and line."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise InvalidSkill(f"{where}:1: must start with a '---' line and YAML frontmatter")
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        raise InvalidSkill(f"{where}:1: frontmatter is not closed by a '---' line")
    data, keys = parse_yaml("".join(lines[1:end]), where, first_line=2)
    if not isinstance(data, dict):
        raise InvalidSkill(f"{where}:2: frontmatter must be a mapping of keys to values")
    return Document(data, keys, "".join(lines[end + 1 :]), end + 2)


def load_yaml_file(path: Path) -> Document:
    """A YAML file that must hold a mapping (pack.yaml)."""
    data, keys = parse_yaml(read_text(path, MAX_YAML_BYTES), str(path))
    if not isinstance(data, dict):
        raise InvalidSkill(f"{path}:1: must be a mapping of keys to values")
    return Document(data, keys)
