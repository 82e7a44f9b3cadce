"""The typer app: commands grouped by area; each parses input, calls a use case, renders output."""

from __future__ import annotations

from typing import Any

import typer
import typer.core

from dos import __version__
from dos.cli import memory
from dos.cli.extensions import hooks as hook_commands, mcp, packs, skills, sync, trust
from dos.cli.routing import credits, models, route, stats
from dos.cli.system import config, doctor, kernel, serve, tokens
from dos.cli.turn import chat, run
from dos.cli.errors import guarded

# `dos --help` shows commands by area, in this order, one line and an example each.
RUN, CHAT, MEMORY, SKILLS, MODELS, CREDITS, HOOKS, MCP, SYNC, SERVE, SYSTEM = PANELS = (
    "Run", "Chat", "Memory", "Skills & Packs", "Models & Routing", "Credits", "Hooks", "MCP", "Sync", "Serve",
    "System")


class ByArea(typer.core.TyperGroup):
    """Lists commands panel by panel in PANELS order (typer alone puts commands before groups)."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        panel = {n: getattr(self.commands[n], "rich_help_panel", None) for n in names}
        return sorted(names, key=lambda n: PANELS.index(panel[n]) if panel[n] in PANELS else len(PANELS))

app = typer.Typer(
    name="dos",
    cls=ByArea,
    help="DOS: a local-first personal AI OS for the terminal.\n\nQuick start: echo 'some notes' | dos run summarize",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dos {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", "-V", help="Print the version and exit.", is_eager=True, callback=_version),
) -> None:
    """DOS: a local-first personal AI OS for the terminal."""


app.command("run", help=run.HELP, rich_help_panel=RUN)(run.run)
app.command("chat", help=chat.HELP, rich_help_panel=CHAT)(chat.chat)
app.add_typer(memory.app, name="memory", rich_help_panel=MEMORY,
              help="The memory log: search, remember, correct, export.  Example: dos memory search chmod")
app.add_typer(skills.app, name="skills", rich_help_panel=SKILLS,
              help="Skills you can run: list, show, validate, new.  Example: dos skills list")
app.add_typer(packs.app, name="packs", rich_help_panel=SKILLS,
              help="Packs of skills, hooks and policy; Claude Code plugins too.  Example: dos packs list")
app.add_typer(models.app, name="models", rich_help_panel=MODELS,
              help="The model catalog and reachability.  Example: dos models list")
app.add_typer(route.app, name="route", rich_help_panel=MODELS,
              help="Why a skill routes where it does.  Example: dos route explain summarize")
app.command("stats", rich_help_panel=MODELS,
            help="Calls, success, latency, tokens and cost per model and skill.  Example: dos stats --since 7d")(stats.stats)
app.add_typer(credits.app, name="credits", rich_help_panel=CREDITS,
              help="Your credit balance and spend; add credits.  Example: dos credits grant 10")
app.add_typer(credits.budget_app, name="budget", rich_help_panel=CREDITS,
              help="Spending limits per day/week/month, skill, pack.  Example: dos budget set --period day 2.50")
app.command("ledger", rich_help_panel=CREDITS,
            help="Ledger entries: grants, debits, refunds.  Example: dos ledger --since 7d --csv")(credits.ledger)
app.add_typer(hook_commands.app, name="hooks", rich_help_panel=HOOKS,
              help="Hooks that fire around every turn.  Example: dos hooks list")
app.add_typer(mcp.app, name="mcp", rich_help_panel=MCP,
              short_help="Tools from MCP servers (list, call) and DOS skills served over MCP.  Example: dos mcp list")
app.add_typer(sync.app, name="sync", rich_help_panel=SYNC, short_help="Copies of your skills in Claude Code, Codex, "
              "Gemini CLI, folders, git; drift caught.  Example: dos sync status")
app.command("serve", help=serve.HELP, rich_help_panel=SERVE)(serve.serve)
app.add_typer(tokens.app, name="tokens", rich_help_panel=SERVE,
              help="Bearer tokens for dos serve: create, list, revoke.  Example: dos tokens create editor --budget 5")
app.add_typer(config.app, name="config", rich_help_panel=SYSTEM,
              help="Settings in config.yaml.  Example: dos config set recall false")
app.add_typer(kernel.app, name="kernel", rich_help_panel=SYSTEM,
              help="The warm background process behind dos run.  Example: dos kernel status")
app.command("doctor", rich_help_panel=SYSTEM,
            help="What DOS sees, what is broken, what to do next.  Example: dos doctor")(doctor.doctor)
app.add_typer(trust.app, name="trust", rich_help_panel=SYSTEM,
              short_help="Let a project folder's hooks, MCP servers and skills run; list, revoke.  Example: dos trust")


def run_app() -> None:
    guarded(lambda: app(prog_name="dos", standalone_mode=False))
