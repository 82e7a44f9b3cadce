"""`dos tokens create|list|revoke`: bearer tokens for `dos serve`. A token is printed once, when created; DOS
keeps only its digest. Its budget is a ledger budget of scope `token` (`dos budget set --token NAME`)."""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer

from dos.bootstrap import build
from dos.cli.output import console, on_terminal, print_json
from dos.core.routing.ledger import PERIODS, format_amount, parse_amount
from dos.core.domain import Token
from dos.core.serve.tokens import check_name, digest, hint, mint, names

app = typer.Typer(no_args_is_help=True, help="Bearer tokens for `dos serve`.  Example: dos tokens create editor")


@app.command("create")
def create(
    name: str = typer.Argument(..., help="A name for whoever uses it (shown in the memory log and the ledger)."),
    budget: Optional[str] = typer.Option(None, "--budget", help="Most credits its requests may spend (1 credit = 1 USD)."),
    period: str = typer.Option("total", "--period", "-p", help=f"The budget's period: {', '.join(PERIODS)}."),
    sovereignty: Optional[str] = typer.Option(None, "--sovereignty",
                                              help="Allowed classes, e.g. local or local,eu (only narrows a skill's)."),
    skills: Optional[str] = typer.Option(None, "--skills", help="Only these skills (as model skill:NAME), e.g. "
                                                                "summarize,explain; no catalog model directly."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON (the token included)."),
) -> None:
    """Create a token and print it once.  Example: dos tokens create editor --budget 5 --sovereignty local"""
    from datetime import datetime, timezone

    from dos.core.routing.ledger import check_period

    check_name(name)
    limit = parse_amount(budget, what="--budget") if budget is not None else None
    period = check_period(period) or "total"
    dos = build()
    unknown = [s for s in names(skills) if s not in {i.name for i in dos.skills.list()}]
    if unknown:
        from dos.core.errors import UsageError

        raise UsageError(f"--skills: no skill named {', '.join(unknown)} (see `dos skills list`)")
    secret = mint()
    created = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    allowed = names(sovereignty)
    token = Token(name, hint(secret), created, frozenset(allowed) if allowed else None, names(skills))
    dos.tokens.add(token, digest(secret))
    if limit is not None:
        dos.ledger.set_budget("token", name, period, limit)
    if json_out:
        print_json(token.describe() | {"token": secret, "budget": _budget(limit, period)})
        return
    sys.stdout.write(secret + "\n")
    sys.stderr.write(f"dos: token '{name}' created; it is shown only now, so store it (e.g. in your client's "
                     f"OPENAI_API_KEY)\n")


def _budget(limit: int | None, period: str) -> dict[str, Any] | None:
    return None if limit is None else {"limit": format_amount(limit), "period": period}


def _rows() -> list[dict[str, Any]]:
    dos = build()
    budgets = {s["name"]: s for s in dos.ledger.budget_list() if s["scope"] == "token"}
    spent = {r["token"]: r["spent"] for r in dos.ledger.spend_by("token")}
    return [t.describe() | {"spent": format_amount(spent.get(t.name, 0)),
                            "budget": budgets.get(t.name) and {k: budgets[t.name][k] for k in
                                                                ("limit", "period", "left")}}
            for t in dos.tokens.all()]


@app.command("list")
def list_tokens(json_out: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Tokens with their policy, spend and budget (never the token itself).  Example: dos tokens list"""
    rows = _rows()
    if json_out:
        print_json(rows)
        return
    cells = [[r["name"], r["hint"], "revoked " + r["revoked"] if r["revoked"] else "active",
              ",".join(r["sovereignty"] or []) or "any", ",".join(r["skills"]) or "any", r["spent"],
              f"{r['budget']['left']} of {r['budget']['limit']} ({r['budget']['period']})" if r["budget"] else "-",
              r["created"]] for r in rows]
    if not on_terminal():
        sys.stdout.write("".join("\t".join(c) + "\n" for c in cells))
        return
    if not rows:
        sys.stdout.write("no tokens; create one with `dos tokens create NAME`\n")
        return
    from rich.table import Table

    table = Table("name", "token", "state", "sovereignty", "skills", "spent", "budget left", "created", title="tokens")
    for c in cells:
        table.add_row(*c)
    console().print(table)


@app.command("revoke")
def revoke(name: str = typer.Argument(..., help="The token's name.")) -> None:
    """Revoke a token: its next request gets 401.  Example: dos tokens revoke editor"""
    token = build().tokens.revoke(name)
    sys.stdout.write(f"revoked token '{name}' ({token.revoked})\n")
