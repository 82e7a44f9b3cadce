"""JSON files with the place of every key, so a problem deep in `.claude/settings.json`, a plugin's
`hooks.json` or a JSONL line names its own line (and column), not the top of the file.

Paths are dotted as in `yaml_text`: `hooks.Stop.0.hooks.1.timeout`; list items by index."""

from __future__ import annotations

import bisect
import json
import re
from json.decoder import scanstring
from pathlib import Path
from typing import Any

from dos.adapters.files.yaml_text import read_text
from dos.core.errors import InvalidSkill

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
MAX_DEPTH = 100  # deeper values are parsed, their keys not placed (line_at falls back to the parent)


def offsets(text: str) -> dict[str, int]:
    """The character offset of every object key and array item in valid JSON `text`, by dotted path. A key
    given twice has the offset of the last one, whose value `json.loads` keeps."""
    out: dict[str, int] = {}
    try:
        _walk(text, _WS.match(text, 0).end(), "", out, 0)  # type: ignore[union-attr]
    except (ValueError, IndexError, RecursionError):  # not the JSON json.loads accepted: keep what was placed
        pass
    return out


def _skip(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]


def _walk(text: str, i: int, prefix: str, out: dict[str, int], depth: int) -> int:
    """Places the keys of the value starting at `i`; returns the offset just after it."""
    opener = text[i]
    if opener not in "{[" or depth > MAX_DEPTH:
        return _DECODER.raw_decode(text, i)[1]
    i = _skip(text, i + 1)
    closer = "}" if opener == "{" else "]"
    if text[i] == closer:
        return i + 1
    index = 0
    while True:
        if opener == "{":
            start = i
            key, i = scanstring(text, i + 1)
            i = _skip(text, i)
            if text[i] != ":":
                raise ValueError("expected ':'")
            path = f"{prefix}{key}"
            i = _skip(text, i + 1)
        else:
            start, path = i, f"{prefix}{index}"
            index += 1
        out[path] = start
        i = _skip(text, _walk(text, i, path + ".", out, depth + 1))
        if text[i] == ",":
            i = _skip(text, i + 1)
            continue
        if text[i] != closer:
            raise ValueError(f"expected '{closer}'")
        return i + 1


def line_col(text: str, offset: int, starts: list[int] | None = None) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    starts = starts if starts is not None else line_starts(text)
    line = bisect.bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


def line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer(r"\n", text)]


def parse_json(text: str, where: str) -> tuple[Any, dict[str, int]]:
    """Data and the line of every key; InvalidSkill `where:line:column: broken JSON: ...` if it is not JSON."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidSkill(f"{where}:{exc.lineno}:{exc.colno}: broken JSON: {exc.msg}") from None
    except RecursionError:
        raise InvalidSkill(f"{where}:1: broken JSON: nested too deeply") from None
    starts = line_starts(text)
    return data, {path: line_col(text, at, starts)[0] for path, at in offsets(text).items()}


def load_json_file(path: Path) -> tuple[Any, dict[str, int]]:
    """A JSON file (at most 1 MB, UTF-8) as (data, line of every key); InvalidSkill naming file and line."""
    return parse_json(read_text(path), str(path))
