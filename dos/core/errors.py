"""Errors the user can act on, each with its own exit code (see README, "Exit codes")."""

from __future__ import annotations


class DosError(Exception):
    """An expected failure: shown as one line on stderr, exits with `exit_code`."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(DosError):
    """The command line or its input cannot be used as given."""

    exit_code = 2


class UnknownSkill(DosError):
    """No skill has the requested name."""

    exit_code = 3

    def __init__(self, name: str, near: list[str]) -> None:
        hint = f"; did you mean: {', '.join(near)}?" if near else "; see `dos skills list`"
        super().__init__(f"unknown skill '{name}'{hint}")
        self.name = name
        self.near = near


class ModelError(DosError):
    """The model or its provider failed."""

    exit_code = 4


class ModelCrashed(ModelError):
    """A model killed the process running it with a signal (an embedded llama.cpp build using instructions the CPU
    will not run, say), or the kernel died during the turn: what was written is kept, the turn is not run again."""

    exit_code = 17


class InvalidSkill(DosError):
    """A SKILL.md (or other content file) cannot be parsed or fails validation."""

    exit_code = 5


class InvalidConfig(DosError):
    """A configuration file cannot be parsed or holds a bad value; the message names file and line."""

    exit_code = 5


class StorageError(DosError):
    """The memory database or a DOS folder cannot be read or written."""

    exit_code = 6


class VerifyFailed(DosError):
    """The memory log's or the ledger's hash chain does not verify: an event or a ledger entry was altered or
    removed behind DOS's back."""

    exit_code = 7


class UnknownEvent(DosError):
    """No memory event has the given id (or the id prefix matches more than one)."""

    exit_code = 8

    def __init__(self, ident: str, ambiguous: bool = False) -> None:
        what = "more than one event starts with" if ambiguous else "no memory event has the id"
        super().__init__(f"{what} '{ident}'; see `dos memory log` or `dos memory search`")


class NoRoute(DosError):
    """No catalog model satisfies the route's hard constraints; the message says which constraint removed which
    models. Raised before any model call."""

    exit_code = 9


class HookBlocked(DosError):
    """A hook blocked the turn (exit 2, or a JSON `decision: block` / `continue: false`) before any model call;
    the prompt and the hook's reason are on record in memory."""

    exit_code = 10


class KernelError(DosError):
    """The warm kernel could not be started or reached when asked for directly (`dos kernel ...`)."""

    exit_code = 11


class SyncFailed(DosError):
    """`dos sync`: one or more targets could not be read or written (each was reported on its own line);
    the other targets were synced. (12 is `dos doctor`'s "something is broken".)"""

    exit_code = 13


class BudgetExceeded(DosError):
    """A budget or the credit balance cannot cover a call's worst case (refused before the call), or a streamed
    answer ran past its limit (cut, the partial answer kept). The message names the budget, what is left and how
    to raise it."""

    exit_code = 14


class BudgetCut(BudgetExceeded):
    """A streamed answer was cut at the budget limit; the partial answer is kept."""


class ToolError(DosError):
    """An MCP server or tool failed when called directly (`dos mcp call`): the server could not start, did not
    answer in time, exited mid-call, or the tool returned an error. (In a turn, a failed tool is reported to the
    model and the turn goes on.)"""

    exit_code = 15


class TokenRefused(DosError):
    """`dos serve`: the bearer token is missing, unknown or revoked, or (`forbidden`) its policy does not allow
    what was asked; `dos tokens`: no token has that name."""

    exit_code = 16

    def __init__(self, message: str, forbidden: bool = False) -> None:
        super().__init__(message)
        self.forbidden = forbidden


class UnknownModel(DosError):
    """`dos serve`: the request names a model that is neither in the catalog nor `skill:NAME` (HTTP 404)."""

    exit_code = 9


EXIT_INTERRUPTED = 130
