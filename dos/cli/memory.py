"""`dos memory ...`: read the memory log."""

from __future__ import annotations

from dataclasses import asdict

import typer

from dos.bootstrap import build
from dos.cli.output import console, on_terminal, print_json
from dos.core.domain import TurnSummary

app = typer.Typer(help="The memory log: every turn, append-only.", no_args_is_help=True)


def _excerpt(text: str | None, width: int = 100) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _status(turn: TurnSummary) -> str:
    if turn.response is None:
        return "no response"
    return "ok" if turn.complete else f"partial ({turn.error or 'incomplete'})"


@app.command("log")
def log(
    limit: int = typer.Option(20, "-n", "--limit", min=1, help="How many recent turns to show."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Show recent turns, oldest first.  Example: dos memory log -n 5"""
    turns = build().memory.recent_turns(limit)
    if json_out:
        print_json([asdict(t) | {"usage": asdict(t.usage)} for t in turns])
        return
    if on_terminal():
        from rich.table import Table

        table = Table(show_lines=True)
        for column in ("when", "skill", "model", "prompt", "response", "tokens", "status"):
            table.add_column(column, overflow="fold")
        for t in turns:
            table.add_row(
                t.ts[:19].replace("T", " "), t.skill or "", t.model or "", _excerpt(t.prompt, 60),
                _excerpt(t.response, 80), str(t.usage.total_tokens), _status(t),
            )
        console().print(table)
        return
    for t in turns:
        took = f"{t.duration_s:.2f}s" if t.duration_s is not None else "-"
        typer.echo(f"{t.turn_id}  {t.ts}  {t.skill}  {t.model}  {t.usage.total_tokens} tokens  {took}  {_status(t)}")
        typer.echo(f"  > {_excerpt(t.prompt)}")
        if t.response is not None:
            typer.echo(f"  < {_excerpt(t.response)}")
