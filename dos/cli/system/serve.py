"""`dos serve`: the OpenAI-compatible gateway (dos.gateway) for other tools on this machine."""

from __future__ import annotations

import sys

import typer

HELP = ("Serve DOS to other tools as an OpenAI-compatible API (skills as models `skill:NAME`; tokens, budgets and "
        "sovereignty applied).  Example: dos serve --port 8765")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback unless --allow-remote)."),
    port: int = typer.Option(8765, "--port", help="Port to listen on (0: any free port, printed at start)."),
    allow_remote: bool = typer.Option(False, "--allow-remote", help="Allow a non-loopback --host (needs a token)."),
    max_body_mb: float = typer.Option(4.0, "--max-body-mb", help="Largest request body accepted, in MB."),
    threads: int = typer.Option(32, "--threads", help="Requests worked on at once (more wait their turn)."),
) -> None:
    from dos.core.errors import UsageError
    from dos.gateway.server import serve as run_server

    if max_body_mb <= 0 or threads < 1:
        raise UsageError("--max-body-mb must be above 0 and --threads at least 1")

    def ready(url: str) -> None:
        sys.stdout.write(f"dos serve: listening on {url}\n")
        sys.stdout.flush()
        sys.stderr.write(f"dos serve: point an OpenAI client at {url} with a token from `dos tokens create NAME`; "
                         "Ctrl-C stops\n")
        sys.stderr.flush()

    run_server(host, port, allow_remote, int(max_body_mb * 1024 * 1024), threads, ready)
