"""The nouns of DOS: skills, turns, model chunks, memory events and `dos serve` tokens. Plain data, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_MODEL = "local/smollm2"
# a request's options that go to the model as given (TurnRequest.options): the router passes these on to the
# provider, and the `dos serve` gateway takes these from a client's request
MODEL_OPTIONS = ("tools", "tool_choice", "parallel_tool_calls", "stop", "top_p", "seed", "response_format",
                 "presence_penalty", "frequency_penalty")


@dataclass(frozen=True)
class Skill:
    """An Agent Skill: SKILL.md frontmatter plus its Markdown body (the system prompt)."""

    name: str
    description: str
    body: str
    path: str
    source: str  # "project", "user", "pack:NAME" or "builtin:NAME"
    metadata: dict[str, Any] = field(default_factory=dict)
    # For progressive disclosure (dos.core.turn.disclosure): the SKILL.md body alone, before DOS lists some of its
    # files under it in `body` (None: `body` is all there is), and every file bundled beside SKILL.md, relative to
    # its folder (a bounded list)
    instructions: str | None = None
    files: tuple[str, ...] = ()

    @property
    def dos(self) -> dict[str, Any]:
        """DOS-specific settings kept under `metadata.dos` so the file works in other harnesses."""
        value = self.metadata.get("dos")
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class SkillInfo:
    """What a listing shows of a skill: frontmatter only, or the reason it is broken."""

    name: str
    description: str
    path: str
    source: str
    error: str | None = None
    shadowed_by: str | None = None


@dataclass(frozen=True)
class TurnRequest:
    """One prompt to one skill, with the caller's overrides."""

    skill: str
    text: str
    model: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    log: bool = True
    session_id: str | None = None
    recall: bool = True  # offer relevant memory to the model
    recall_tokens: int = 600  # most tokens of recalled context (config: recall_tokens)
    scope: str | None = None  # the terminal or folder the turn runs in, for `dos run -c`
    tools: tuple[str, ...] = ()  # MCP servers (or SERVER__TOOL patterns) enabled on the command line
    tool_choice: str | None = None  # auto, none, required, or SERVER__TOOL (forced in the first round)
    allow: tuple[str, ...] = ()  # --allow RULE: permission rules allowing tool calls for this turn (dos.core.turn.tool_gate)
    permission_mode: str | None = None  # --permission-mode: default, acceptEdits, plan, dontAsk, bypassPermissions
    # A conversation given whole (the gateway's clients send one): these messages follow the skill's system
    # prompt as given, and `text` is what is recorded as the prompt. Empty: the conversation is `text` alone.
    conversation: tuple[Mapping[str, Any], ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)  # passed to the model as given: tools, stop, seed...
    client: str | None = None  # who asked, when not the person at the terminal: the gateway's token name
    turn_id: str | None = None  # given by the caller (the gateway names its response after it); else new
    # offer the catalog of enabled skills and the tool that activates one, if the model can call tools
    # (dos.core.turn.disclosure): each `dos chat` turn, and `dos run` without a skill
    skill_catalog: bool = False


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Chunk:
    """A piece of a streamed answer. The last one carries usage, finish reason and cost."""

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    cost: float | None = None
    model: str | None = None
    tool_calls: tuple[Any, ...] = ()  # dos.core.tools.ToolCall: calls the model asked for (function calling)


@dataclass(frozen=True)
class TurnResult:
    turn_id: str
    session_id: str
    skill: str
    model: str
    text: str
    usage: Usage
    cost: float
    finish_reason: str
    duration_s: float
    first_token_s: float | None
    tool_calls: tuple[Any, ...] = ()  # dos.core.tools.ToolCall: calls the model asked the caller to run


@dataclass(frozen=True)
class Event:
    """One entry of the append-only memory log. `id`, `ts` and `hash` are set when appended."""

    kind: str
    text: str = ""
    session_id: str = ""
    turn_id: str = ""
    actor: str = "dos"
    skill: str | None = None
    model: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    ref: str | None = None
    id: str = ""
    ts: str = ""
    hash: str = ""


@dataclass(frozen=True)
class EventRecord:
    """An event as the log stores it, fields in column order: the event's, its position `seq` and its hashes
    (`dos memory show`). `data` is parsed (it is stored as canonical JSON)."""

    seq: int
    id: str
    ts: str
    session_id: str
    turn_id: str
    kind: str
    actor: str
    skill: str | None
    model: str | None
    text: str
    data: dict[str, Any]
    ref: str | None
    content_hash: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class TurnSummary:
    """A turn as `dos memory log` shows it: the prompt and, if one was recorded, its response."""

    turn_id: str
    ts: str
    session_id: str
    skill: str | None
    model: str | None
    prompt: str
    response: str | None
    complete: bool
    usage: Usage
    duration_s: float | None
    error: str | None = None


def skill_pack(source: str) -> str | None:
    """The pack a skill comes from, from its source label (`pack:dev`, `builtin:writing`)."""
    kind, sep, name = source.partition(":")
    return name if sep and kind in ("pack", "builtin") else None


@dataclass(frozen=True)
class Token:
    """A token's record (never the token itself). `skills` empty: any skill and any catalog model."""

    name: str
    hint: str  # the first characters, to tell tokens apart in a listing
    created: str
    sovereignty: frozenset[str] | None = None
    skills: tuple[str, ...] = ()
    revoked: str | None = None

    def allows_skill(self, name: str) -> bool:
        return not self.skills or name in self.skills

    @property
    def allows_models(self) -> bool:
        """Whether catalog models may be called directly (a token limited to skills may use only those)."""
        return not self.skills

    def route(self) -> str | None:
        """The sovereignty the token allows, as the router's command-line constraint (it only narrows)."""
        return None if self.sovereignty is None else ",".join(sorted(self.sovereignty))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "hint": self.hint, "created": self.created,
                "sovereignty": None if self.sovereignty is None else sorted(self.sovereignty),
                "skills": list(self.skills), "revoked": self.revoked}
