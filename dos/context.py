"""Facts about the calling client that commands read instead of process globals (cwd, terminal, display
variables), so one warm kernel process can serve many clients at once. Outside the kernel they are simply
this process's own."""

from __future__ import annotations

import os
from contextvars import ContextVar

# Variables that change only how output looks, and DOS_TRUST_PROJECT (trusts the project for one invocation);
# the kernel takes them from each request, never from its own environment.
DISPLAY_VARS = ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "LINES", "DOS_DEBUG", "DOS_TRUST_PROJECT")


class Client:
    """The calling client's cwd, terminal scope and display variables. (A plain class: the thin client imports
    this module, and `dataclasses` alone would add 13 ms to its start.)"""

    __slots__ = ("cwd", "scope", "env", "turn_id")

    def __init__(self, cwd: str, scope: str, env: dict[str, str] | None = None, turn_id: str | None = None):
        self.cwd, self.scope, self.env = cwd, scope, env or {}
        self.turn_id = turn_id  # the id the kernel gave this request's turn and told the client first


_client: ContextVar[Client | None] = ContextVar("dos_client", default=None)


def set_client(client: Client) -> None:
    _client.set(client)


def cwd():  # -> pathlib.Path (imported here: the kernel's thin client imports this module, see dos.kernel.client)
    from pathlib import Path

    client = _client.get()
    return Path(client.cwd) if client else Path.cwd()


def getenv(name: str, default: str | None = None) -> str | None:
    """A display variable (or DOS_TRUST_PROJECT) as the client set it (other variables are the process's own)."""
    client = _client.get()
    if client is not None and name in DISPLAY_VARS:
        return client.env.get(name, default)
    return os.environ.get(name, default)


def display_env() -> dict[str, str]:
    return {k: v for k in DISPLAY_VARS if (v := getenv(k)) is not None}


def local_scope() -> str:
    """Where `dos run -c` looks for the last conversation: this terminal if there is one, else this folder."""
    for fd in (0, 1, 2):
        try:
            return f"tty:{os.ttyname(fd)}"
        except OSError:
            continue
    for var in ("TERM_SESSION_ID", "WT_SESSION", "TMUX_PANE"):
        if os.environ.get(var):
            return f"{var}:{os.environ[var]}"
    return f"dir:{os.getcwd()}"


def in_kernel() -> bool:
    """Whether this command runs in the warm kernel for a client (whose terminal is not this process's)."""
    return _client.get() is not None


def turn_id() -> str | None:
    """The turn id the kernel announced to the client (None outside the kernel: the turn mints its own)."""
    client = _client.get()
    return client.turn_id if client else None


def scope() -> str:
    client = _client.get()
    return client.scope if client else local_scope()
