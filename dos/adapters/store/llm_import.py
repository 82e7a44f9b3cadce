"""Imports the history of Simon Willison's `llm` CLI from its `logs.db` (legacy `responses` and newer `turns`)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dos.adapters.store.sqlite_memory import SqliteMemory, fields_of
from dos.core.domain import Event, Usage
from dos.core.errors import UsageError
from dos.core.ids import new_id
from dos.core.memory_records import ImportResult

_LEGACY = """
SELECT id, model, prompt, system, response, conversation_id AS thread, duration_ms, datetime_utc,
       {input_tokens} AS input_tokens, {output_tokens} AS output_tokens
FROM responses ORDER BY datetime_utc, id
"""
_TURNS = """
SELECT t.id, COALESCE(t.resolved_model, t.model) AS model, s.prompt, NULL AS system, s.response,
       t.thread_id AS thread, t.duration_ms, t.datetime_utc, t.input_tokens, t.output_tokens
FROM turns AS t LEFT JOIN turn_search AS s ON s.turn_id = t.id ORDER BY t.datetime_utc, t.id
"""


def read_llm_logs(path: Path) -> list[dict[str, Any]]:
    """Every logged exchange of an `llm` logs.db, oldest first (read-only)."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        db.row_factory = sqlite3.Row
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "responses" not in tables and "turns" not in tables:
            raise UsageError(f"{path} is not an `llm` logs.db: it has no responses or turns table")
        rows: list[dict[str, Any]] = []
        if "responses" in tables:
            columns = {r[1] for r in db.execute("PRAGMA table_info(responses)")}
            sql = _LEGACY.format(**{c: c if c in columns else "NULL" for c in ("input_tokens", "output_tokens")})
            rows += [dict(r) for r in db.execute(sql)]
        if {"turns", "turn_search"} <= tables:
            rows += [dict(r) for r in db.execute(_TURNS)]
        db.close()
    except sqlite3.DatabaseError as exc:
        raise UsageError(f"cannot read {path} as an `llm` logs.db: {exc}") from None
    return sorted(rows, key=lambda r: (_ts(r["datetime_utc"]), r["id"]))


def _ts(value: str | None) -> str:
    """llm's `datetime_utc` (ISO, naive or not) in DOS's form: 2024-05-01T12:00:00.000Z."""
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return "1970-01-01T00:00:00.000Z"
    when = when.replace(tzinfo=timezone.utc) if when.tzinfo is None else when.astimezone(timezone.utc)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _events(row: dict[str, Any]) -> list[Event]:
    ts = _ts(row["datetime_utc"])
    ms = int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)
    turn_id = f"llm-{row['id']}"
    common = {"session_id": f"llm-{row['thread'] or row['id']}", "turn_id": turn_id, "model": row["model"], "ts": ts}
    source = {"source": "llm", "llm_id": row["id"]}
    usage = Usage(row["input_tokens"] or 0, row["output_tokens"] or 0)
    duration = None if row["duration_ms"] is None else row["duration_ms"] / 1000
    prompt_data = source | ({"system": row["system"]} if row["system"] else {})
    return [
        Event("prompt", row["prompt"] or "", actor="user", data=prompt_data, id=new_id(ms), **common),
        Event("response", row["response"] or "", actor="model", id=new_id(ms), **common, data=source | {
            "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens},
            "duration_s": duration, "complete": True, "served_by": row["model"],
        }),
    ]


def import_llm(memory: SqliteMemory, path: Path) -> ImportResult:
    """Appends each exchange as a prompt and a response event (turns already imported are skipped), then an
    `import` event; all in one transaction."""
    rows = read_llm_logs(path)
    with memory.write() as db:
        prev, added, skipped = memory.tip(db), 0, 0
        for row in rows:
            if db.execute("SELECT 1 FROM events WHERE turn_id = ?", (f"llm-{row['id']}",)).fetchone():
                skipped += 1
                continue
            for event in _events(row):
                prev = memory.insert(db, prev, fields_of(event))["hash"]
            added += 1
        if added:
            note = Event("import", f"imported {added} turns from the llm logs.db {path}", actor="user",
                         data={"source": str(path), "format": "llm", "added": added, "skipped": skipped})
            memory.insert(db, prev, fields_of(note))
    return ImportResult("llm", added, skipped)
