"""`dos trust [PATH]`, `dos trust list`, `dos trust revoke [PATH]`: which project folders may run the hooks and
MCP servers they declare, and use their skills that replace another skill or may leave this machine. Running `dos trust` is the consent: it shows each file and its commands, then records
them; a file that changes afterwards is untrusted again."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import typer
import typer.core

from dos.bootstrap import build
from dos.cli.output import print_json
from dos.context import cwd
from dos.core.errors import UsageError

STATES = {"trusted": "trusted", "changed": "changed since trusted: not run", "missing": "gone",
          "new": "new, not trusted: not run"}
PATH = typer.Argument(None, help="The project folder (default: the current one).", show_default=False)


class FolderByDefault(typer.core.TyperGroup):
    """`dos trust [PATH]` trusts a folder; `list` and `revoke` are subcommands."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["folder", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(cls=FolderByDefault, subcommand_metavar="[PATH] | list | revoke [PATH]",
                  help="Let a project folder's hooks, MCP servers, skills and tool permissions be used. `dos trust [PATH]` "
                  "shows each file of PATH (default: this folder) that declares hooks or servers, with its commands, or "
                  "grants tool permissions (allow rules), and each skill of "
                  "./.dos/skills that replaces another skill or names a model not on this machine, and trusts them as "
                  "they are now; a file that changes later is untrusted again.  Example: dos trust")


def _folder(path: Optional[Path], must_exist: bool = True) -> Path:
    folder = Path(os.path.realpath(cwd() / path.expanduser() if path else cwd()))
    if must_exist and not folder.is_dir():
        raise UsageError(f"not a folder: {path}")
    return folder


@app.command("folder", hidden=True)
def trust_folder(path: Optional[Path] = PATH) -> None:
    """Trust the hooks, MCP servers and skills PATH declares, as they are now."""
    folder = _folder(path)
    dos = build()
    reviewed = dos.trust.review(folder)
    if not reviewed:
        typer.echo(f"nothing to trust in {folder}: no ./.dos/hooks.yaml, hooks in ./.claude/settings.json, "
                   "./.dos/mcp.yaml, ./.mcp.json, allow rules in ./.dos/settings.json or ./.claude/settings.json, "
                   "or skill in ./.dos/skills that needs it")
        return
    typer.echo(f"trusting {folder}:")
    for declared, commands, problems in reviewed:
        typer.echo(f"  ./{declared.rel} ({declared.what}, sha256 {declared.sha256[:12]})")
        for line in commands or ["(nothing DOS can run)"]:
            typer.echo(f"    {line}")
        for problem in problems:
            typer.echo(f"warning: {problem}", err=True)
    dos.trust.trust(folder, [declared for declared, _, _ in reviewed])
    typer.echo(f"trusted {len(reviewed)} file(s): they run from now on, until they change "
               "(`dos trust revoke` undoes this)")


@app.command("list")
def list_trusted(json_out: bool = typer.Option(False, "--json", help="Print JSON instead of text.")) -> None:
    """Trusted folders and the state of each file they declare commands in.  Example: dos trust list"""
    entries = build().trust.entries()
    if json_out:
        print_json({"folders": entries})
        return
    if not entries:
        typer.echo("no trusted folders (`dos trust` in a project trusts its hooks, MCP servers and skills)")
    for entry in entries:
        typer.echo(f"{entry['folder']}\ttrusted {entry['trusted_at']}" + ("" if entry["exists"] else "\t(folder gone)"))
        for f in entry["files"]:
            typer.echo(f"  ./{f['file']}\t{STATES[f['state']]}")


@app.command("revoke")
def revoke(path: Optional[Path] = PATH) -> None:
    """Stop trusting a folder: its hooks, MCP servers and skills are no longer used.  Example: dos trust revoke ~/src/app"""
    folder = _folder(path, must_exist=False)
    if not build().trust.revoke(folder):
        raise UsageError(f"{folder} is not trusted (see `dos trust list`)")
    typer.echo(f"revoked: {folder}: its hooks, MCP servers and skills that need trust are no longer used")
