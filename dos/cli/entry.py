"""The `dos` console script: typer-free fast paths for what scripts call most, then the typer app.

Each fast path takes the arguments and returns an exit code, or None for "not mine" (an option it does not
know, a terminal that wants rich output, a kernel that cannot be reached); then the full typer command runs.
"""

from __future__ import annotations

import sys
from importlib import import_module

# first argument -> (module, function): imported only when that command is asked for
FAST_PATHS = {
    "run": ("dos.cli.run_fast", "fast_run"),  # the thin client of the warm kernel
    "skills": ("dos.cli.listing", "fast_list"),  # `skills list [--json]` on a pipe
    "memory": ("dos.cli.memory_fast", "fast_memory"),  # `memory search|log` on a pipe
}


def main() -> None:
    argv = sys.argv[1:]
    if argv in (["--version"], ["-V"]):
        from dos import __version__

        print(f"dos {__version__}")
        return
    if argv and argv[0] in FAST_PATHS:
        module, function = FAST_PATHS[argv[0]]
        if (code := getattr(import_module(module), function)(argv)) is not None:
            raise SystemExit(code)
    from dos.cli.app import run_app

    run_app()
