"""`dos packs ...`: install, list and switch packs (skills plus their hooks, MCP servers and defaults)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer

from dos.bootstrap import build
from dos.cli.complete import pack_names
from dos.cli.output import print_json, progress

app = typer.Typer(help="Packs: bundles of skills with their hooks, MCP servers and defaults.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
NAME = typer.Argument(..., help="The pack's name (see `dos packs list`).", autocompletion=pack_names)


def _store():
    return build().skills.packs


def _state(e) -> str:
    if e.error:
        return "broken"
    if e.shadowed:
        return "shadowed"
    return "enabled" if e.enabled else "disabled"


@app.command("list")
def list_packs(json_out: bool = JSON) -> None:
    """List installed and built-in packs.  Example: dos packs list"""
    entries = _store().entries()
    if json_out:
        print_json([{"name": e.name, "version": e.pack.version if e.pack else None, "state": _state(e),
                     "builtin": e.builtin, "kind": e.pack.kind if e.pack else None, "path": str(e.folder),
                     "description": e.pack.description if e.pack else "", "error": e.error} for e in entries])
        return
    for e in entries:
        what = e.error if e.error else f"{e.pack.version}\t{e.pack.description}"
        typer.echo(f"{e.name}\t{_state(e)}{' (built-in)' if e.builtin else ''}\t{what}")


@app.command("show")
def show(name: str = NAME, json_out: bool = JSON) -> None:
    """Show a pack's manifest and skills.  Example: dos packs show writing"""
    from dos.core.errors import InvalidSkill

    store = _store()
    entry = store.find(name)
    if entry.pack is None:
        raise InvalidSkill(str(entry.error))
    skills = [e for e in build().skills.entries() if e.source.pack and e.source.pack.path == entry.pack.path]
    data = asdict(entry.pack) | {"state": _state(entry), "warnings": list(entry.warnings),
                                 "skills": [e.name for e in skills]}
    if json_out:
        print_json(data)
        return
    for key in ("name", "version", "description", "kind", "path", "state"):
        typer.echo(f"{key}: {data[key]}")
    typer.echo(f"skills: {', '.join(data['skills']) or '(none)'}")
    for key in ("routing", "budget"):
        if data[key]:
            typer.echo(f"{key}: {data[key]}")
    typer.echo(f"hooks: {'yes' if data['hooks'] else 'no'}; mcp servers: {'yes' if data['mcp'] else 'no'}")
    for warning in entry.warnings:
        typer.echo(f"warning: {warning}")


@app.command("install")
def install(source: str = typer.Argument(..., help="A pack folder, a Claude Code plugin folder, or a git URL."),
            force: bool = typer.Option(False, "--force", help="Replace an installed pack of the same name.")) -> None:
    """Validate a pack, then copy it into your packs folder.  Example: dos packs install ./my-pack"""
    with progress(f"installing {source}"):
        pack, warnings = _store().install(source, force)
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"installed {pack.name} {pack.version}")


@app.command("remove")
def remove(name: str = NAME) -> None:
    """Delete an installed pack.  Example: dos packs remove my-pack"""
    typer.echo(f"removed {_store().remove(name)}")


@app.command("enable")
def enable(name: str = NAME) -> None:
    """Use a pack's skills again.  Example: dos packs enable dev"""
    _store().set_enabled(name, True)
    typer.echo(f"enabled {name}")


@app.command("disable")
def disable(name: str = NAME) -> None:
    """Stop using a pack's skills, without deleting it.  Example: dos packs disable memory"""
    _store().set_enabled(name, False)
    typer.echo(f"disabled {name}")


@app.command("new")
def new(name: str = typer.Argument(..., help="The new pack's name."),
        into: Path = typer.Option(Path("."), "--dir", help="Where to create the pack folder.")) -> None:
    """Create a pack folder with a pack.yaml and one skill.  Example: dos packs new research"""
    typer.echo(str(_store().new(name, into)))
