"""What the whole-log operations on the memory store hand out: the log's counts, the result of checking its hash
chains, the result of an import. Plain data, no I/O: the store adapter (dos.adapters.store.memory_io) makes them,
`dos memory` and `dos doctor` render them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventStamp:
    """Which event, and when: the first and last of the log in its stats."""

    id: str
    ts: str


@dataclass(frozen=True)
class MemoryStats:
    path: str
    events: int
    by_kind: dict[str, int]  # kind -> count, kinds in alphabetical order
    file_bytes: int  # the database and its write-ahead log
    first: EventStamp | None
    last: EventStamp | None
    in_flight: int  # turns streaming now (or crashed, until the next open recovers them)


@dataclass(frozen=True)
class VerifyReport:
    """What walking the hash chains of the events and the ledger found."""

    events: int
    problem: str | None = None  # None: the chains verify
    event_id: str | None = None
    ledger: int = 0  # ledger entries checked
    warning: str | None = None  # verifies, but something keeps it from being sure (a missing anchor file)


@dataclass(frozen=True)
class ImportResult:
    mode: str  # "restore" (into an empty log, hashes kept), "merge" (re-chained) or "llm" (an `llm` logs.db)
    added: int
    skipped: int  # already present
