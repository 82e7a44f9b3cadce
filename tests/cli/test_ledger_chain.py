"""Ledger entries are hash-chained and anchored: an entry edited, removed or cut from the end is caught by
`dos memory verify` (exit 7, one line)."""

from __future__ import annotations

import sqlite3

import pytest


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
