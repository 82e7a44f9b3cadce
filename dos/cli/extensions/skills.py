"""`dos skills ...`: list, show, validate, create and import skills."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from dos.bootstrap import build
from dos.cli.complete import skill_names
from dos.cli import listing
from dos.cli.output import console, on_terminal, print_json
from dos.core.printable import printable

app = typer.Typer(help="Skills: SKILL.md folders you can run.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")


@app.command("list")
def list_skills(json_out: bool = JSON) -> None:
    """List skills: ./.dos/skills, your skills folder, enabled packs, built-ins.  Example: dos skills list"""
    skills = build().skills
    entries = skills.entries()
    if json_out:
        print_json(listing.rows(entries))
        return
    sys.stderr.write(listing.broken_packs(skills))
    if not on_terminal():
        sys.stdout.write(listing.plain(entries))
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table()
    for column in ("name", "source", "description"):
        table.add_column(column, overflow="fold")
    for e in entries:
        note = escape(listing.note(e))
        if e.errors:
            note = f"[red]{note}[/]"
        table.add_row(escape(e.name), e.source.label, note, style="dim" if e.shadowed_by or e.untrusted else None)
    console().print(table)


@app.command("show")
def show(name: str = typer.Argument(..., help="Skill name, or pack:skill.", autocompletion=skill_names), json_out: bool = JSON) -> None:
    """Show a skill's settings, files and instructions.  Example: dos skills show summarize"""
    skills = build().skills
    entry = skills.find(name)
    skill = skills.get(name, review=True)  # an untrusted project skill is shown, to be reviewed
    files = skills.resources(entry)
    data = {"name": skill.name, "description": skill.description, "source": skill.source, "path": skill.path,
            "settings": skill.dos, "files": files, "warnings": list(entry.warnings),
            "shadowed_by": entry.shadowed_by, "untrusted": entry.untrusted, "instructions": skill.body}
    if json_out:
        print_json(data)
        return
    for key in ("name", "description", "source", "path"):
        typer.echo(printable(f"{key}: {data[key]}"))
    for key, value in skill.dos.items():
        typer.echo(printable(f"dos.{key}: {value}"))
    if entry.untrusted:
        typer.echo(f"not trusted, so not used: {entry.untrusted} (`dos trust` to use it)")
    for warning in entry.warnings:
        typer.echo(f"warning: {warning}")
    typer.echo("")
    typer.echo(printable(skill.body.strip(), lines=True))


@app.command("validate")
def validate(paths: Optional[list[Path]] = typer.Argument(None, help="Skill folders, SKILL.md files, packs or folders of skills; all skills if none."),
             json_out: bool = JSON) -> None:
    """Check skills against the Agent Skills spec; exit 5 if any is invalid.  Example: dos skills validate ./my-skill"""
    from dos.core.errors import InvalidSkill

    results = build().check_skills(paths or [])
    n_errors = sum(len(e) for _, e, _ in results)
    n_warnings = sum(len(w) for _, _, w in results)
    if json_out:
        print_json([{"path": p, "valid": not e, "errors": e, "warnings": w} for p, e, w in results])
    else:
        for _, errors, warnings in results:
            for problem in errors:
                typer.echo(f"{problem}")
            for problem in warnings:
                typer.echo(f"{problem} (warning)")
        typer.echo(f"{len(results)} checked: {n_errors} errors, {n_warnings} warnings")
    if n_errors:
        bad = sum(1 for _, e, _ in results if e)
        raise InvalidSkill(f"{bad} of {len(results)} invalid ({n_errors} errors)")


@app.command("new")
def new(name: str = typer.Argument(..., help="The new skill's name: lowercase letters, digits, hyphens."),
        project: bool = typer.Option(False, "--project", help="Create it in ./.dos/skills instead of your skills folder.")) -> None:
    """Create a skill folder with a SKILL.md to edit.  Example: dos skills new standup-notes"""
    from dos.core.errors import StorageError, UsageError
    from dos.core.skills.rules import name_problems

    if problems := name_problems(name):
        raise UsageError(f"bad skill name: {problems[0]}")
    folder = build().skills.folder("project" if project else "user") / name
    if folder.exists():
        raise UsageError(f"{folder} already exists")
    try:
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(
            f"---\nname: {name}\ndescription: What {name} does and when to use it, in one or two sentences.\n"
            "metadata:\n  dos:\n    temperature: 0.2\n    max_tokens: 200\n---\n"
            "You are a helpful assistant. Say in two or three short, direct sentences what to do with the user's text.\n",
            "utf-8")
    except OSError as exc:
        raise StorageError(f"cannot create {folder}: {exc.strerror or exc}") from None
    typer.echo(folder / "SKILL.md")


@app.command("path")
def path(name: str = typer.Argument(..., help="Skill name, or pack:skill.", autocompletion=skill_names)) -> None:
    """Print the folder of the skill that NAME resolves to.  Example: cd "$(dos skills path summarize)\""""
    entry = build().skills.find(name)
    typer.echo(str(entry.path.parent if entry.source.kind == "skill" else entry.path))


@app.command("import-fabric")
def import_fabric(patterns: Path = typer.Argument(..., help="A fabric patterns folder (<name>/system.md)."),
                  force: bool = typer.Option(False, "--force", help="Replace skills that already exist."),
                  project: bool = typer.Option(False, "--project", help="Import into ./.dos/skills.")) -> None:
    """Import fabric patterns as skills.  Example: dos skills import-fabric ~/.config/fabric/patterns"""
    into, imported, skipped = build().skills.import_fabric(patterns, "project" if project else "user", force)
    for reason in skipped:
        sys.stderr.write(f"dos: skipped {reason}\n")
    typer.echo(f"imported {len(imported)} patterns into {into}" + (f", skipped {len(skipped)}" if skipped else ""))
