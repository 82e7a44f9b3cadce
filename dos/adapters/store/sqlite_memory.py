"""The memory log in one SQLite file: append-only (enforced by triggers), hash-chained, FTS5-indexed.

Writers take the write lock up front (`BEGIN IMMEDIATE`) and wait on a busy timeout, so many processes can
append at once; the chain hash of the previous event is read inside that lock, so the chain never forks.
A turn still streaming keeps its partial answer in the `inflight` scratch table; the next process to open
the database turns the rows of dead processes into incomplete `response` events.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from dos.adapters.files.processes import alive
from dos.adapters.files.private import create_private, private_dir
from dos.adapters.store.memory_schema import GENESIS, MIGRATIONS, chain_hash, content_hash, dump_data
from dos.core.domain import Event, EventRecord, TurnSummary, Usage
from dos.core.errors import StorageError, UnknownEvent, UsageError
from dos.core.ids import new_id
from dos.core.redact import redact, redact_data

BUSY_TIMEOUT_S = 60.0
RECALL_KINDS = ("prompt", "response", "note", "decision", "import")
_STOPWORDS = frozenset(
    "the and for are but not you your with this that from have has had was were will would can could should "
    "what when where which who how why all any its into about than then them they there these those our out "
    "please just also some more most very like make want need tell give".split()
)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _wal(db: sqlite3.Connection) -> None:
    """Switches to WAL. SQLite does not wait on its busy timeout for this, so retry while others hold a lock."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)


class SqliteMemory:
    """MemoryLog on a SQLite file. Opens lazily: commands that never touch memory never open it."""

    def __init__(self, path: Path):
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._anchored: tuple[int, str] | None = None
        self._anchor_fd: int | None = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._open()
            self._recover_crashed()
        return self._db

    def _open(self) -> sqlite3.Connection:
        try:
            private_dir(self.path.parent)
            if not self.path.exists():
                create_private(self.path)  # born 0600; SQLite gives its -wal and -shm the same mode
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA synchronous=NORMAL")
            # Checkpoint every ~40 MB of WAL, not 4 MB: hot index and FTS pages are copied back far less
            # often, which keeps an append on a million-event log well under 1 ms.
            db.execute("PRAGMA wal_autocheckpoint=10000")
            db.execute("PRAGMA journal_size_limit=67108864")
            self._migrate(db)
        except (OSError, sqlite3.Error) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise StorageError(f"cannot open the memory database {self.path}: {reason}") from None
        return db

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        if db.execute("PRAGMA user_version").fetchone()[0] >= len(MIGRATIONS):
            return  # up to date, or made by a newer DOS: never marked back to this version's schema
        _wal(db)
        db.execute("BEGIN IMMEDIATE")  # another process may be migrating: wait, then re-read
        try:
            done = db.execute("PRAGMA user_version").fetchone()[0]
            for _name, migrate in MIGRATIONS[done:]:
                migrate(db)
            db.execute(f"PRAGMA user_version={max(done, len(MIGRATIONS))}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @property
    def anchor_path(self) -> Path:
        return self.path.with_name(self.path.name + ".anchor")

    def anchors(self) -> tuple[tuple[int, str], tuple[int, str] | None] | None:
        """The tips of the event log and of the ledger, (seq, hash) each, as the anchor file keeps them (seq 0: none
        yet; the ledger's None in a file written before the ledger was chained); None if there is no such file."""
        try:
            return _parse_anchor(self.anchor_path.read_bytes())
        except OSError:
            return None

    def _keep_anchor(self, db: sqlite3.Connection) -> bytes | None:
        """Record the tips of the event log and the ledger outside the database, inside the write lock, so `verify`
        can tell when entries were cut from the end (the chains alone cannot show that). The anchor only moves
        forward along the chains: when the database no longer holds the entry it names (the end was cut, then
        written again), it is left as it is, so `verify` keeps saying so. One fixed-width pwrite on a descriptor
        kept open: a few microseconds, where a temp file and rename cost 0.4 ms. Returns the bytes it replaced."""
        e_seq, e_hash, l_seq, l_hash = db.execute(_TIPS).fetchone()  # one statement: each costs ~10 us
        tips = ((e_seq or 0, e_hash or GENESIS), (l_seq or 0, l_hash or GENESIS))
        if tips == self._anchored:
            return None
        if self._anchor_fd is not None and os.fstat(self._anchor_fd).st_nlink == 0:  # deleted while we held it
            os.close(self._anchor_fd)
            self._anchor_fd = None
        if self._anchor_fd is None:
            self._anchor_fd = os.open(self.anchor_path, os.O_RDWR | os.O_CREAT, 0o600)
        before = os.pread(self._anchor_fd, 512, 0)
        kept = _parse_anchor(before)
        if kept:
            (e_kept, h_kept), (l_kept, lh_kept) = kept[0], kept[1] or (0, GENESIS)
            held = db.execute(_HELD, (e_kept, l_kept)).fetchone()
            if (e_kept and held[0] != h_kept) or (l_kept and held[1] != lh_kept):
                return None
        self._put_anchor(f"{tips[0][0]:020d} {tips[0][1]} {tips[1][0]:020d} {tips[1][1]}\n".encode(), len(before))
        self._anchored = tips
        return before

    def _put_anchor(self, line: bytes, replaced: int) -> None:
        """Write `line` over the anchor file's first `replaced` bytes, and nothing after it."""
        assert self._anchor_fd is not None
        os.pwrite(self._anchor_fd, line, 0)
        if replaced > len(line):
            os.ftruncate(self._anchor_fd, len(line))

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, the lock taken up front; any failure rolls all of it back."""
        db = self.db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                before = self._keep_anchor(db)
                try:
                    db.execute("COMMIT")
                except BaseException:
                    if before is not None:  # the anchor must not name what never committed
                        self._put_anchor(before, 512)
                        self._anchored = None
                    raise
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StorageError(f"cannot write to the memory database {self.path}: {exc}") from None

    @staticmethod
    def tip(db: sqlite3.Connection) -> str:
        last = db.execute("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return last[0] if last else GENESIS

    @staticmethod
    def insert(db: sqlite3.Connection, prev: str, fields: dict, purged_hash: str | None = None) -> dict:
        """Chains `fields` (every column up to `ref`, `data` as canonical JSON) after `prev`; returns the row.
        `purged_hash` restores a purged event: blank content, the content hash it had."""
        row = dict(fields)
        row["content_hash"] = purged_hash or content_hash(row["text"], row["data"])
        row["prev_hash"] = prev
        row["hash"] = chain_hash(prev, row)
        db.execute(f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
        return row

    def append(self, event: Event) -> Event:
        fields = fields_of(event)
        with self.write() as db:
            row = self.insert(db, self.tip(db), fields)
            if event.kind == "response":
                db.execute("DELETE FROM inflight WHERE turn_id = ?", (event.turn_id,))
        return _event(row)

    def append_many(self, events: list[Event]) -> list[Event]:
        """Appends all of `events` in one transaction (bulk loads, imports)."""
        with self.write() as db:
            prev, rows = self.tip(db), []
            for event in events:
                rows.append(self.insert(db, prev, fields_of(event)))
                prev = rows[-1]["hash"]
        return [_event(r) for r in rows]

    def progress(self, event: Event) -> None:
        """Keeps the partial `response` of a streaming turn so a crash loses none of it."""
        with self.write() as db:
            db.execute(
                "INSERT OR REPLACE INTO inflight VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (event.turn_id, os.getpid(), event.session_id, event.skill, event.model,
                 redact(event.text), dump_data(redact_data(event.data)), utc_now()),
            )

    def _recover_crashed(self) -> None:
        db = self._db
        assert db is not None
        dead = [r["turn_id"] for r in db.execute("SELECT turn_id, pid FROM inflight") if not alive(r["pid"])]
        for turn_id in dead:
            with self.write() as db:
                row = db.execute("SELECT * FROM inflight WHERE turn_id = ?", (turn_id,)).fetchone()
                if row is None:  # another process recovered it first
                    continue
                data = json.loads(row["data"]) | {"complete": False, "error": "crashed", "pid": row["pid"]}
                event = Event("response", row["text"], row["session_id"], turn_id, "model", row["skill"],
                              row["model"], data)
                self.insert(db, self.tip(db), fields_of(event))
                db.execute("DELETE FROM inflight WHERE turn_id = ?", (turn_id,))

    # -- reading ---------------------------------------------------------------------------------------

    def get(self, ident: str) -> EventRecord:
        """The event with this id, or with this unique id prefix (case-insensitive)."""
        prefix = ident.strip().upper()
        if not re.fullmatch(r"[0-9A-Z]{4,26}", prefix):
            raise UnknownEvent(ident)
        rows = self.db.execute(
            "SELECT * FROM events WHERE id >= ? AND id < ? ORDER BY id LIMIT 2", (prefix, prefix + "~")
        ).fetchall()
        if len(rows) != 1:
            raise UnknownEvent(ident, ambiguous=len(rows) > 1)
        return record(rows[0])

    def references(self, event_id: str) -> list[EventRecord]:
        """The corrections, retractions and purges of an event, oldest first."""
        return [record(r) for r in self.db.execute("SELECT * FROM events WHERE ref = ? ORDER BY seq", (event_id,))]

    def current_text(self, event_id: str) -> str | None:
        """The event's text as recall sees it (its latest correction's), or None if retracted or purged."""
        row = self.db.execute(
            "SELECT text FROM current_events WHERE id = ? ORDER BY text_seq DESC LIMIT 1", (event_id,)
        ).fetchone()
        return row[0] if row else None

    def search(self, match: str, *, kinds: tuple[str, ...] = (), skill: str | None = None,
               model: str | None = None, session: str | None = None, since: str | None = None,
               until: str | None = None, exclude_turn: str | None = None, limit: int = 20) -> list[Event]:
        """Live events whose current text matches the FTS5 query `match`, best (bm25) first."""
        where, args = ["events_fts MATCH ?"], [match]
        for column, value in (("skill", skill), ("model", model), ("session_id", session)):
            if value:
                where.append(f"c.{column} = ?")
                args.append(value)
        if kinds:
            where.append(f"c.kind IN ({', '.join('?' * len(kinds))})")
            args.extend(kinds)
        if since:
            where.append("c.ts >= ?")
            args.append(since)
        if until:
            where.append("c.ts < ?")
            args.append(until)
        if exclude_turn:
            where.append("c.turn_id != ?")
            args.append(exclude_turn)
        # Rank inside FTS5 first (fast), then join the view and filter; widen until enough rows survive.
        sql = (
            "SELECT c.* FROM (SELECT rowid, rank FROM events_fts WHERE events_fts MATCH ? ORDER BY rank LIMIT ?) AS f "
            f"JOIN current_events AS c ON c.text_seq = f.rowid WHERE {' AND '.join(where[1:]) or 1} "
            "ORDER BY f.rank LIMIT ?"
        )
        pool = max(limit * 5, 100)
        try:
            while True:
                rows = self.db.execute(sql, [match, pool, *args[1:], limit]).fetchall()
                if len(rows) >= limit or pool >= 1 << 40:
                    break
                pool = 1 << 40 if pool >= 100_000 else pool * 20
        except sqlite3.OperationalError as exc:
            raise UsageError(f"bad search query {match!r}: {exc}") from None
        return [_event(r) for r in rows]

    def related(self, text: str, limit: int, exclude_turn: str | None = None) -> list[Event]:
        """Recall: live events sharing the most telling words of `text`, best first."""
        words = {w.lower() for w in re.findall(r"\w{3,}", text)} - _STOPWORDS
        terms = sorted(words, key=lambda w: (-len(w), w))[:16]
        if not terms:
            return []
        match = " OR ".join(f'"{t}"' for t in terms)
        return self.search(match, kinds=RECALL_KINDS, exclude_turn=exclude_turn, limit=limit)

    def recent_turns(self, limit: int) -> list[TurnSummary]:
        return self._turns("", (), limit)

    def session_turns(self, session_id: str, limit: int, exclude_turn: str | None = None) -> list[TurnSummary]:
        """The last `limit` turns of a session, oldest first; retracted and purged prompts left out."""
        return self._turns(
            "AND session_id = ? AND turn_id != ? AND NOT EXISTS "
            "(SELECT 1 FROM events x WHERE x.ref = events.id AND x.kind IN ('retraction', 'purge'))",
            (session_id, exclude_turn or ""), limit,
        )

    def _turns(self, condition: str, args: tuple, limit: int) -> list[TurnSummary]:
        rows = self.db.execute(
            f"""
            SELECT p.ts, p.session_id, p.turn_id, p.skill, p.model, p.text AS prompt,
                   r.text AS response, r.data AS rdata, r.model AS rmodel
            FROM (SELECT * FROM events WHERE kind = 'prompt' {condition} ORDER BY seq DESC LIMIT ?) AS p
            LEFT JOIN events AS r ON r.turn_id = p.turn_id AND +r.kind = 'response'  -- + : use events_turn
            ORDER BY p.seq
            """,
            (*args, limit),
        ).fetchall()
        return [_summary(row) for row in rows]

    def turn(self, turn_id: str) -> TurnSummary | None:
        """One turn by its id, if its prompt is on record."""
        found = self._turns("AND turn_id = ?", (turn_id,), 1)
        return found[0] if found else None

    def last_session(self, scope: str) -> str | None:
        """The session of the last prompt recorded with this scope (a terminal or a folder)."""
        row = self.db.execute(
            "SELECT session_id FROM events WHERE json_extract(data, '$.scope') = ? AND kind = 'prompt' "
            "ORDER BY seq DESC LIMIT 1",
            (scope,),
        ).fetchone()
        return row[0] if row else None

    def records(self) -> Iterator[EventRecord]:
        """Every event in chain order."""
        return map(record, self.db.execute("SELECT * FROM events ORDER BY seq"))

    # -- audited changes -------------------------------------------------------------------------------

    def annotate(self, kind: str, text: str, ident: str) -> Event:
        """Appends a `correction` or `retraction` of an event, in its session and turn. Correcting a
        correction corrects the original."""
        target = self.get(ident)
        if target.kind == "correction" and target.ref:
            target = self.get(target.ref)
        elif target.kind in ("retraction", "purge"):
            raise UsageError(f"event {target.id} is a {target.kind}; name the event it refers to")
        return self.append(Event(kind, text, target.session_id, target.turn_id, "user", ref=target.id))

    def purge(self, ident: str, reason: str = "") -> Event:
        """Writes a `purge` tombstone and blanks the event's text and data (row and index) in one step."""
        target = self.get(ident)
        if target.kind == "purge":
            raise UsageError(f"event {target.id} is a purge tombstone; it holds no text to purge")
        with self.write() as db:
            if db.execute("SELECT 1 FROM events WHERE ref = ? AND kind = 'purge'", (target.id,)).fetchone():
                raise UsageError(f"event {target.id} is already purged")
            tombstone = Event("purge", "", target.session_id, target.turn_id, "user", ref=target.id,
                              data={"reason": reason, "content_hash": target.content_hash})
            row = self.insert(db, self.tip(db), fields_of(tombstone))
            db.execute("UPDATE events SET text = '', data = '{}' WHERE seq = ?", (target.seq,))
        return _event(row)

    def file_size(self) -> int:
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._anchor_fd is not None:
            os.close(self._anchor_fd)
            self._anchor_fd = None


_TIPS = ("SELECT (SELECT seq FROM events ORDER BY seq DESC LIMIT 1), "
         "(SELECT hash FROM events ORDER BY seq DESC LIMIT 1), "
         "(SELECT seq FROM ledger ORDER BY seq DESC LIMIT 1), (SELECT hash FROM ledger ORDER BY seq DESC LIMIT 1)")
_HELD = "SELECT (SELECT hash FROM events WHERE seq = ?), (SELECT hash FROM ledger WHERE seq = ?)"


def _parse_anchor(raw: bytes) -> tuple[tuple[int, str], tuple[int, str] | None] | None:
    """`SEQ HASH` (before the ledger was chained) or `SEQ HASH LEDGER_SEQ LEDGER_HASH`; None if it is neither."""
    fields = raw.split()
    try:
        pairs = [(int(fields[i]), fields[i + 1].decode()) for i in range(0, len(fields), 2)]
    except (ValueError, IndexError, UnicodeDecodeError):
        return None
    if len(pairs) not in (1, 2) or any(len(h) != 64 for _, h in pairs):
        return None
    return pairs[0], (pairs[1] if len(pairs) == 2 else None)


def fields_of(event: Event) -> dict:
    """The stored columns of a new event (before hashing), redacted."""
    return {
        "id": event.id or new_id(),
        "ts": event.ts or utc_now(),
        "session_id": event.session_id,
        "turn_id": event.turn_id,
        "kind": event.kind,
        "actor": event.actor,
        "skill": event.skill,
        "model": event.model,
        "text": redact(event.text),
        "data": dump_data(redact_data(event.data)),
        "ref": event.ref,
    }


def _event(row: sqlite3.Row | dict) -> Event:
    return Event(
        kind=row["kind"], text=row["text"], session_id=row["session_id"], turn_id=row["turn_id"],
        actor=row["actor"], skill=row["skill"], model=row["model"], data=json.loads(row["data"]),
        ref=row["ref"], id=row["id"], ts=row["ts"], hash=row["hash"],
    )


def record(row: sqlite3.Row) -> EventRecord:
    """A row of `events` as stored, `data` parsed."""
    return EventRecord(**dict(row) | {"data": json.loads(row["data"])})


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
