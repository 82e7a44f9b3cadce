"""`dos route explain SKILL`: the candidates, why each was kept or removed, and the order `dos run` will try."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from dos.bootstrap import build
from dos.cli.complete import skill_names
from dos.cli.output import console, on_terminal, print_json
from dos.core.domain import TurnRequest
from dos.core.routing.policy import explain_turn, require

app = typer.Typer(help="How the router decides.", no_args_is_help=True)


@app.command("explain")
def explain(
    skill: str = typer.Argument(..., help="The skill whose route to explain.", autocompletion=skill_names),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Pin a model, as `dos run --model`."),
    prefer: Optional[str] = typer.Option(None, "--prefer", help="local-first, cheapest, best or fastest."),
    sovereignty: Optional[str] = typer.Option(None, "--sovereignty", help="Allowed classes, e.g. local,eu."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", help="Output cap for the budget check, as `dos run --max-tokens`."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Candidates, kept/removed with reasons (budgets too), final order (no model is called; exits 9 if nothing is
    left, 14 if budgets leave nothing).
    Example: dos route explain summarize --prefer cheapest"""
    dos = build()
    found = dos.skills.get(skill)
    decision, _ = explain_turn(found, dos.catalog, TurnRequest(skill=found.name, text="", max_tokens=max_tokens),
                               {"model": model, "prefer": prefer, "sovereignty": sovereignty}, dos.route_budgets)
    info = decision.describe() | {"skill": found.name}
    if json_out:
        print_json(info)
    elif on_terminal():
        from rich.table import Table

        req = info["request"]
        console().print(f"[bold]{found.name}[/]: prefer {req['prefer']}, sovereignty "
                        f"{','.join(req['sovereignty']) if req['sovereignty'] is not None else 'any'}"
                        f"{', pinned ' + req['pin'] if req['pin'] else ''} (from {', '.join(req['sources']) or 'defaults'})")
        table = Table("model", "kept", "why")
        for c in info["candidates"]:
            table.add_row(c["name"], "yes" if c["kept"] else "[red]no[/]", c["reason"])
        console().print(table)
        console().print("chain: " + (" -> ".join(info["chain"]) or "(empty)"))
    else:
        for c in info["candidates"]:
            sys.stdout.write(f"{'kept' if c['kept'] else 'removed'}\t{c['name']}\t{c['reason']}\n")
        sys.stdout.write("chain\t" + " -> ".join(info["chain"]) + "\n")
    require(decision, found.name)
