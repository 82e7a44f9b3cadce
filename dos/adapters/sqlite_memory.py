"""The memory log in one SQLite file: append-only (enforced by triggers), hash-chained, FTS5-indexed.

Writers take the write lock up front (`BEGIN IMMEDIATE`) and wait on a busy timeout, so many processes can
append at once; the chain hash of the previous event is read inside that lock, so the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from dos.core.domain import Event, TurnSummary, Usage
from dos.core.errors import StorageError
from dos.core.ids import new_id
from dos.core.redact import redact, redact_data

GENESIS = "0" * 64
BUSY_TIMEOUT_S = 60.0


def _m001_events(db: sqlite3.Connection) -> None:
    db.execute(
        """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            ts TEXT NOT NULL,
            session_id TEXT NOT NULL,
            turn_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            actor TEXT NOT NULL,
            skill TEXT,
            model TEXT,
            text TEXT NOT NULL,
            data TEXT NOT NULL,
            ref TEXT,
            content_hash TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX events_turn ON events(turn_id)")
    db.execute("CREATE INDEX events_kind ON events(kind, seq)")
    db.execute("CREATE INDEX events_session ON events(session_id, seq)")
    for verb in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER events_no_{verb.lower()} BEFORE {verb} ON events "
            "BEGIN SELECT RAISE(ABORT, 'memory events are append-only'); END"
        )


def _m002_fts(db: sqlite3.Connection) -> None:
    db.execute("CREATE VIRTUAL TABLE events_fts USING fts5(text, content='events', content_rowid='seq')")
    db.execute(
        "CREATE TRIGGER events_fts_insert AFTER INSERT ON events "
        "BEGIN INSERT INTO events_fts(rowid, text) VALUES (new.seq, new.text); END"
    )


# Ordered, named, append-only: a released migration is never edited, only followed by a new one.
MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("001_events", _m001_events),
    ("002_fts", _m002_fts),
]


def content_hash(text: str, data_json: str) -> str:
    return hashlib.sha256(text.encode() + b"\0" + data_json.encode()).hexdigest()


def chain_hash(prev_hash: str, row: dict) -> str:
    """The hash that links an event to the one before it. It covers the content through `content_hash`."""
    fields = [row[k] for k in ("id", "ts", "session_id", "turn_id", "kind", "actor", "skill", "model", "ref")]
    payload = json.dumps([prev_hash, *fields, row["content_hash"]], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SqliteMemory:
    """MemoryLog on a SQLite file. Opens lazily: commands that never touch memory never open it."""

    def __init__(self, path: Path):
        self.path = path
        self._db: sqlite3.Connection | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA synchronous=NORMAL")
            self._migrate(db)
        except (OSError, sqlite3.Error) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise StorageError(f"cannot open the memory database {self.path}: {reason}") from None
        return db

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        if db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS):
            return
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("BEGIN IMMEDIATE")  # another process may be migrating: wait, then re-read
        try:
            done = db.execute("PRAGMA user_version").fetchone()[0]
            for _name, migrate in MIGRATIONS[done:]:
                migrate(db)
            db.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def append(self, event: Event) -> Event:
        text = redact(event.text)
        data_json = json.dumps(redact_data(event.data), sort_keys=True, separators=(",", ":"))
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                last = db.execute("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
                prev = last[0] if last else GENESIS
                row = {
                    "id": new_id(),
                    "ts": _utc_now(),
                    "session_id": event.session_id,
                    "turn_id": event.turn_id,
                    "kind": event.kind,
                    "actor": event.actor,
                    "skill": event.skill,
                    "model": event.model,
                    "text": text,
                    "data": data_json,
                    "ref": event.ref,
                    "content_hash": content_hash(text, data_json),
                    "prev_hash": prev,
                }
                row["hash"] = chain_hash(prev, row)
                db.execute(
                    f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                    list(row.values()),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StorageError(f"cannot write to the memory database {self.path}: {exc}") from None
        return Event(
            kind=event.kind,
            text=text,
            session_id=event.session_id,
            turn_id=event.turn_id,
            actor=event.actor,
            skill=event.skill,
            model=event.model,
            data=json.loads(data_json),
            ref=event.ref,
            id=row["id"],
            ts=row["ts"],
            hash=row["hash"],
        )

    def recent_turns(self, limit: int) -> list[TurnSummary]:
        rows = self.db.execute(
            """
            SELECT p.ts, p.session_id, p.turn_id, p.skill, p.model, p.text AS prompt,
                   r.text AS response, r.data AS rdata, r.model AS rmodel
            FROM (SELECT * FROM events WHERE kind = 'prompt' ORDER BY seq DESC LIMIT ?) AS p
            LEFT JOIN events AS r ON r.turn_id = p.turn_id AND r.kind = 'response'
            ORDER BY p.seq
            """,
            (limit,),
        ).fetchall()
        return [_summary(row) for row in rows]

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def _summary(row: sqlite3.Row) -> TurnSummary:
    data = json.loads(row["rdata"]) if row["rdata"] else {}
    usage = data.get("usage") or {}
    return TurnSummary(
        turn_id=row["turn_id"],
        ts=row["ts"],
        session_id=row["session_id"],
        skill=row["skill"],
        model=data.get("served_by") or row["rmodel"] or row["model"],
        prompt=row["prompt"],
        response=row["response"],
        complete=bool(data.get("complete")),
        usage=Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)),
        duration_s=data.get("duration_s"),
        error=data.get("error"),
    )
