"""`dos skills ...`: what skills DOS can run."""

from __future__ import annotations

from dataclasses import asdict

import typer

from dos.bootstrap import build
from dos.cli.output import console, on_terminal, print_json

app = typer.Typer(help="Skills: SKILL.md folders you can run.", no_args_is_help=True)


@app.command("list")
def list_skills(json_out: bool = typer.Option(False, "--json", help="Print JSON instead of text.")) -> None:
    """List skills from ./.dos/skills, your skills folder and the built-ins.  Example: dos skills list"""
    infos = build().skills.list()
    if json_out:
        print_json([asdict(i) for i in infos])
        return
    if on_terminal():
        from rich.table import Table

        table = Table()
        for column in ("name", "source", "description"):
            table.add_column(column, overflow="fold")
        for i in infos:
            note = f"[red]broken: {i.error}[/]" if i.error else i.description
            if i.shadowed_by:
                note += f" [dim](shadowed by {i.shadowed_by})[/]"
            table.add_row(i.name, i.source, note)
        console().print(table)
        return
    for i in infos:
        note = f"BROKEN: {i.error}" if i.error else i.description
        if i.shadowed_by:
            note += f" (shadowed by {i.shadowed_by})"
        typer.echo(f"{i.name}\t{i.source}\t{note}")
