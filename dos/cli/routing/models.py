"""`dos models list|test`: the catalog with its attributes and reachability; one tiny call to a model."""

from __future__ import annotations

import sys

import typer

from dos.bootstrap import build
from dos.cli.output import console, on_terminal, print_json

app = typer.Typer(help="The model catalog: models.yaml plus what DOS finds (embedded, localhost, cloud keys).",
                  no_args_is_help=True)


def _price(row: dict) -> str:
    if row["input_price"] is None and row["output_price"] is None:
        return "?"
    return f"{row['input_price'] or 0:g}/{row['output_price'] or 0:g}"


def _reach(row: dict) -> str:
    return {True: "yes", False: "no", None: "?"}[row["reachable"]]


@app.command("list")
def list_models(json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Every model the router may use, with sovereignty, capabilities, price ($/M in/out), quality and whether it
    is reachable.  Example: dos models list"""
    tools = build().router_tools()
    rows = tools.list_models()
    if json_out:
        print_json({"models": rows, "providers_from_env": tools.providers()})
        return
    headers = ("name", "sovereignty", "capabilities", "$/M in/out", "quality", "context", "source", "reachable")
    cells = [(r["name"], r["sovereignty"], ",".join(r["capabilities"]), _price(r), str(r["quality"]),
              str(r["context_window"] or "?"), r["source"], f"{_reach(r)} ({r['checked']})") for r in rows]
    if on_terminal():
        from rich.table import Table

        table = Table(*headers, title="models")
        for c in cells:
            table.add_row(*c)
        console().print(table)
    else:
        for c in cells:
            sys.stdout.write("\t".join(c) + "\n")
    if tools.providers():
        sys.stderr.write(f"dos: cloud providers found by their key: {', '.join(tools.providers())}\n")


@app.command("test")
def test_model(name: str = typer.Argument(..., help="A catalog name (see `dos models list`) or a LiteLLM model."),
               json_out: bool = typer.Option(False, "--json", help="Print JSON instead of text.")) -> None:
    """One tiny call (5 tokens, temperature 0) to exactly this model, no fallback, not recorded.
    Example: dos models test local/smollm2"""
    result = build().router_tools().test(name)
    if json_out:
        print_json(result)
    else:
        sys.stdout.write(f"ok\t{result['name']}\t{result['latency_s']}s\t{result['text'].strip()!r}\n")
