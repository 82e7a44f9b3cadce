"""`dos kernel ...`: the warm background process that makes `dos run` fast."""

from __future__ import annotations

import time

import typer

from dos.cli.output import print_json
from dos.core.errors import KernelError

app = typer.Typer(help="The warm kernel: keeps LiteLLM and the embedded model loaded between runs.",
                  no_args_is_help=True)


def _state():
    from dos.kernel.client import _state

    return _state()


@app.command("start")
def start() -> None:
    """Start the kernel now (otherwise the first `dos run` starts it).  Example: dos kernel start"""
    from dos.kernel.client import request, start as start_kernel

    began = time.monotonic()
    if not start_kernel(_state()):
        raise KernelError("the kernel could not start; `dos kernel logs` shows why")
    reply = request(_state(), {"op": "ping"})
    if not reply:  # it stopped right after starting: replaced by a kernel of newer code, or idle-stopped
        raise KernelError("the kernel started, then stopped answering; `dos kernel status` and `dos kernel logs` say why")
    typer.echo(f"kernel {reply['pid']} ready in {time.monotonic() - began:.2f}s")


@app.command("stop")
def stop() -> None:
    """Stop the kernel; running turns finish first.  Example: dos kernel stop"""
    from dos.kernel.client import stop as stop_kernel

    pid = stop_kernel(_state())
    typer.echo(f"kernel {pid} stopped" if pid else "no kernel is running")


@app.command("restart")
def restart() -> None:
    """Stop the kernel and start a fresh one.  Example: dos kernel restart"""
    stop()
    start()


@app.command("status")
def status(json_out: bool = typer.Option(False, "--json", help="Print JSON instead of text.")) -> None:
    """Is a kernel running, since when, how many requests it served (exit 0 either way; `--json` has
    `running`).  Example: dos kernel status"""
    from dos.kernel.client import request

    reply = request(_state(), {"op": "ping"})
    if json_out:
        print_json({"running": True} | reply if reply else {"running": False})
    elif reply:
        typer.echo(f"kernel {reply['pid']} running for {reply['uptime_s']:.0f}s on {reply['socket']}: "
                   f"{reply['served']} served, {reply['active']} active, idle exit after {reply['idle_s']:.0f}s")
    else:
        typer.echo("no kernel is running")


@app.command("logs")
def logs(lines: int = typer.Option(40, "-n", help="How many of the last lines to show.")) -> None:
    """Show the end of the kernel's log.  Example: dos kernel logs -n 100"""
    path = _state() / "kernel.log"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise KernelError(f"no kernel log yet at {path}") from None
    typer.echo("".join(text.splitlines(keepends=True)[-lines:]), nl=False)
