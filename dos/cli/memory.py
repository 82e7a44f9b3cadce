"""`dos memory ...`: read, search, annotate, verify, export and import the memory log."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import typer

from dos.bootstrap import build
from dos.cli.memory_fast import excerpt as _excerpt
from dos.cli.memory_fast import plain_events, plain_turns, status, words_match
from dos.cli.output import console, on_terminal, print_json, progress
from dos.core.domain import Event, EventRecord
from dos.core.errors import UsageError, VerifyFailed
from dos.core.ids import new_id

app = typer.Typer(help="The memory log: every turn, append-only.", no_args_is_help=True)

JSON = typer.Option(False, "--json", help="Print JSON instead of text.")


def _when(value: Optional[str], option: str) -> Optional[str]:
    """`7d`, `12h`, `30m` (ago) or an ISO date/time, as a UTC timestamp prefix comparable with event times."""
    if not value:
        return None
    ago = re.fullmatch(r"(\d+)([dhm])", value.strip())
    if ago:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[ago.group(2)]
        when = datetime.now(timezone.utc) - timedelta(**{unit: int(ago.group(1))})
        return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option} takes 7d, 12h, 30m or an ISO date like 2025-01-31, not {value!r}") from None
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when.isoformat(timespec="milliseconds") + "Z" if "T" in value or " " in value else value.strip()


@app.command("log")
def log(
    limit: int = typer.Option(20, "-n", "--limit", min=1, help="How many recent turns to show."),
    json_out: bool = JSON,
) -> None:
    """Show recent turns, oldest first.  Example: dos memory log -n 5"""
    turns = build().memory.recent_turns(limit)
    if json_out:
        print_json([asdict(t) | {"usage": asdict(t.usage)} for t in turns])
        return
    if on_terminal():
        from rich.table import Table

        table = Table(show_lines=True)
        for column in ("when", "skill", "model", "prompt", "response", "tokens", "status"):
            table.add_column(column, overflow="fold")
        for t in turns:
            table.add_row(
                t.ts[:19].replace("T", " "), t.skill or "", t.model or "", _excerpt(t.prompt, 60),
                _excerpt(t.response, 80), str(t.usage.total_tokens), status(t),
            )
        console().print(table)
        return
    sys.stdout.write(plain_turns(turns))


@app.command("show")
def show(ident: str = typer.Argument(..., metavar="ID", help="An event id (or a unique prefix)."),
         json_out: bool = JSON) -> None:
    """Show one event in full, with its corrections, retractions and purge.  Example: dos memory show 01J9Z"""
    memory = build().memory
    event = memory.get(ident)
    refs = [{"id": r.id, "ts": r.ts, "kind": r.kind, "text": r.text} | _reason(r) for r in memory.references(event.id)]
    current = memory.current_text(event.id)
    record = asdict(event) | {"references": refs, "current_text": current}
    if json_out:
        print_json(record)
        return
    for key in ("id", "ts", "kind", "actor", "session_id", "turn_id", "skill", "model", "ref", "hash"):
        if record[key]:
            typer.echo(f"{key + ':':12}{record[key]}")
    if record["data"]:
        typer.echo(f"{'data:':12}{json.dumps(record['data'], ensure_ascii=False)}")
    for ref in refs:
        why = f"reason: {ref['reason']}" if ref.get("reason") else ""
        typer.echo(f"{ref['kind'] + ':':12}{ref['id']}  {ref['ts']}  {_excerpt(ref['text'], 80) or why}")
    typer.echo("")
    typer.echo(record["text"] if record["text"] else "(no text)")
    if current and current != record["text"]:
        typer.echo(f"\ncurrent text (latest correction):\n{current}")


def _reason(reference: EventRecord) -> dict[str, str]:
    """A retraction's or purge's reason, if it gave one."""
    reason = reference.data.get("reason")
    return {"reason": reason} if reason else {}


@app.command("search")
def search(
    query: list[str] = typer.Argument(..., help="Words to find (all of them); see --fts."),
    kind: Optional[list[str]] = typer.Option(None, "--kind", "-k", help="Only this kind (repeatable)."),
    skill: Optional[str] = typer.Option(None, "--skill", help="Only events of this skill."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Only events of this model."),
    session: Optional[str] = typer.Option(None, "--session", help="Only events of this session."),
    since: Optional[str] = typer.Option(None, "--since", help="From this time: 7d, 12h, 30m or 2025-01-31."),
    until: Optional[str] = typer.Option(None, "--until", help="Before this time (same forms)."),
    limit: int = typer.Option(20, "-n", "--limit", min=1, help="Most results."),
    fts: bool = typer.Option(False, "--fts", help="QUERY is raw FTS5 syntax (OR, NOT, \"phrases\", prefix*)."),
    json_out: bool = JSON,
) -> None:
    """Full-text search, best match first; retracted events hidden, corrections shown.
    Example: dos memory search invoice --kind note --since 30d"""
    text = " ".join(query)
    match = text if fts else words_match(text)
    if not match.strip():
        raise UsageError("nothing to search for: give a word or two")
    events = build().memory.search(
        match, kinds=tuple(kind or ()), skill=skill, model=model, session=session,
        since=_when(since, "--since"), until=_when(until, "--until"), limit=limit,
    )
    if json_out:
        print_json([asdict(e) for e in events])
        return
    sys.stdout.write(plain_events(events))


def _record(kind: str, text: str, ref_ident: Optional[str], json_out: bool) -> None:
    memory = build().memory
    event = memory.annotate(kind, text, ref_ident) if ref_ident else memory.append(
        Event(kind=kind, text=text, actor="user", session_id=(session := new_id()), turn_id=session))
    if json_out:
        print_json(asdict(event))
    else:
        typer.echo(event.id)


@app.command("remember")
def remember(text: list[str] = typer.Argument(..., help="What to remember."), json_out: bool = JSON) -> None:
    """Add a note to memory; recall offers it to the model later.  Example: dos memory remember I prefer metric units"""
    _record("note", " ".join(text), None, json_out)


@app.command("correct")
def correct(ident: str = typer.Argument(..., metavar="ID"), text: list[str] = typer.Argument(..., help="The corrected text."),
            json_out: bool = JSON) -> None:
    """Supersede an event's text; search and recall show the latest correction.  Example: dos memory correct 01J9Z The meeting is on Friday"""
    _record("correction", " ".join(text), ident, json_out)


@app.command("retract")
def retract(ident: str = typer.Argument(..., metavar="ID"),
            reason: str = typer.Option("", "--reason", help="Why (kept in the log)."), json_out: bool = JSON) -> None:
    """Hide an event from search and recall; it stays in the log.  Example: dos memory retract 01J9Z"""
    _record("retraction", reason, ident, json_out)


@app.command("purge")
def purge(ident: str = typer.Argument(..., metavar="ID"),
          reason: str = typer.Option("", "--reason", help="Why (kept in the tombstone)."),
          yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation on a terminal."),
          json_out: bool = JSON) -> None:
    """Erase an event's text and data for good, leaving an audited tombstone; `verify` still passes.
    Example: dos memory purge 01J9Z --reason 'pasted a password'"""
    memory = build().memory
    if not yes and sys.stdin.isatty() and not typer.confirm(f"Erase the text of event {memory.get(ident).id}?"):
        raise typer.Abort()
    tombstone = memory.purge(ident, reason)
    if json_out:
        print_json(asdict(tombstone))
    else:
        typer.echo(f"purged {tombstone.ref} (tombstone {tombstone.id})")


@app.command("verify")
def verify(json_out: bool = JSON) -> None:
    """Walk the hash chains of events and ledger; name the first entry altered or removed (exit 7).
    Example: dos memory verify"""
    report = build().memory_tools.verify()
    if report.warning:
        typer.echo(f"dos: warning: {report.warning}", err=True)
    if json_out:
        print_json({"ok": report.problem is None, "events": report.events, "ledger_entries": report.ledger,
                    "problem": report.problem, "event_id": report.event_id, "warning": report.warning})
        if report.problem:
            raise typer.Exit(VerifyFailed.exit_code)
        return
    if report.problem:
        raise VerifyFailed(f"memory does not verify: {report.problem}")
    ledger = f" and {report.ledger} ledger entries, chains intact" if report.ledger else ", chain intact"
    typer.echo(f"ok: {report.events} events{ledger}")


@app.command("export")
def export(
    fmt: str = typer.Option("jsonl", "--format", "-f", help="jsonl (lossless) or markdown (conversations)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout."),
) -> None:
    """Export the whole log.  Example: dos memory export -o memory.jsonl"""
    tools = build().memory_tools
    if output is None:
        tools.export(sys.stdout, fmt)
        return
    try:
        with output.open("w", encoding="utf-8") as out:
            count = tools.export(out, fmt)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from None
    typer.echo(f"exported {count} {'events' if fmt == 'jsonl' else 'entries'} to {output}", err=True)


@app.command("import")
def import_(
    path: Path = typer.Argument(..., metavar="FILE", help="A DOS JSONL export (or - for stdin), or an llm logs.db."),
    fmt: str = typer.Option("auto", "--format", "-f", help="auto, jsonl or llm."),
    json_out: bool = JSON,
) -> None:
    """Import a DOS export or Simon Willison's `llm` logs.db, all or nothing.
    Example: dos memory import ~/.config/io.datasette.llm/logs.db"""
    with progress(f"importing {path}"):
        result = build().memory_tools.import_file(sys.stdin if str(path) == "-" else path, fmt)
    if json_out:
        print_json(asdict(result))
    else:
        typer.echo(f"imported {result.added} ({result.mode}), skipped {result.skipped} already present")


@app.command("stats")
def stats(json_out: bool = JSON) -> None:
    """Counts by kind, file size, first and last event.  Example: dos memory stats"""
    info = build().memory_tools.stats()
    if json_out:
        print_json(asdict(info))
        return
    typer.echo(f"database   {info.path} ({info.file_bytes / 1e6:.1f} MB)")
    typer.echo(f"events     {info.events}")
    for kind, count in info.by_kind.items():
        typer.echo(f"  {kind:12}{count}")
    for key, stamp in (("first", info.first), ("last", info.last)):
        if stamp:
            typer.echo(f"{key:11}{stamp.ts}  {stamp.id}")
    if info.in_flight:
        typer.echo(f"in flight  {info.in_flight} turn(s) streaming now")
