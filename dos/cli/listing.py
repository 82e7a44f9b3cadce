"""`dos skills list` without typer: plain text or JSON, so a script listing 1,000 skills pays only for
the listing. `dos.cli.entry` may call `fast_list` before importing the typer app."""

from __future__ import annotations

import sys
from typing import Any

from dos.core.printable import printable


def rows(entries: list[Any]) -> list[dict[str, Any]]:
    return [{"name": e.name, "description": e.description, "source": e.source.label, "path": str(e.path),
             "error": e.errors[0] if e.errors else None, "warnings": list(e.warnings),
             "shadowed_by": e.shadowed_by, "untrusted": e.untrusted} for e in entries]


def note(e: Any) -> str:
    """What a listing says of a skill after its name and source: its description, or why it is not used."""
    text = f"BROKEN: {e.errors[0]}" if e.errors else e.description
    if e.untrusted:
        return text + f" (not trusted, so not used: {e.untrusted}; `dos trust` to use it)"
    return text + (f" (shadowed by {printable(e.shadowed_by)})" if e.shadowed_by else "")


def plain(entries: list[Any]) -> str:
    return "".join(f"{e.name}\t{e.source.label}\t{note(e)}\n" for e in entries)


def broken_packs(skills: Any) -> str:
    return "".join(f"dos: warning: pack '{p.name}' skipped: {p.error}\n" for p in skills.packs.entries() if p.error)


def fast_list(argv: list[str]) -> int | None:
    """Handle `skills list [--json]` on a pipe and return the exit code; None means "not mine"."""
    if argv[:2] != ["skills", "list"] or argv[2:] not in ([], ["--json"]) or (not argv[2:] and sys.stdout.isatty()):
        return None
    from dos.bootstrap import build
    from dos.cli.output import print_json
    from dos.core.errors import DosError

    try:
        skills = build().skills
        entries = skills.entries()
        if argv[2:]:
            print_json(rows(entries))
        else:
            sys.stderr.write(broken_packs(skills))
            sys.stdout.write(plain(entries))
        sys.stdout.flush()
    except DosError as exc:
        sys.stderr.write(f"dos: {exc.message}\n")
        return exc.exit_code
    return 0
