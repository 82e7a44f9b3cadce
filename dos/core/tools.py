"""Tools from MCP servers and DOS's built-in ones, as plain data: which servers are declared, what tools they offer,
what a model asked to call and what came back, and the rules around them (namespaced names, allowed-tools, the
model's view). The built-in tools (`dos.adapters.tools`) are served as the reserved server `builtin`, whose tools
keep Claude Code's bare names (`Read`, `Bash`), so a hook's `matcher` on `tool_name` means what it does there.

No I/O here. Reading `mcp.yaml` / `.mcp.json` is `dos.adapters.mcp.mcp_config`'s job; talking to servers is the
`ToolHost` port's (`dos.adapters.mcp.mcp_tools`, the official MCP SDK).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from dos.core.redact import redact

SEP = "__"  # a tool's name as the model sees it: SERVER__TOOL
BUILTIN = "builtin"  # the reserved server of the built-in tools: offered only when a turn's request names it
DEFAULT_TIMEOUT_S = 30.0  # one tool call
DEFAULT_START_TIMEOUT_S = 20.0  # starting a server and listing its tools
MAX_TOOL_ROUNDS = 5  # model -> tools -> model rounds in one turn
MAX_RESULT_CHARS = 8_000  # of one tool result, fed back to the model

_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class ServerSpec:
    """One declared MCP server. `env` values and `headers` may hold secrets: never shown, never logged."""

    name: str
    transport: str  # "stdio" or "http"
    origin: str  # the file that declared it
    command: str = ""
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    cwd: str = ""
    url: str = field(default="", repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    timeout: float = DEFAULT_TIMEOUT_S
    pack: str = ""  # the pack that declared it: its skills get its tools
    skill: str = ""  # the built-in server: the active skill's SKILL.md (its folder's scripts may be run)

    def describe(self) -> dict[str, Any]:
        """What a listing shows: the command or the URL without its query, env and header *names* only."""
        out: dict[str, Any] = {"name": self.name, "transport": self.transport, "origin": self.origin}
        if self.transport == "stdio":
            out |= {"command": self.command, "args": [_mask_arg(a) for a in self.args],
                    "env": sorted(k for k, _ in self.env)}
        else:
            out |= {"url": safe_url(self.url), "headers": sorted(k for k, _ in self.headers)}
        return out


@dataclass(frozen=True)
class ToolSpec:
    """A tool one server offers. `schema` is its JSON schema, passed to the model as it is."""

    server: str
    name: str
    description: str = ""
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})

    @property
    def qualified(self) -> str:
        return qualify(self.server, self.name)

    def for_model(self) -> dict[str, Any]:
        """The OpenAI / LiteLLM function-calling shape."""
        schema = dict(self.schema) if isinstance(self.schema, dict) else {}
        schema.setdefault("type", "object")
        if schema.get("type") == "object":
            schema.setdefault("properties", {})
        return {"type": "function",
                "function": {"name": self.qualified, "description": self.description or self.name, "parameters": schema}}

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "qualified": self.qualified, "description": self.description,
                "input_schema": self.schema}


@dataclass(frozen=True)
class ToolCall:
    """A call the model asked for: `arguments` is the JSON text the model wrote (maybe not valid JSON)."""

    id: str
    name: str
    arguments: str = "{}"

    def parsed(self) -> dict[str, Any]:
        """The arguments as a mapping; ValueError if they are not a JSON object."""
        value = json.loads(self.arguments or "{}")
        if not isinstance(value, dict):
            raise ValueError("the arguments are not a JSON object")
        return value


@dataclass(frozen=True)
class ToolResult:
    """What a tool returned (text of its content blocks), or why there is no result (`error`)."""

    text: str = ""
    is_error: bool = False
    structured: Any = None
    error: str | None = None  # the server could not start, timed out, crashed, ...
    duration_s: float = 0.0
    limit: int = MAX_RESULT_CHARS  # characters the model gets (a skill's instructions, once activated, more)

    @property
    def ok(self) -> bool:
        return self.error is None and not self.is_error

    def for_model(self) -> str:
        if self.error:
            return f"error: {self.error}"
        text = self.text if len(self.text) <= self.limit else self.text[:self.limit] + " [truncated]"
        return f"error: {text}" if self.is_error else text


@dataclass(frozen=True)
class ServerTools:
    """The outcome of listing one server: its tools, or the one-line reason it has none."""

    server: ServerSpec
    tools: tuple[ToolSpec, ...] = ()
    error: str | None = None
    duration_s: float = 0.0

    @property
    def status(self) -> str:
        return "error" if self.error else "ok"


def qualify(server: str, tool: str) -> str:
    return tool if server == BUILTIN else f"{server}{SEP}{tool}"


def split_name(qualified: str) -> tuple[str, str]:
    """SERVER__TOOL -> (SERVER, TOOL); ValueError if there is no separator."""
    server, sep, tool = qualified.partition(SEP)
    if not sep or not server or not tool:
        raise ValueError(f"'{qualified}' is not SERVER{SEP}TOOL")
    return server, tool


def name_problem(name: str) -> str | None:
    if name == BUILTIN:
        return f"server name '{name}' is reserved for DOS's built-in tools"
    if not _NAME.match(name):
        return f"server name '{name[:40]}' must be 1-64 letters, digits, '_', '.' or '-'"
    if SEP in name:
        return f"server name '{name}' must not contain '{SEP}' (it separates server and tool names)"
    return None


def safe_url(url: str) -> str:
    """A URL without credentials, query or fragment (they may hold tokens)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(invalid URL)"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else "(invalid URL)"


def _mask_arg(arg: str) -> str:
    return redact(arg)


# ---------------------------------------------------------------------------------------------- which tools a turn gets


def tool_setting(value: Any) -> tuple[str, ...]:
    """A skill's `allowed-tools` / `metadata.dos.tools` (a list, or a string of entries separated by spaces or
    commas, a space inside `( )` belonging to its rule: `Read Bash(git diff *)` is two entries)."""
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    if not isinstance(value, str):
        return ()
    from dos.core.permissions import split_rules  # here: the permission engine loads with a turn's tools, not at start-up

    return tuple(split_rules(value)[0])


def _mcp_pattern(entry: str) -> str | None:
    """An allowed-tools entry as a pattern on SERVER__TOOL, or None for a non-MCP entry (Claude's Read, Bash...).
    Accepted: `server`, `server__tool`, `server__*`, Claude Code's `mcp__server__tool` and `mcp__server`."""
    if "(" in entry:  # a permission rule, `Bash(git diff *)`
        return None
    if entry.startswith("mcp" + SEP):
        entry = entry[len("mcp" + SEP):]
    if entry in ("*", "mcp"):
        return "*"
    if SEP in entry:
        return entry
    return None


def servers_named(entries: Iterable[str], declared: Iterable[str]) -> list[str]:
    """The declared servers a list of allowed-tools / --tools entries names (`time`, `time__get_*`, `mcp__time`)."""
    names = list(declared)
    out: list[str] = []
    for entry in entries:
        bare = entry[len("mcp" + SEP):] if entry.startswith("mcp" + SEP) else entry
        server = bare.split(SEP, 1)[0]
        hits = names if server in ("*",) else [n for n in names if fnmatch.fnmatchcase(n, server)]
        out += [n for n in hits if n not in out]
    return out


def allows(entries: tuple[str, ...], qualified: str) -> bool:
    """Whether an allowed-tools list lets a turn call `qualified` (SERVER__TOOL, or a built-in tool's bare name).
    An entry naming a server alone (`time`, `mcp__time`) allows all its tools; a permission rule names its tool
    (`Bash(git diff *)` names Bash; which commands run is the permission rules' business, dos.core.turn.tool_gate)."""
    server, _, _ = qualified.partition(SEP)
    for entry in entries:
        pattern = _mcp_pattern(entry)
        bare = entry[len("mcp" + SEP):] if entry.startswith("mcp" + SEP) else entry
        if pattern is None:
            bare = bare.split("(", 1)[0].strip()
            if fnmatch.fnmatchcase(server, bare):
                return True
        elif fnmatch.fnmatchcase(qualified, pattern):
            return True
    return False


def tool_choice_for(choice: str | None) -> Any:
    """`--tool-choice`: auto, none, required, or a tool's SERVER__TOOL name (that function, forced)."""
    if not choice:
        return None
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def forced(choice: Any) -> bool:
    return choice == "required" or isinstance(choice, dict)


def one_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
