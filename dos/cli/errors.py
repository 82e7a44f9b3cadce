"""Turns every failure into one line on stderr and a documented exit code (README, "Exit codes")."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn

import typer

from dos.context import getenv
from dos.core.errors import EXIT_INTERRUPTED, DosError

EXIT_INTERNAL = 1
EXIT_BROKEN_PIPE = 141


def fail(message: str, code: int) -> NoReturn:
    sys.stderr.write(f"dos: {message}\n")
    sys.stderr.flush()
    raise SystemExit(code)


def guarded(call: Callable[[], object]) -> NoReturn:
    """Run the CLI; map each kind of failure onto its exit code. `DOS_DEBUG=1` re-raises with a traceback."""
    debug = getenv("DOS_DEBUG") not in (None, "", "0")
    try:
        result = call()
        code = result if isinstance(result, int) else 0
        if code == EXIT_INTERRUPTED:  # typer turns KeyboardInterrupt into Exit(130) on its own
            fail("interrupted", EXIT_INTERRUPTED)
    except (KeyboardInterrupt, typer.Abort):
        fail("interrupted", EXIT_INTERRUPTED)
    except typer.TyperException as exc:  # typer's usage errors: it prints them its own way
        exc.show()  # type: ignore[attr-defined]
        code = getattr(exc, "exit_code", 2)
    except DosError as exc:
        if debug:
            raise
        fail(exc.message, exc.exit_code)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the reader left: stop quietly
        code = EXIT_BROKEN_PIPE
    except Exception as exc:
        if debug:
            raise
        fail(f"internal error: {type(exc).__name__}: {exc} (run with DOS_DEBUG=1 for the traceback)", EXIT_INTERNAL)
    raise SystemExit(code)
