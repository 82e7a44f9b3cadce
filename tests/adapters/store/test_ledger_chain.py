"""The hash-chained ledger across schema versions: a database of the previous schema upgrades with nothing lost and
verifies, one a previous DOS marked back opens and verifies, one of a newer DOS is not marked back. (Tampering caught
by `dos memory verify`: tests/cli/test_ledger_chain.py.)"""

from __future__ import annotations

import sqlite3

import pytest

from dos.adapters.store.memory_io import MemoryTools
from dos.adapters.store.memory_schema import MIGRATIONS
from dos.adapters.store.sqlite_ledger import SqliteLedger
from dos.adapters.store.sqlite_memory import SqliteMemory


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
