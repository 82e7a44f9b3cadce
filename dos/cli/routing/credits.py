"""`dos credits`, `dos budget`, `dos ledger`: the credit ledger (dos.core.routing.ledger) seen and fed.

Rich tables and a spend-per-day bar chart on a terminal; plain tab-separated text on a pipe; `--json` for
scripts. No model library is imported here.
"""

from __future__ import annotations

import csv
import sys
import time
from datetime import datetime, timezone
from typing import Any, Optional

import typer

from dos.bootstrap import build
from dos.cli.output import console, on_terminal, print_json
from dos.core.routing.ledger import MONEY_KINDS, format_amount, iso
from dos.core.routing.stats import parse_since

app = typer.Typer(no_args_is_help=False, invoke_without_command=True,
                  help="Your credit balance and spend.  Example: dos credits grant 10")
budget_app = typer.Typer(no_args_is_help=True,
                         help="Spending limits: overall, per skill, per pack; per day, week, month or in total.")

BAR_WIDTH = 40


@app.callback(invoke_without_command=True)
def credits(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Balance, spend this day/week/month, top skills and models this month, spend per day (1 credit = 1 USD)."""
    if ctx.invoked_subcommand is not None:
        return
    info = build().ledger.summary()
    if json_out:
        print_json(info)
        return
    balance = info["balance_credits"] if info["granted"] else f"{info['balance_credits']} (no credits granted: unlimited)"
    lines = [f"balance\t{balance}", f"held\t{info['held_credits']}", f"available\t{info['available_credits']}"]
    lines += [f"spent {p}\t{info['spend_credits'][p]}" for p in ("day", "week", "month")]
    if not on_terminal():
        sys.stdout.write("\n".join(lines) + "\n")
        for group in ("top_skills", "top_models"):
            for row in info[group]:
                sys.stdout.write(f"{group[4:-1]}\t{row['name']}\t{row['spent_credits']}\t{row['calls']}\n")
        for row in info["budgets"]:
            sys.stdout.write(f"budget\t{_budget_name(row)}\t{row['limit']}\tleft {row['left']}\n")
        return
    from rich.table import Table

    out = console()
    summary = Table("", "credits", title="credits (1 credit = 1 USD of provider cost)", show_header=False)
    for line in lines:
        summary.add_row(*line.split("\t"))
    out.print(summary)
    for group, title in (("top_skills", "top skills this month"), ("top_models", "top models this month")):
        if info[group]:
            table = Table(group[4:-1], "spent", "calls", "tokens in/out", title=title)
            for row in info[group]:
                table.add_row(row["name"], row["spent_credits"], str(row["calls"]),
                              f"{row['prompt_tokens']}/{row['completion_tokens']}")
            out.print(table)
    if info["budgets"]:
        _budget_table(info["budgets"])
    _chart(info["daily"])


def _chart(daily: list[dict[str, Any]]) -> None:
    out = console()
    most = max((d["spent"] for d in daily), default=0)
    out.print("[bold]spend per day[/]")
    for day in daily:
        bar = "█" * max(1, round(day["spent"] / most * BAR_WIDTH)) if most and day["spent"] > 0 else ""
        out.print(f"{day['day']} {bar:<{BAR_WIDTH}} {day['spent_credits']}")


@app.command("grant")
def grant(
    amount: str = typer.Argument(..., help="Credits to add, e.g. 10 or 2.50 (1 credit = 1 USD; up to 6 decimals)."),
    note: str = typer.Option("", "--note", help="Why, for the record."),
    key: Optional[str] = typer.Option(None, "--key", help="Idempotency key: a grant with a key already used is not added again."),
    json_out: bool = typer.Option(False, "--json", help="Print the entry as JSON."),
) -> None:
    """Add credits to the balance.  Example: dos credits grant 10 --note 'March'"""
    _written(build().credits.grant(amount, note=note, key=key), json_out, "granted", "credits")


def _written(entry: dict[str, Any], json_out: bool, verb: str, what: str) -> None:
    """Report an entry just written (or found already written under its --key), with the balance after it."""
    if json_out:
        print_json(entry)
        return
    done = verb if entry["written"] else f"already {verb} (same --key), not added again:"
    amount = format_amount(entry["amount"], sign=entry["kind"] == "adjust")
    sys.stdout.write(f"{done} {amount} {what}; balance {format_amount(entry['balance'])}\n")


@app.command("refund")
def refund(
    turn: str = typer.Argument(..., help="The turn whose cost to give back (its id, from `dos ledger` or `dos memory log`)."),
    amount: Optional[str] = typer.Argument(None, help="Credits to give back (default: all of the turn's cost left)."),
    note: str = typer.Option("", "--note", help="Why, for the record."),
    key: Optional[str] = typer.Option(None, "--key", help="Idempotency key: a refund with a key already used is not added again."),
    json_out: bool = typer.Option(False, "--json", help="Print the entry as JSON."),
) -> None:
    """Give back a turn's cost; its skill's, pack's and token's budgets count it.  Example: dos credits refund 01J… --note 'bad answer'"""
    entry = build().credits.refund(turn, amount, note=note, key=key)
    _written(entry, json_out, "refunded", f"credits for turn {turn}")


@app.command("adjust", context_settings={"ignore_unknown_options": True})  # -1.25 is an amount, not an option
def adjust(
    amount: str = typer.Argument(..., help="Credits to add (positive) or take away (negative), e.g. -1.25."),
    note: str = typer.Option(..., "--note", help="Why (required: an adjustment must say why)."),
    key: Optional[str] = typer.Option(None, "--key", help="Idempotency key: an adjustment with a key already used is not added again."),
    json_out: bool = typer.Option(False, "--json", help="Print the entry as JSON."),
) -> None:
    """Correct the balance up or down, with a reason.  Example: dos credits adjust -1.25 --note 'provider invoice'"""
    _written(build().credits.adjust(amount, note, key), json_out, "adjusted", "credits")


def _budget_name(row: dict[str, Any]) -> str:
    return f"{row['scope']} {row['name']} {row['period']}" if row.get("name") else f"all {row['period']}"


def _budget_table(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table("budget", "period", "limit", "spent", "held", "left", "source", title="budgets")
    for row in rows:
        who = f"{row['scope']} {row['name']}" if row.get("name") else "all"
        table.add_row(who, row["period"], row["limit"], row["spent"], row["held"], row["left"], row["source"])
    console().print(table)


@budget_app.command("list")
def budget_list(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Budgets set with `dos budget set`, with what is spent, held and left now.  Example: dos budget list"""
    rows = build().ledger.budget_list()
    if json_out:
        print_json(rows)
    elif not on_terminal():
        for row in rows:
            sys.stdout.write("\t".join([row["scope"], row["name"] or "-", row["period"], row["limit"], row["spent"],
                                        row["held"], row["left"]]) + "\n")
    elif not rows:
        sys.stdout.write("no budgets set; e.g. dos budget set --period day 2.50\n")
    else:
        _budget_table(rows)


@budget_app.command("set")
def budget_set(
    amount: str = typer.Argument(..., help="The limit in credits (1 credit = 1 USD), e.g. 2.50."),
    period: str = typer.Option("month", "--period", "-p", help="day, week, month (UTC calendar) or total."),
    skill: Optional[str] = typer.Option(None, "--skill", help="Limit this skill only."),
    pack: Optional[str] = typer.Option(None, "--pack", help="Limit this pack's skills only."),
    token: Optional[str] = typer.Option(None, "--token", help="Limit this `dos serve` token only (by name)."),
) -> None:
    """Set a spending limit.  Example: dos budget set --period day 2.50"""
    budget = build().credits.set_budget(amount, period, skill, pack, token)
    sys.stdout.write(f"set {budget.label()}\n")


@budget_app.command("clear")
def budget_clear(
    period: Optional[str] = typer.Option(None, "--period", "-p", help="Only this period (default: every period)."),
    skill: Optional[str] = typer.Option(None, "--skill", help="The skill's budgets."),
    pack: Optional[str] = typer.Option(None, "--pack", help="The pack's budgets."),
    token: Optional[str] = typer.Option(None, "--token", help="The `dos serve` token's budgets (by name)."),
) -> None:
    """Remove a spending limit.  Example: dos budget clear --period day"""
    count = build().credits.clear_budget(period, skill, pack, token)
    sys.stdout.write(f"cleared {count} budget(s)\n")


COLUMNS = ("ts", "kind", "credits", "reserved", "model", "skill", "pack", "token", "prompt_tokens", "completion_tokens",
           "turn_id", "route_event_id", "key", "ref", "note", "cost_source", "id")


def ledger(
    since: str = typer.Option("7d", "--since", help="How far back: 30m, 12h, 7d, 2w."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON."),
    csv_out: bool = typer.Option(False, "--csv", help="Print CSV."),
    holds: bool = typer.Option(False, "--holds", help="Show holds and releases too."),
) -> None:
    """The ledger's entries: grants, debits, refunds, adjustments (amounts in credits).  Example: dos ledger --since 30d --csv"""
    start = iso(datetime.fromtimestamp(time.time() - parse_since(since), timezone.utc))
    rows = build().ledger.entries(start, () if holds else MONEY_KINDS)
    for row in rows:
        row["reserved"] = format_amount(row["reserved"]) if row["reserved"] else ""
    if json_out:
        print_json(rows)
        return
    if csv_out:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row.get(c) for c in COLUMNS])
        return
    short = ("ts", "kind", "credits", "model", "skill", "prompt_tokens", "completion_tokens", "note")
    if not on_terminal():
        for row in rows:
            sys.stdout.write("\t".join(str(row.get(c) or "-") for c in short) + "\n")
        return
    from rich.table import Table

    table = Table("time", "kind", "credits", "model", "skill", "tokens in/out", "note", title=f"ledger since {start[:16]}")
    for row in rows:
        table.add_row(row["ts"][:19], row["kind"], row["credits"], row["model"] or "-", row["skill"] or "-",
                      f"{row['prompt_tokens']}/{row['completion_tokens']}", row["note"] or "")
    console().print(table)
