"""Reading a tool call's arguments: a wrong or missing one is a `BadCall`, which the host turns into an error
result for the model (never an exception out of the turn)."""

from __future__ import annotations

import os.path
from pathlib import Path
from typing import Any


class BadCall(Exception):
    """The call cannot be run as given; the message is what the model reads."""


def text(args: dict[str, Any], key: str, default: str | None = None, *, empty: bool = False) -> str:
    value = args.get(key, default)
    if value is None:
        raise BadCall(f"'{key}' is required")
    if not isinstance(value, str):
        raise BadCall(f"'{key}' must be a string")
    if not value and not empty:
        raise BadCall(f"'{key}' must not be empty")
    return value


def number(args: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    """An integer within [low, high] (a value beyond is clamped); a float with no fraction is taken as an int."""
    value = args.get(key)
    if value is None:
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadCall(f"'{key}' must be an integer")
    return max(low, min(high, value))


def flag(args: dict[str, Any], key: str, default: bool = False) -> bool:
    value = args.get(key, default)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise BadCall(f"'{key}' must be true or false")
    return value


def strings(args: dict[str, Any], key: str) -> list[str]:
    value = args.get(key) or []
    if isinstance(value, str):
        raise BadCall(f"'{key}' must be a list of strings, one per argument")
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise BadCall(f"'{key}' must be a list of strings")
    return [str(v) for v in value]


def path_in(folder: Path, value: str) -> Path:
    """`value` as a path: `~` expanded, a relative one taken from `folder` (the user's folder), normalised."""
    path = Path(value).expanduser()
    return Path(os.path.normpath(path if path.is_absolute() else folder / path))
