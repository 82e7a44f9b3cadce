"""`dos memory search` and `dos memory log` without typer, for scripts: plain text or JSON on a pipe.
`dos.cli.entry` may call `fast_memory` before importing the typer app; anything it does not recognise
(options it does not know, a terminal) goes to the full command in dos/cli/memory.py."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict
from typing import Any


def excerpt(text: str | None, width: int = 100) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def status(turn: Any) -> str:
    if turn.response is None:
        return "no response"
    return "ok" if turn.complete else f"partial ({turn.error or 'incomplete'})"


def plain_turns(turns: list[Any]) -> str:
    lines = []
    for t in turns:
        took = f"{t.duration_s:.2f}s" if t.duration_s is not None else "-"
        lines.append(f"{t.turn_id}  {t.ts}  {t.skill}  {t.model}  {t.usage.total_tokens} tokens  {took}  {status(t)}")
        lines.append(f"  > {excerpt(t.prompt)}")
        if t.response is not None:
            lines.append(f"  < {excerpt(t.response)}")
    return "".join(line + "\n" for line in lines)


def plain_events(events: list[Any]) -> str:
    return "".join(f"{e.id}  {e.ts}  {e.kind}  {e.skill or '-'}  {e.model or '-'}\n  {excerpt(e.text)}\n"
                   for e in events)


def words_match(text: str) -> str:
    """A search's words as an FTS5 query that needs all of them, each taken literally."""
    return " ".join(f'"{w}"' for w in re.findall(r"\w+", text))


def _options(args: list[str]) -> tuple[list[str], bool, int] | None:
    words, json_out, limit = [], False, 20
    rest = iter(args)
    for arg in rest:
        if arg == "--json":
            json_out = True
        elif arg in ("-n", "--limit"):
            value = next(rest, "")
            if not value.isdigit() or int(value) < 1:
                return None
            limit = int(value)
        elif arg.startswith("-"):
            return None
        else:
            words.append(arg)
    return words, json_out, limit


def fast_memory(argv: list[str]) -> int | None:
    """Handle `memory search WORDS [--json] [-n N]` and `memory log [--json] [-n N]` on a pipe; return the
    exit code, or None for "not mine"."""
    if argv[:1] != ["memory"] or argv[1:2] not in (["search"], ["log"]) or sys.stdout.isatty():
        return None
    parsed = _options(argv[2:])
    if parsed is None or (argv[1] == "log") == bool(parsed[0]):
        return None
    words, json_out, limit = parsed
    if argv[1] == "search" and not words_match(" ".join(words)):
        return None
    from dos.bootstrap import build
    from dos.core.errors import DosError

    try:
        memory = build().memory
        if argv[1] == "search":
            events = memory.search(words_match(" ".join(words)), limit=limit)
            out = json.dumps([asdict(e) for e in events], ensure_ascii=False, indent=2) + "\n" if json_out \
                else plain_events(events)
        else:
            turns = memory.recent_turns(limit)
            out = json.dumps([asdict(t) for t in turns], ensure_ascii=False, indent=2) + "\n" if json_out \
                else plain_turns(turns)
        sys.stdout.write(out)
        sys.stdout.flush()
    except DosError as exc:
        sys.stderr.write(f"dos: {exc.message}\n")
        return exc.exit_code
    return 0
