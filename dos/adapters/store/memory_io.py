"""Whole-log operations on the memory database (`MemoryTools`): verify the chains, stats, export, and import DOS
JSONL or an `llm` logs.db (dos.adapters.store.llm_import)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from dos.adapters.files.json_text import offsets
from dos.adapters.store.llm_import import import_llm
from dos.adapters.store.memory_schema import GENESIS, chain_hash, content_hash, ledger_hash
from dos.adapters.store.sqlite_memory import SqliteMemory, fields_of
from dos.core.domain import Event
from dos.core.errors import UsageError
from dos.core.memory_records import EventStamp, ImportResult, MemoryStats, VerifyReport

FIELDS = ("id", "ts", "session_id", "turn_id", "kind", "actor", "skill", "model", "text", "data", "ref")
HASHES = ("content_hash", "prev_hash", "hash")


class MemoryTools:
    """`dos memory verify | stats | export | import` (and `dos doctor`'s check) on one memory database."""

    def __init__(self, memory: SqliteMemory):
        self.memory = memory

    def verify(self) -> VerifyReport:
        """Walks the event chain, then the ledger's, from the first entry; names the first one altered or removed,
        and compares both ends with the anchor file (which catches entries cut from the end)."""
        memory, db = self.memory, self.memory.db
        purged = {r[0] for r in db.execute("SELECT ref FROM events WHERE kind = 'purge'")}
        prev, count, last_seq = GENESIS, 0, 0
        for row in db.execute("SELECT * FROM events ORDER BY seq"):
            count += 1
            where = f"event {row['id']} (#{row['seq']})"
            if row["prev_hash"] != prev or row["seq"] != last_seq + 1:
                gone = row["seq"] - last_seq - 1
                why = f"{gone} event(s) before it were removed" if gone > 0 else "the event before it was altered"
                return VerifyReport(count, f"{where}: the chain breaks here: {why}", row["id"])
            blanked = row["id"] in purged and row["text"] == "" and row["data"] == "{}"
            if not blanked and content_hash(row["text"], row["data"]) != row["content_hash"]:
                return VerifyReport(count, f"{where}: its text or data was altered", row["id"])
            if chain_hash(prev, dict(row)) != row["hash"]:
                return VerifyReport(count, f"{where}: its fields or hash were altered", row["id"])
            prev, last_seq = row["hash"], row["seq"]
        entries, ledger_problem, ledger_tip = _verify_ledger(db)
        if ledger_problem:
            return VerifyReport(count, ledger_problem, ledger=entries)
        kept = memory.anchors()
        if kept is None:
            warning = (f"the anchor file {memory.anchor_path.name} is missing: entries cut from the end of the log "
                       "cannot be told (the next write makes a new one)") if count or entries else None
            return VerifyReport(count, ledger=entries, warning=warning)
        for what, tip, anchored in (("event", (last_seq, prev), kept[0]), ("ledger entry", ledger_tip, kept[1])):
            problem = _against_anchor(memory, what, tip, anchored)
            if problem:
                return VerifyReport(count, problem, ledger=entries)
        return VerifyReport(count, ledger=entries)

    def stats(self) -> MemoryStats:
        """Counts by kind, the file's size, the first and last event, turns in flight."""
        memory, db = self.memory, self.memory.db
        by_kind = {r[0]: r[1] for r in db.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind ORDER BY kind")}
        first = db.execute("SELECT id, ts FROM events ORDER BY seq LIMIT 1").fetchone()
        last = db.execute("SELECT id, ts FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return MemoryStats(
            path=str(memory.path),
            events=sum(by_kind.values()),
            by_kind=by_kind,
            file_bytes=memory.file_size(),
            first=EventStamp(*first) if first else None,
            last=EventStamp(*last) if last else None,
            in_flight=db.execute("SELECT COUNT(*) FROM inflight").fetchone()[0],
        )

    def export(self, out: IO[str], fmt: str = "jsonl") -> int:
        """Writes the whole log to `out` as `fmt` (jsonl or markdown); returns how many entries it wrote."""
        if fmt not in EXPORTERS:
            raise UsageError(f"unknown export format {fmt!r}: use {' or '.join(EXPORTERS)}")
        return EXPORTERS[fmt](self.memory, out)

    def import_file(self, source: Path | IO[str], fmt: str = "auto") -> ImportResult:
        """Imports DOS JSONL (a path or a stream) or an `llm` logs.db, all or nothing. `fmt` auto: a SQLite file is
        an `llm` logs.db, anything else DOS JSONL."""
        memory = self.memory
        if fmt == "auto":
            fmt = "llm" if isinstance(source, Path) and _is_sqlite(source) else "jsonl"
        if fmt == "llm" and isinstance(source, Path):
            return import_llm(memory, source)
        if fmt != "jsonl":
            raise UsageError(f"unknown import format {fmt!r}: use jsonl or llm")
        where = str(source) if isinstance(source, Path) else "stdin"
        try:
            if isinstance(source, Path):
                with source.open("rb") as stream:
                    records = read_jsonl(stream, where)
            else:
                # bytes when it can: lines of bad UTF-8 are named
                records = read_jsonl(getattr(source, "buffer", source), where)
        except OSError as exc:
            raise UsageError(f"cannot read {source}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise UsageError(f"{where}: not UTF-8 text ({exc.reason})") from None
        return import_jsonl(memory, records, where)


def _verify_ledger(db: Any) -> tuple[int, str | None, tuple[int, str]]:
    """(entries checked, the first problem or None, the tip (seq, hash)) of the ledger's hash chain."""
    prev, seq, count = GENESIS, 0, 0
    for row in db.execute("SELECT * FROM ledger ORDER BY seq"):
        count += 1
        where = f"ledger entry {row['id']} (#{row['seq']})"
        if row["prev_hash"] != prev:
            why = "the entry before it was removed or altered"
            return count, f"{where}: the chain breaks here: {why}", (seq, prev)
        if ledger_hash(prev, dict(row)) != row["hash"]:
            return count, f"{where}: its amount, fields or hash were altered", (seq, prev)
        prev, seq = row["hash"], row["seq"]
    return count, None, (seq, prev)


def _against_anchor(memory: SqliteMemory, what: str, tip: tuple[int, str], anchored: tuple[int, str] | None
                    ) -> str | None:
    """What the anchor file says is wrong with the chain ending at `tip`, if anything."""
    if not anchored or anchored[0] == 0:
        return None
    (last, _), (seq, hash_), name = tip, anchored, memory.anchor_path.name
    table = "events" if what == "event" else "ledger"
    if seq > last:
        plural = "events" if what == "event" else "ledger entries"
        cut = f"{what} #{seq} was" if seq == last + 1 else f"{plural} #{last + 1} to #{seq} were"
        return f"{cut} removed from the end of the {table} (the anchor file {name} says it reached #{seq})"
    row = memory.db.execute(f"SELECT hash FROM {table} WHERE seq = ?", (seq,)).fetchone()
    if row is None or row[0] != hash_:
        return (f"{what} #{seq} does not match the anchor file {name}: it was altered, or cut from the end and "
                "written again")
    return None


def export_jsonl(memory: SqliteMemory, out: IO[str]) -> int:
    """Every event, in chain order, one JSON object a line, hashes included: a lossless copy."""
    count = 0
    for event in memory.records():
        record = {k: getattr(event, k) for k in (*FIELDS, *HASHES)}
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def export_markdown(memory: SqliteMemory, out: IO[str]) -> int:
    """The conversations as Markdown, one section a session, as recall sees them (corrected, none retracted)."""
    rows = memory.db.execute(
        "SELECT * FROM current_events WHERE kind IN ('prompt', 'response', 'note', 'decision') "
        "ORDER BY session_id, seq"
    )
    session, count = None, 0
    for row in rows:
        if row["session_id"] != session:
            session = row["session_id"]
            out.write(f"{'' if count == 0 else chr(10)}# Session {session}\n")
        who = {"prompt": "You", "response": row["model"] or "model"}.get(row["kind"], row["kind"])
        skill = f" · {row['skill']}" if row["skill"] else ""
        out.write(f"\n## {row['ts'][:19].replace('T', ' ')} · {who}{skill}\n\n{row['text'].strip()}\n")
        count += 1
    return count


@dataclass(frozen=True)
class Line:
    """One parsed line of a JSONL file: where it is, the record, and its text (to place a key's column)."""

    where: str  # the file, or "stdin"
    number: int
    record: dict
    text: str

    def at(self, key: str | None = None) -> str:
        """`file:line` or, when `key` is one of the line's top-level keys, `file:line:column` of that key."""
        column = offsets(self.text).get(key) if key else None
        return f"{self.where}:{self.number}" + (f":{column + 1}" if column is not None else "")


def _parse_line(where: str, number: int, text: str) -> Line:
    text = text.rstrip("\r\n")  # else a line cut short fails at "column 1" of the line after it
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:  # the column where the parser stopped, on this line
        ends = " at the end of the line" if exc.pos >= len(text.rstrip()) else ""
        column = min(exc.pos, len(text.rstrip())) + 1
        raise UsageError(f"{where}:{number}:{column}: not valid JSON: {exc.msg}{ends}") from None
    except RecursionError:
        raise UsageError(f"{where}:{number}: not valid JSON: nested too deeply") from None
    if not isinstance(record, dict):
        raise UsageError(f"{where}:{number}: expected a JSON object, got {_json_type(record)}")
    line = Line(where, number, record, text)
    if "kind" not in record:
        raise UsageError(f"{line.at()}: missing the event's 'kind'")
    if not isinstance(record["kind"], str) or not record["kind"]:
        raise UsageError(f"{line.at('kind')}: 'kind' must be a non-empty string such as \"note\"")
    for key in (*FIELDS, *HASHES):
        value = record.get(key)
        wanted = dict if key == "data" else str
        if value is not None and not isinstance(value, wanted):
            raise UsageError(f"{line.at(key)}: '{key}' must be {'an object' if key == 'data' else 'a string'}, "
                             f"not {_json_type(value)}")
    return line


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")


def read_jsonl(lines: Iterable[str | bytes], where: str = "stdin") -> list[Line]:
    """Parses a whole DOS JSONL file up front: a malformed line stops the import before any write. Problems
    are `file:line: message`, with the column of the offending key (or of the JSON error) when there is one."""
    out = []
    for number, raw in enumerate(lines, 1):
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                column = len(raw[:exc.start].decode("utf-8", "replace")) + 1
                raise UsageError(f"{where}:{number}:{column}: not UTF-8 text ({exc.reason})") from None
        if number == 1:
            raw = raw.removeprefix("\ufeff")  # a byte-order mark (files saved by some Windows editors)
        if raw.strip():
            out.append(_parse_line(where, number, raw))
    return out


def import_jsonl(memory: SqliteMemory, records: list[Line], source: str) -> ImportResult:
    """Into an empty log: a verbatim restore, every hash checked. Otherwise: appended, re-chained, events
    already present (same id) skipped, and an `import` event records it. One transaction either way."""
    purged = {line.record.get("ref") for line in records if line.record.get("kind") == "purge"}
    with memory.write() as db:
        restore = memory.tip(db) == GENESIS and bool(records) and all(line.record.get("hash") for line in records)
        prev, added, skipped = memory.tip(db), 0, 0
        for line in records:
            record = line.record
            exists = db.execute("SELECT 1 FROM events WHERE id = ?", (record.get("id"),)).fetchone()
            if exists and not restore:
                skipped += 1
                continue
            if exists:
                raise UsageError(f"{line.at('id')}: the id {record['id']} appears twice")
            fields = fields_of(_event(record))
            blank = fields["text"] == "" and fields["data"] == "{}" and record.get("id") in purged
            row = memory.insert(db, prev, fields, record.get("content_hash") if blank and restore else None)
            if restore:
                _check_restored(line, row)
            prev, added = row["hash"], added + 1
        if not restore and added:
            note = Event("import", f"imported {added} events from {source}", actor="user",
                         data={"source": source, "format": "dos-jsonl", "added": added, "skipped": skipped})
            memory.insert(db, prev, fields_of(note))
    return ImportResult("restore" if restore else "merge", added, skipped)


def _event(record: dict) -> Event:
    return Event(
        kind=record["kind"], text=record.get("text") or "", session_id=record.get("session_id") or "",
        turn_id=record.get("turn_id") or "", actor=record.get("actor") or "dos", skill=record.get("skill"),
        model=record.get("model"), data=record.get("data") or {}, ref=record.get("ref"),
        id=record.get("id") or "", ts=record.get("ts") or "",
    )


def _check_restored(line: Line, row: dict) -> None:
    record = line.record
    if row["prev_hash"] != record.get("prev_hash"):
        raise UsageError(f"{line.at('prev_hash')}: its prev_hash does not follow the line before (edited or reordered file)")
    if row["content_hash"] != record.get("content_hash"):
        raise UsageError(f"{line.at('content_hash')}: its text or data do not match its content_hash (edited file)")
    if row["hash"] != record.get("hash"):
        raise UsageError(f"{line.at('hash')}: its hash does not match its fields (edited file)")


EXPORTERS = {"jsonl": export_jsonl, "markdown": export_markdown}


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == b"SQLite format 3\0"
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
