"""Ledger entries are hash-chained and anchored: an entry edited, removed or cut from the end is caught by
`dos memory verify` (exit 7, one line); a database of the previous schema upgrades with nothing lost."""

from __future__ import annotations

import sqlite3

import pytest

from dos.adapters.store.memory_io import MemoryTools
from dos.adapters.store.memory_schema import MIGRATIONS
from dos.adapters.store.sqlite_ledger import SqliteLedger
from dos.adapters.store.sqlite_memory import SqliteMemory


@pytest.fixture
def granted(dos, dos_home):
    for args in (("credits", "grant", "1.00", "--note", "March"), ("credits", "adjust", "-0.25", "--note", "fee"),
                 ("credits", "grant", "2.00")):
        assert dos(*args).code == 0
    assert dos("memory", "remember", "a note beside the ledger").code == 0
    return sqlite3.connect(dos_home / "data" / "memory.db")


def tamper(db: sqlite3.Connection, statement: str) -> None:
    db.execute("DROP TRIGGER IF EXISTS ledger_no_update")
    db.execute("DROP TRIGGER IF EXISTS ledger_no_delete")
    db.execute(statement)
    db.commit()


def test_an_untouched_ledger_verifies(dos, granted):
    run = dos("memory", "verify")
    assert run.code == 0 and "1 events and 3 ledger entries" in run.out, run.err


def test_a_grant_edited_from_1_to_100_is_caught(dos, granted):
    tamper(granted, "UPDATE ledger SET amount = 100000000 WHERE amount = 1000000")
    assert dos("credits").code == 0  # the balance reads 102.75 now: only verify can tell it is forged
    run = dos("memory", "verify")
    assert run.code == 7 and run.err.count("\n") == 1, run.err
    assert "ledger entry" in run.err and "(#1)" in run.err and "altered" in run.err


@pytest.mark.parametrize("statement, where", [
    ("DELETE FROM ledger WHERE seq = 2", "(#3)"),  # a middle entry: the chain breaks at the next
    ("DELETE FROM ledger WHERE seq = 3", "#3 was removed"),  # the last: only the anchor knows
    ("UPDATE ledger SET note = 'April' WHERE seq = 1", "(#1)"),
])
def test_removed_or_edited_entries_are_caught(dos, granted, statement, where):
    tamper(granted, statement)
    run = dos("memory", "verify")
    assert run.code == 7 and where in run.err and run.err.count("\n") == 1, run.err


def test_the_last_entry_cut_then_a_new_grant_is_still_caught(dos, granted):
    tamper(granted, "DELETE FROM ledger WHERE seq = 3")
    assert dos("credits", "grant", "0.10").code == 0
    run = dos("memory", "verify")
    assert run.code == 7 and "ledger entry #3 does not match the anchor file" in run.err, run.err


def test_a_database_of_the_previous_schema_upgrades_with_every_entry_kept(tmp_path):
    """Made by migrations 001-008 (the released schema before the chain), with entries of every kind."""
    path = tmp_path / "memory.db"
    old = sqlite3.connect(path, isolation_level=None)
    old.row_factory = sqlite3.Row
    for _name, migrate in MIGRATIONS[:8]:
        migrate(old)
    old.execute("PRAGMA user_version=8")
    rows = [("01A", "grant", 5_000_000, 0, "g1", None, None), ("01B", "hold", 0, 400_000, "h1", None, None),
            ("01C", "debit", -123_456, 0, "d1", "01B", "tok"), ("01D", "adjust", -1, 0, "a1", None, None)]
    for ident, kind, amount, reserved, key, ref, token in rows:
        old.execute("INSERT INTO ledger (id, ts, kind, amount, reserved, key, ref, token, note, pid) "
                    "VALUES (?, '2026-01-02T03:04:05.000Z', ?, ?, ?, ?, ?, ?, 'n', 1)",
                    (ident, kind, amount, reserved, key, ref, token))
    before = [tuple(r) for r in old.execute("SELECT * FROM ledger ORDER BY seq")]
    old.close()

    memory = SqliteMemory(path)
    ledger = SqliteLedger(memory)
    assert memory.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    after = memory.db.execute("SELECT * FROM ledger ORDER BY seq").fetchall()
    assert [tuple(r)[:len(before[0])] for r in after] == before  # every entry, every column, as it was
    assert ledger.balance() == 5_000_000 - 123_456 - 1
    report = MemoryTools(memory).verify()
    assert report.problem is None and report.ledger == 4
    ledger.grant(1_000_000, key="g2")  # the chain goes on from the upgraded entries
    report = MemoryTools(memory).verify()
    assert report.problem is None and report.ledger == 5
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        memory.db.execute("UPDATE ledger SET amount = 1 WHERE id = '01A'")


def test_a_database_that_went_back_to_the_previous_dos_and_returns_opens_and_verifies(tmp_path):
    """DOS before the chain marked any newer database back to schema 8 and wrote unchained entries into it."""
    path = tmp_path / "memory.db"
    ledger = SqliteLedger(SqliteMemory(path))
    ledger.grant(1_000_000, key="g1")
    ledger.memory.close()
    older = sqlite3.connect(path, isolation_level=None)
    older.execute("PRAGMA user_version=8")
    older.execute("INSERT INTO ledger (id, ts, kind, amount, key, pid) VALUES ('01Z', '2026-01-02T00:00:00.000Z', "
                  "'grant', 2000000, 'g-old', 1)")
    older.close()

    memory = SqliteMemory(path)
    assert SqliteLedger(memory).balance() == 3_000_000
    report = MemoryTools(memory).verify()
    assert report.problem is None and report.ledger == 2, report.problem


def test_a_database_of_a_newer_dos_is_not_marked_back(tmp_path):
    path = tmp_path / "memory.db"
    SqliteMemory(path).db.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    memory = SqliteMemory(path)
    assert memory.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
