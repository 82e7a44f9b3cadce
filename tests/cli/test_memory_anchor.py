"""`verify` also catches events cut from the end of the log, which the hash chain alone cannot show."""

from __future__ import annotations

import json
import sqlite3

import pytest


@pytest.fixture
def three_notes(dos, dos_home):
    for i in range(3):
        assert dos("memory", "remember", f"note {i}").code == 0
    return sqlite3.connect(dos_home / "data" / "memory.db")


def tamper(db: sqlite3.Connection, *statements: str) -> None:
    db.execute("DROP TRIGGER IF EXISTS events_no_delete")
    db.execute("DROP TRIGGER IF EXISTS events_no_update")
    for statement in statements:
        db.execute(statement)
    db.commit()


def test_untouched_log_verifies_and_the_anchor_follows_the_tip(dos, dos_home, three_notes):
    run = dos("memory", "verify")
    assert run.code == 0, run.err
    seq, hash_ = (dos_home / "data" / "memory.db.anchor").read_text().split()[:2]
    assert (int(seq), hash_) == three_notes.execute("SELECT seq, hash FROM events ORDER BY seq DESC").fetchone()


@pytest.mark.parametrize("cut, message", [(1, "event #3 was removed"), (2, "events #2 to #3 were removed")])
def test_events_cut_from_the_end_are_named(dos, three_notes, cut, message):
    tamper(three_notes, f"DELETE FROM events WHERE seq > {3 - cut}")
    run = dos("memory", "verify")
    assert run.code == 7 and message in run.err and run.err.count("\n") == 1


def test_the_last_event_rewritten_with_a_fresh_hash_is_caught(dos, three_notes):
    """Rewriting the last event and recomputing its hashes keeps the chain valid; the anchor does not agree."""
    from dos.adapters.store.sqlite_memory import chain_hash, content_hash

    three_notes.row_factory = sqlite3.Row
    row = dict(three_notes.execute("SELECT * FROM events WHERE seq = 3").fetchone())
    row["text"] = "a forged note"
    row["content_hash"] = content_hash(row["text"], row["data"])
    row["hash"] = chain_hash(row["prev_hash"], row)
    tamper(three_notes, "DELETE FROM events WHERE seq = 3")
    three_notes.execute(f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                        list(row.values()))
    three_notes.commit()
    run = dos("memory", "verify")
    assert run.code == 7 and "does not match the anchor file" in run.err


@pytest.mark.parametrize("cut", [1, 2])
def test_a_cut_followed_by_an_ordinary_write_is_still_caught(dos, three_notes, cut):
    """The write after the cut must not move the anchor down to the shortened log (nor over a rewritten #3)."""
    tamper(three_notes, f"DELETE FROM events WHERE seq > {3 - cut}")
    assert dos("memory", "remember", "an ordinary note after the cut").code == 0
    for _ in range(2):  # and later writes do not launder it either
        run = dos("memory", "verify")
        assert run.code == 7 and run.err.count("\n") == 1, run.err
        assert "event #3 was removed" in run.err or "event #3 does not match the anchor file" in run.err
        assert dos("memory", "remember", "one more").code == 0


def test_a_missing_anchor_is_a_warning_not_a_pass(dos, dos_home, three_notes):
    (dos_home / "data" / "memory.db.anchor").unlink()
    run = dos("memory", "verify")
    assert run.code == 0 and "ok: 3 events" in run.out
    assert run.err.count("\n") == 1 and "warning" in run.err and "memory.db.anchor is missing" in run.err
    report = dos("memory", "verify", "--json")
    assert report.code == 0 and "memory.db.anchor is missing" in json.loads(report.out)["warning"]


def test_a_missing_anchor_is_a_doctor_warning(dos_home, three_notes):
    from dos.adapters.store.memory_io import MemoryTools
    from dos.adapters.store.sqlite_memory import SqliteMemory

    memory = SqliteMemory(dos_home / "data" / "memory.db")
    assert MemoryTools(memory).verify().warning is None
    (dos_home / "data" / "memory.db.anchor").unlink()
    assert "is missing" in MemoryTools(memory).verify().warning


def test_a_log_of_ledger_entries_alone_is_anchored_and_verifies_with_no_warning(dos):
    assert dos("credits", "grant", "1").code == 0
    run = dos("memory", "verify")
    assert run.code == 0 and run.err == ""
