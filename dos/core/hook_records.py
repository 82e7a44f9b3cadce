"""The records of the hooks layer: one configured hook (`HookSpec`) and what one run of it did (`HookOutcome`).

Plain data, no I/O. They live apart from the rules in `dos.core.turn.hooks` so that `dos.core.ports` (the `HookRunner`
port speaks in them) and `dos.core.turn.hooks` (which uses that port) both import them and neither imports the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class HookSpec:
    """One configured hook: what runs, for which event, when it matches, and where it was declared."""

    event: str
    kind: str  # "command" or "python"
    target: str  # the command line, or `module:function` / `path.py:function` / `entry-point:NAME`
    origin: str  # the file (or "builtin", "entry point") that declared it
    timeout: float = DEFAULT_TIMEOUT_S
    matcher: str = ""
    skill: str = ""  # regex on the skill name (DOS)
    pack: str = ""  # regex on the pack name (DOS)
    env: tuple[tuple[str, str], ...] = ()  # extra environment, e.g. CLAUDE_PLUGIN_ROOT for a plugin's hooks
    options: tuple[tuple[str, Any], ...] = ()  # keyword arguments for a Python hook
    name: str = ""  # a short label for listings

    @property
    def label(self) -> str:
        return self.name or self.target


@dataclass(frozen=True)
class HookOutcome:
    """What one hook run did. `exit_code` is None when it never finished (timed out, could not start)."""

    spec: HookSpec
    exit_code: int | None
    stdout: str = field(default="", repr=False)
    stderr: str = field(default="", repr=False)
    duration_s: float = 0.0
    timed_out: bool = False
    error: str | None = None  # could not start, raised, ...
    truncated: bool = False  # output was longer than the cap; the rest was read and dropped
    output_bytes: int = 0
    result: Any = None  # a Python hook's return value (dict, str or None), instead of stdout

    @property
    def output(self) -> dict[str, Any] | None:
        """The hook's JSON output (exit 0 only), or None."""
        if self.exit_code != 0:
            return None
        if isinstance(self.result, dict):
            return self.result
        return parse_json_output(self.stdout)

    @property
    def plain(self) -> str:
        """Plain-text stdout (exit 0, not JSON)."""
        if self.exit_code != 0 or isinstance(self.result, dict):
            return ""
        text = self.result if isinstance(self.result, str) else self.stdout
        return "" if text.lstrip().startswith("{") else text.strip()

    @property
    def status(self) -> str:
        """ok, block, error or timeout (block: exit 2, or a JSON decision that blocks or stops)."""
        if self.timed_out:
            return "timeout"
        if self.exit_code is None or self.error:
            return "error"
        if self.exit_code == 2:
            return "block"
        if self.exit_code != 0:
            return "error"
        out = self.output or {}
        hso = out.get("hookSpecificOutput") if isinstance(out.get("hookSpecificOutput"), dict) else {}
        if out.get("continue") is False or out.get("decision") == "block" or hso.get("permissionDecision") == "deny":
            return "block"
        return "ok"


def parse_json_output(stdout: str) -> dict[str, Any] | None:
    """stdout as a JSON object, if it is one."""
    text = stdout.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
