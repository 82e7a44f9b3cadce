"""The ports: what the core needs from the world, as Protocols. Adapters implement them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from dos.core.domain import Chunk, Event, Skill, SkillInfo, Token, TurnSummary

if TYPE_CHECKING:
    from dos.core.hook_records import HookOutcome, HookSpec
    from dos.core.permissions import Permissions, Question
    from dos.core.tools import ServerSpec, ServerTools, ToolResult


class ModelStream(Protocol):
    """Streams a chat completion from a named model."""

    def stream(
        self,
        model: str,
        messages: list[dict[str, str]],
        *,
        max_tokens: int | None,
        temperature: float | None,
        **options: Any,  # tools=[...], tool_choice=... (function calling), passed only when a turn has tools
    ) -> Iterator[Chunk]: ...


class SkillSource(Protocol):
    """Finds skills by name; lists them without reading their bodies."""

    def get(self, name: str) -> Skill: ...

    def list(self) -> list[SkillInfo]: ...


class MemoryLog(Protocol):
    """The append-only event log."""

    def append(self, event: Event) -> Event: ...

    def recent_turns(self, limit: int) -> list[TurnSummary]: ...


@runtime_checkable
class BulkMemoryLog(Protocol):
    """A MemoryLog that can also append many events in one transaction: one lock, one commit."""

    def append_many(self, events: list[Event]) -> list[Event]: ...


@runtime_checkable
class TurnJournal(Protocol):
    """A MemoryLog that also keeps the partial answer of a turn while it streams, so a crash loses none of it."""

    def progress(self, event: Event) -> None: ...


class Ledger(Protocol):
    """The credit ledger (dos.core.routing.ledger): append-only entries in micro-credits; balances and spend derived.
    `hold` runs `decide` on the current standings inside one write lock and writes the hold only if it returns
    None (else returns its refusal); every write is idempotent on its key."""

    def standings(self, charge: Any) -> list[Any]: ...

    def hold(self, charge: Any, amount: int, key: str, decide: Callable[[list[Any]], str | None],
             fields: dict[str, Any]) -> tuple[str | None, str | None]: ...

    def debit(self, key: str, amount: int, hold_id: str | None, fields: dict[str, Any]) -> None: ...


class CreditBook(Protocol):
    """What `dos credits` and `dos budget` write and read besides a call's holds and debits (the use cases are
    dos.core.routing.ledger.Credits). Every write is idempotent on its key and returns the entry, with `written` False
    when the key was already used."""

    def record(self, kind: str, amount: int, key: str | None = None, **fields: Any) -> dict[str, Any]: ...

    def refund(self, turn_id: str, amount: int | None, note: str = "", key: str | None = None) -> dict[str, Any]: ...

    def balance(self) -> int: ...

    def set_budget(self, scope: str, name: str, period: str, limit: int) -> Any: ...

    def clear_budget(self, scope: str, name: str, period: str | None) -> int: ...


@runtime_checkable
class Closeable(Protocol):
    """A stream that can be let go of before its end (a generator): a routed call the budget guard cuts closes
    its provider stream before the cost is settled. A plain iterator has nothing to close."""

    def close(self) -> None: ...


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall time)."""
        ...

    def monotonic(self) -> float: ...


@runtime_checkable
class MemoryRecall(Protocol):
    """A MemoryLog that can also find past events for recall."""

    def session_turns(self, session_id: str, limit: int, exclude_turn: str | None = None) -> list[TurnSummary]: ...

    def related(self, text: str, limit: int, exclude_turn: str | None = None) -> list[Event]: ...


class HookRunner(Protocol):
    """The configured hooks, and a way to run some of them on one event payload (in parallel, each within its
    timeout; outcomes come back in the order of `specs`, whatever order they finished in)."""

    def hooks(self) -> list[HookSpec]: ...

    def problems(self) -> list[str]: ...

    def run(self, specs: list[HookSpec], payload: dict[str, Any]) -> list[HookOutcome]: ...


class ToolHost(Protocol):
    """Declared tool servers (MCP): list their tools, call one. A server that cannot start, hangs or crashes
    gives an error for it (in `ServerTools.error` / `ToolResult.error`), never an exception."""

    def servers(self) -> list[ServerSpec]: ...

    def list_tools(self, servers: list[ServerSpec]) -> list[ServerTools]: ...

    def call(self, server: ServerSpec, tool: str, arguments: dict[str, Any]) -> ToolResult: ...

    def close(self) -> None: ...


class PermissionSource(Protocol):
    """The tool permission rules in force in the folder DOS runs in (dos.core.permissions), and where "always
    allow, for this folder" keeps its rules."""

    def folder(self) -> str: ...  # the working folder the rules are about (absolute)

    def load(self) -> tuple[Permissions, list[str]]: ...  # the rules in force, and the problems of their files

    def saves_to(self) -> str: ...  # where `remember` writes, as the person sees it (./.dos/settings.local.json)

    def remember(self, rules: list[str]) -> str: ...  # add allow rules for this folder; one line saying where


ONCE, ALWAYS, DENY_IT = "once", "always", "deny"  # an Approver's answers: yes this time, yes from now on, no


class Approver(Protocol):
    """A person's answer to a tool call that asks first (dos.core.turn.tool_gate): `once`, `always` (keep the suggested
    rules for this folder) or `deny`. `unable()` says why nobody can be asked now (no terminal, a script, `dos
    serve`, the warm kernel), or None when someone can."""

    def unable(self) -> str | None: ...

    def ask(self, question: Question) -> str: ...


class TokenStore(Protocol):
    """`dos serve`'s tokens (dos.core.serve.tokens): records and digests, never a token itself."""

    def add(self, token: Token, digest: str) -> None: ...

    def find(self, digest: str) -> Token | None: ...

    def get(self, name: str) -> Token | None: ...

    def all(self) -> list[Token]: ...

    def revoke(self, name: str) -> Token: ...
