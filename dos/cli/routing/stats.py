"""`dos stats`: per model and per skill, what actually routed where (the bakeoff view)."""

from __future__ import annotations

import sys

import typer

from dos.bootstrap import build
from dos.cli.output import console, on_terminal, print_json
from dos.core.routing.stats import parse_since

COLUMNS = ("calls", "success", "fallback", "p50", "p95", "tokens in/out", "cost $")


def _cells(row: dict) -> tuple[str, ...]:
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v * 100:.0f}%"

    def sec(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}s"

    return (str(row["calls"]), pct(row["success_rate"]), pct(row["fallback_rate"]), sec(row["p50_s"]),
            sec(row["p95_s"]), f"{row['prompt_tokens']}/{row['completion_tokens']}", f"{row['cost']:.4f}")


def stats(
    since: str = typer.Option("7d", "--since", help="How far back: 30m, 12h, 7d, 2w."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Calls, success rate, fallback rate, p50/p95 latency, tokens and cost per model and per skill, from the
    memory log's route events.  Example: dos stats --since 30d"""
    info = build().router_tools().stats(parse_since(since))
    if json_out:
        print_json(info)
        return
    if not on_terminal():
        for group in ("models", "skills"):
            sys.stdout.write(f"{group[:-1]}\t" + "\t".join(COLUMNS) + "\n")
            for row in info[group]:
                sys.stdout.write(row["name"] + "\t" + "\t".join(_cells(row)) + "\n")
        return
    from rich.table import Table

    out = console()
    for group in ("models", "skills"):
        table = Table(group[:-1], *COLUMNS, title=f"{group} since {info['since'][:16]}")
        for row in info[group]:
            table.add_row(row["name"], *_cells(row))
        out.print(table)
    most = max((r["calls"] for r in info["models"]), default=0)
    width = 40
    for row in info["models"]:
        bar = "█" * max(1, round(row["calls"] / most * width)) if most else ""
        out.print(f"{row['name'][:24]:24} {bar} {row['calls']}")
