"""The typer app: commands grouped by area; each parses input, calls a use case, renders output."""

from __future__ import annotations

import typer

from dos import __version__
from dos.cli import config, doctor, kernel, memory, packs, run, skills
from dos.cli import hooks as hook_commands
from dos.cli import models, route, stats
from dos.cli.errors import guarded

app = typer.Typer(
    name="dos",
    help="DOS: a local-first personal AI OS for the terminal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
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


app.command("run", help=run.HELP)(run.run)
app.add_typer(memory.app, name="memory")
app.add_typer(skills.app, name="skills")
app.add_typer(packs.app, name="packs")
app.add_typer(hook_commands.app, name="hooks")
app.add_typer(config.app, name="config")
app.add_typer(models.app, name="models")
app.add_typer(route.app, name="route")
app.command("stats")(stats.stats)
app.add_typer(kernel.app, name="kernel")
app.command("doctor")(doctor.doctor)


def run_app() -> None:
    guarded(lambda: app(standalone_mode=False))
