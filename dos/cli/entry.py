"""The `dos` console script: fast paths (`--version`, `run` through the kernel, `skills list` on a pipe),
then the typer app with one-line errors."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        from dos import __version__

        print(f"dos {__version__}")
        return
    if sys.argv[1:2] == ["run"]:  # the thin client: the warm kernel runs it, unless it cannot
        from dos.kernel.client import run_in_kernel

        if (code := run_in_kernel(sys.argv[1:])) is not None:
            raise SystemExit(code)
    from dos.cli.listing import fast_list

    if (code := fast_list(sys.argv[1:])) is not None:  # `dos skills list` on a pipe skips typer
        raise SystemExit(code)
    from dos.cli.app import run_app

    run_app()
