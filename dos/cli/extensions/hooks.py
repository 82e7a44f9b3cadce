"""`dos hooks list` and `dos hooks test EVENT`: what fires for which event, and what it would decide."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from dos.bootstrap import build
from dos.cli.output import print_json
from dos.core.errors import UsageError
from dos.core.turn.hooks import EVENTS, HookOutcome, HookSpec, first_line, merge, sample_event, select, short
from dos.core.redact import redact, redact_data

app = typer.Typer(help="Hooks: commands and Python functions that run around every turn (Claude Code's protocol).",
                  no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")


def _spec(s: HookSpec) -> dict[str, Any]:
    return {"event": s.event, "type": s.kind, "hook": s.target, "name": s.name or None, "matcher": s.matcher or None,
            "skill": s.skill or None, "pack": s.pack or None, "timeout_s": s.timeout, "from": s.origin}


def _where(s: HookSpec) -> str:
    parts = [f"matcher={s.matcher}" if s.matcher else "", f"skill~{s.skill}" if s.skill else "",
             f"pack~{s.pack}" if s.pack else ""]
    return " ".join(p for p in parts if p) or "*"


@app.command("list")
def list_hooks(json_out: bool = JSON) -> None:
    """Show every hook, by event, and the file that declares it; a project's untrusted hooks are marked (they
    do not run until `dos trust`).  Example: dos hooks list"""
    dos = build()
    config = dos.hook_config
    specs, problems = config.load()
    untrusted, more = config.untrusted()
    problems += more
    waiting = {str(config.project / d.rel) for d, _ in dos.trust.untrusted(config.project) if d.what == "hooks"}
    files = [{"kind": kind, "path": str(path), "exists": path.is_file(), "trusted": str(path) not in waiting}
             for kind, path in config.files()]
    enabled = {s.name.removeprefix("builtin:") for s in specs if s.name.startswith("builtin:")}
    builtin = [{"name": name, "event": b["event"], "enabled": name in enabled, "description": b.get("description", "")}
               for name, b in sorted(config.builtins().items())]
    if json_out:
        hooks = [_spec(s) | {"trusted": True} for s in specs] + [_spec(s) | {"trusted": False} for s in untrusted]
        print_json({"hooks": hooks, "problems": problems, "files": files, "builtin": builtin})
        return
    if not specs and not untrusted:
        typer.echo("no hooks configured")
    for event in EVENTS:
        mine = [(s, "") for s in specs if s.event == event] + [(s, "\tuntrusted") for s in untrusted if s.event == event]
        if mine:
            typer.echo(f"{event}:")
        for s, mark in mine:
            typer.echo(f"  {s.kind}\t{short(s.label, 70)}\t{_where(s)}\t{s.timeout:g} s\t{s.origin}{mark}")
    typer.echo("files: " + ", ".join(f"{f['path']}{'' if f['exists'] else ' (none)'}" for f in files))
    if waiting:
        typer.echo(f"untrusted: {', '.join(sorted(waiting))}: these hooks do not run until you trust this folder "
                   "with `dos trust`")
    off = [b["name"] for b in builtin if not b["enabled"]]
    if off:
        typer.echo(f"built-in, off: {', '.join(off)} (turn on under `builtin:` in hooks.yaml)")
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)


def _payload(event: str, file: Optional[Path], cwd: str) -> dict[str, Any]:
    if event not in EVENTS:
        near = [e for e in EVENTS if e.lower() == event.lower()]
        hint = f"; did you mean {near[0]}?" if near else f" (events: {', '.join(EVENTS)})"
        raise UsageError(f"unknown hook event '{event}'{hint}")
    overrides: dict[str, Any] = {}
    if file is not None:
        try:
            text = sys.stdin.read() if str(file) == "-" else file.read_text("utf-8")
            overrides = json.loads(text)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read the payload {file}: {exc}") from None
        if not isinstance(overrides, dict):
            raise UsageError(f"the payload {file} must be a JSON object")
    payload = sample_event(event, cwd)
    payload.update(overrides)
    payload["hook_event_name"] = event
    return payload


def _outcome(o: HookOutcome) -> dict[str, Any]:
    return {"hook": o.spec.target, "from": o.spec.origin, "status": o.status, "exit_code": o.exit_code,
            "duration_s": round(o.duration_s, 4), "timed_out": o.timed_out, "truncated": o.truncated,
            "output": redact_data(o.output), "stdout": redact(o.stdout[:2000]), "stderr": redact(o.stderr[:2000]),
            "error": o.error}


@app.command("test")
def test(
    event: str = typer.Argument(..., help=f"The event: {', '.join(EVENTS)}."),
    payload_file: Optional[Path] = typer.Option(None, "--payload", help="A JSON file (or - for stdin) whose "
                                                "fields replace the sample payload's."),
    json_out: bool = JSON,
) -> None:
    """Run the hooks of EVENT on a sample payload and show what each decided (nothing is recorded).
    Example: dos hooks test UserPromptSubmit --payload prompt.json"""
    hooks = build().hooks
    payload = _payload(event, payload_file, hooks.cwd)
    chosen = select(hooks.specs, payload)
    outcomes = hooks.runner.run(chosen, payload) if chosen and hooks.runner else []
    d = merge(event, outcomes, payload.get("prompt") if isinstance(payload.get("prompt"), str) else None)
    decision = {"blocked": d.blocked, "reason": d.reason or None, "stop": d.stop, "stop_reason": d.stop_reason or None,
                "additional_context": d.additional_context or None, "prompt": d.prompt, "permission": d.permission,
                "updated_input": d.updated_input, "feedback": d.feedback, "messages": d.messages,
                "warnings": d.warnings}
    if json_out:
        print_json(redact_data({"event": event, "payload": payload, "hooks": [_outcome(o) for o in outcomes],
                                "decision": decision}))
        return
    if not outcomes:
        typer.echo(f"no hooks fire for {event} on this payload")
    for o in outcomes:
        code = "-" if o.exit_code is None else o.exit_code
        typer.echo(f"{o.status}\texit {code}\t{o.duration_s * 1000:.0f} ms\t{short(o.spec.label, 70)}\t{o.spec.origin}")
        detail = o.stderr if o.status != "ok" else ""
        if detail.strip():
            typer.echo(f"\t{redact(first_line(detail))}")
    typer.echo(f"decision: {'BLOCK' if d.blocked else 'go on'}{': ' + redact(d.reason) if d.reason else ''}")
    if d.prompt is not None:
        typer.echo(f"prompt rewritten: {redact(short(d.prompt, 200))}")
    if d.context:
        typer.echo("context added:")
        for c in d.context:
            typer.echo("  " + redact(short(c, 200)))
    for label, lines in (("permission", [d.permission] if d.permission else []), ("feedback", d.feedback),
                         ("message", d.messages), ("warning", d.warnings)):
        for line in lines:
            typer.echo(f"{label}: {redact(line)}")
