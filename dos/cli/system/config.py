"""`dos config ...`: see and change settings in config.yaml."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import typer

from dos.bootstrap import build
from dos.cli.output import print_json
from dos.core.config import BY_KEY, SETTINGS, parse_value
from dos.core.errors import InvalidConfig, UsageError

app = typer.Typer(help="Settings: config.yaml in your config folder.", no_args_is_help=True)


def _known(key: str) -> str:
    if key not in BY_KEY:
        raise UsageError(f"unknown setting '{key}' (known: {', '.join(BY_KEY)})")
    return key


@app.command("path")
def path() -> None:
    """Print where config.yaml lives.  Example: dos config path"""
    typer.echo(str(build().config_file.path))


@app.command("show")
def show(json_out: bool = typer.Option(False, "--json", help="Print JSON instead of text.")) -> None:
    """Show every setting, its value and meaning; lists every problem in the file.  Example: dos config show"""
    config = build().config_file
    values, found = config.check()
    if json_out:
        print_json({"path": str(config.path), "settings": values, "problems": found})
    else:
        for s in SETTINGS:
            typer.echo(f"{s.key}: {_shown(values[s.key])}\t# {s.help}")
        for problem in found:
            typer.echo(f"problem: {problem}", err=True)
    if found:
        raise typer.Exit(InvalidConfig.exit_code)


def _shown(value: object) -> str:
    """A value as it would be written in config.yaml (true, 600, local/smollm2, '')."""
    if isinstance(value, bool):
        return str(value).lower()
    return "''" if value == "" else str(value)


@app.command("get")
def get(key: str = typer.Argument(..., help="A setting name (see `dos config show`).")) -> None:
    """Print one setting's value.  Example: dos config get default_model"""
    value = build().settings[_known(key)]
    typer.echo("" if value == "" else _shown(value))


@app.command("set")
def set_(key: str = typer.Argument(...), value: str = typer.Argument(...)) -> None:
    """Change one setting; a bad value leaves the file as it was.  Example: dos config set recall false"""
    build().config_file.set(_known(key), parse_value(key, value))


def _editor(configured: str) -> list[str]:
    command = configured or os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    argv = shlex.split(command)
    if not shutil.which(argv[0]):
        raise UsageError(f"editor '{argv[0]}' not found: set one with `dos config set editor NAME` or $EDITOR")
    return argv


@app.command("edit")
def edit() -> None:
    """Edit config.yaml in your editor; it is saved only if valid.  Example: EDITOR=nano dos config edit"""
    dos = build()
    config = dos.config_file
    text = config.text_or_template()
    _, found = config.check(text)
    editor = _editor("" if found else dos.settings["editor"])
    fd, draft = tempfile.mkstemp(prefix="dos-config-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    subprocess.run([*editor, draft], check=False)
    try:
        config.replace(Path(draft).read_text(encoding="utf-8"))
    except InvalidConfig as exc:
        raise InvalidConfig(f"{exc.message}; your edit is kept in {draft}") from None
    os.unlink(draft)
