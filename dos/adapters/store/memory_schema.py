"""The memory database schema: ordered, named migrations and the two hashes that chain events.

A released migration is never edited, only followed by a new one. Each runs inside the `BEGIN IMMEDIATE`
transaction of `SqliteMemory._migrate`, so processes starting at once apply it exactly once.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable

GENESIS = "0" * 64
CHAIN_FIELDS = ("id", "ts", "session_id", "turn_id", "kind", "actor", "skill", "model", "ref")
COLUMNS = (*CHAIN_FIELDS[:8], "text", "data", "ref", "content_hash", "prev_hash", "hash")
# What a ledger entry's hash covers (every column but seq and the two hashes), and the values the table gives a
# column an INSERT leaves out. A column added later is not covered unless a new migration says so.
LEDGER_CHAIN_FIELDS = ("id", "ts", "kind", "amount", "reserved", "key", "ref", "turn_id", "route_event_id",
                       "session_id", "skill", "pack", "model", "prompt_tokens", "completion_tokens", "cost_source",
                       "note", "pid", "token")
LEDGER_DEFAULTS = {"reserved": 0, "prompt_tokens": 0, "completion_tokens": 0, "note": ""}


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


def _m003_purge(db: sqlite3.Connection) -> None:
    """The one UPDATE allowed: blanking text and data of an event a `purge` tombstone names."""
    db.execute("CREATE INDEX events_ref ON events(ref, kind, seq)")
    db.execute("DROP TRIGGER events_no_update")
    same = " AND ".join(f"new.{c} IS old.{c}" for c in ("seq", *COLUMNS) if c not in ("text", "data"))
    db.execute(
        f"""
        CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        WHEN NOT (new.text = '' AND new.data = '{{}}' AND {same}
                  AND EXISTS (SELECT 1 FROM events p WHERE p.ref = old.id AND p.kind = 'purge'))
        BEGIN SELECT RAISE(ABORT, 'memory events are append-only'); END"""
    )
    db.execute(
        """
        CREATE TRIGGER events_fts_purge AFTER UPDATE OF text ON events BEGIN
            INSERT INTO events_fts(events_fts, rowid, text) VALUES ('delete', old.seq, old.text);
            INSERT INTO events_fts(rowid, text) VALUES (new.seq, new.text);
        END"""
    )


def _m004_current(db: sqlite3.Connection) -> None:
    """`current_events`: one row per live event, carrying its latest correction's text.

    Keyed by the row whose text is current (`text_seq`: the event itself or its latest correction), so a
    full-text hit joins on it directly. Retracted and purged events, and the meta events, are not in it.
    """
    db.execute(
        """
        CREATE VIEW current_events AS
        SELECT t.seq, t.id, t.ts, t.session_id, t.turn_id, t.kind, t.actor, t.skill, t.model,
               h.text, t.data, t.ref, t.hash, h.seq AS text_seq,
               CASE WHEN h.kind = 'correction' THEN h.id END AS corrected_by
        FROM events AS h
        JOIN events AS t ON t.id = CASE WHEN h.kind = 'correction' THEN h.ref ELSE h.id END
        WHERE h.kind NOT IN ('retraction', 'purge')
          AND t.kind NOT IN ('correction', 'retraction', 'purge')
          AND NOT EXISTS (SELECT 1 FROM events x WHERE x.ref = t.id AND x.kind IN ('retraction', 'purge'))
          AND NOT EXISTS (SELECT 1 FROM events x WHERE x.ref = h.id AND x.kind = 'purge')
          AND NOT EXISTS (
              SELECT 1 FROM events c WHERE c.ref = t.id AND c.kind = 'correction' AND c.seq > h.seq
              AND NOT EXISTS (SELECT 1 FROM events p WHERE p.ref = c.id AND p.kind = 'purge'))
        """
    )


def _m005_inflight(db: sqlite3.Connection) -> None:
    """Scratch, not the log: the partial response of each turn still streaming, and the writer's pid."""
    db.execute(
        """
        CREATE TABLE inflight (
            turn_id TEXT PRIMARY KEY,
            pid INTEGER NOT NULL,
            session_id TEXT NOT NULL,
            skill TEXT,
            model TEXT,
            text TEXT NOT NULL,
            data TEXT NOT NULL,
            ts TEXT NOT NULL
        )"""
    )


def _m006_scope(db: sqlite3.Connection) -> None:
    """Finds the last conversation of a terminal or folder (`dos run -c`) without a scan."""
    db.execute("CREATE INDEX events_scope ON events(json_extract(data, '$.scope'), seq) WHERE kind = 'prompt'")


def _m007_ledger(db: sqlite3.Connection) -> None:
    """The credit ledger (dos.core.routing.ledger): append-only entries in integer micro-credits, each with a unique
    idempotency key. `amount` is signed (grant/refund +, debit -, adjust either, hold/release 0): the balance is
    SUM(amount). A `hold` reserves `reserved` until a debit or release names it in `ref`. `budgets` is settings
    (what `dos budget set` wrote), not a counter."""
    db.execute(
        """
        CREATE TABLE ledger (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            ts TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('grant', 'debit', 'refund', 'adjust', 'hold', 'release')),
            amount INTEGER NOT NULL CHECK (typeof(amount) = 'integer'),
            reserved INTEGER NOT NULL DEFAULT 0 CHECK (typeof(reserved) = 'integer' AND reserved >= 0),
            key TEXT NOT NULL UNIQUE,
            ref TEXT,
            turn_id TEXT,
            route_event_id TEXT,
            session_id TEXT,
            skill TEXT,
            pack TEXT,
            model TEXT,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            cost_source TEXT,
            note TEXT NOT NULL DEFAULT '',
            pid INTEGER,
            CHECK (kind NOT IN ('grant', 'refund') OR amount >= 0),
            CHECK (kind != 'debit' OR amount <= 0),
            CHECK (kind NOT IN ('hold', 'release') OR amount = 0),
            CHECK (kind = 'hold' OR reserved = 0)
        )"""
    )
    db.execute("CREATE INDEX ledger_ts ON ledger(ts)")
    db.execute("CREATE INDEX ledger_ref ON ledger(ref) WHERE ref IS NOT NULL")
    db.execute("CREATE INDEX ledger_turn ON ledger(turn_id) WHERE turn_id IS NOT NULL")
    for verb in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER ledger_no_{verb.lower()} BEFORE {verb} ON ledger "
            "BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END"
        )
    db.execute(
        """
        CREATE VIEW ledger_open_holds AS
        SELECT h.* FROM ledger AS h
        WHERE h.kind = 'hold'
          AND NOT EXISTS (SELECT 1 FROM ledger x WHERE x.ref = h.id AND x.kind IN ('debit', 'release'))"""
    )
    db.execute("CREATE VIEW ledger_balance AS SELECT COALESCE(SUM(amount), 0) AS balance, COUNT(*) AS entries FROM ledger")
    db.execute(
        """
        CREATE VIEW ledger_spend_daily AS
        SELECT substr(ts, 1, 10) AS day, model, skill, pack, -SUM(amount) AS spent,
               SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,
               SUM(kind = 'debit') AS calls
        FROM ledger WHERE kind IN ('debit', 'refund') GROUP BY day, model, skill, pack"""
    )
    db.execute(
        """
        CREATE TABLE budgets (
            scope TEXT NOT NULL CHECK (scope IN ('all', 'skill', 'pack')),
            name TEXT NOT NULL,
            period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month', 'total')),
            limit_micro INTEGER NOT NULL CHECK (typeof(limit_micro) = 'integer' AND limit_micro >= 0),
            ts TEXT NOT NULL,
            PRIMARY KEY (scope, name, period)
        )"""
    )


def _m008_tokens(db: sqlite3.Connection) -> None:
    """`dos serve`'s bearer tokens (stored as SHA-256 digests, never the token) and their spend: ledger entries
    name the token, and budgets may bound one. `budgets` is settings, rebuilt to admit the `token` scope."""
    db.execute(
        """
        CREATE TABLE tokens (
            name TEXT PRIMARY KEY,
            digest TEXT NOT NULL UNIQUE,
            hint TEXT NOT NULL,
            created TEXT NOT NULL,
            sovereignty TEXT,
            skills TEXT,
            revoked TEXT
        )"""
    )
    db.execute("ALTER TABLE ledger ADD COLUMN token TEXT")
    db.execute("CREATE INDEX ledger_token ON ledger(token) WHERE token IS NOT NULL")
    db.execute(
        """
        CREATE TABLE budgets_new (
            scope TEXT NOT NULL CHECK (scope IN ('all', 'skill', 'pack', 'token')),
            name TEXT NOT NULL,
            period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month', 'total')),
            limit_micro INTEGER NOT NULL CHECK (typeof(limit_micro) = 'integer' AND limit_micro >= 0),
            ts TEXT NOT NULL,
            PRIMARY KEY (scope, name, period)
        )"""
    )
    db.execute("INSERT INTO budgets_new SELECT * FROM budgets")
    db.execute("DROP TABLE budgets")
    db.execute("ALTER TABLE budgets_new RENAME TO budgets")


def _m009_ledger_chain(db: sqlite3.Connection) -> None:
    """Ledger entries join a hash chain of their own (`ledger_hash`), so an amount edited behind DOS's back is
    caught by `dos memory verify`. Entries already there are chained in order, as they stand: nothing changes
    but the two new columns, written with the append-only trigger lifted for this one transaction. (DOS before
    this migration set `user_version` back to 8 when it opened the database: coming back, the columns are there
    and the entries it wrote meanwhile are unchained, so the chain is made again over all of them.)"""
    columns = {r[1] for r in db.execute("PRAGMA table_info(ledger)")}
    for column in ("prev_hash", "hash"):
        if column not in columns:
            db.execute(f"ALTER TABLE ledger ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
    db.execute("DROP TRIGGER ledger_no_update")
    cursor = db.execute("SELECT * FROM ledger ORDER BY seq")
    names = [c[0] for c in cursor.description]
    prev = GENESIS
    for values in cursor.fetchall():
        row = dict(zip(names, values))
        row["hash"] = ledger_hash(prev, row)
        db.execute("UPDATE ledger SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, row["hash"], row["seq"]))
        prev = row["hash"]
    db.execute("CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger "
               "BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END")


MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("001_events", _m001_events),
    ("002_fts", _m002_fts),
    ("003_purge", _m003_purge),
    ("004_current", _m004_current),
    ("005_inflight", _m005_inflight),
    ("006_scope", _m006_scope),
    ("007_ledger", _m007_ledger),
    ("008_tokens", _m008_tokens),
    ("009_ledger_chain", _m009_ledger_chain),
]


def dump_data(data: object) -> str:
    """The one canonical JSON form of `data`: what is stored and what `content_hash` covers."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def content_hash(text: str, data_json: str) -> str:
    return hashlib.sha256(text.encode() + b"\0" + data_json.encode()).hexdigest()


def chain_hash(prev_hash: str, row: dict) -> str:
    """The hash that links an event to the one before it. It covers the content through `content_hash`."""
    payload = json.dumps([prev_hash, *(row[k] for k in CHAIN_FIELDS), row["content_hash"]], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def ledger_hash(prev_hash: str, row: dict) -> str:
    """The hash that links a ledger entry to the one before it: every field of LEDGER_CHAIN_FIELDS."""
    payload = json.dumps([prev_hash, *(row.get(k, LEDGER_DEFAULTS.get(k)) for k in LEDGER_CHAIN_FIELDS)],
                         separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()
