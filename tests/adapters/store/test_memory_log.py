"""The memory log on real SQLite files: append-only triggers, tamper detection, purge, redaction, search."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dos.adapters.store.memory_io import MemoryTools
from dos.adapters.store.sqlite_memory import SqliteMemory
from dos.core.domain import Event
from dos.core.errors import UnknownEvent, UsageError


@pytest.fixture
def memory(tmp_path: Path):
    mem = SqliteMemory(tmp_path / "memory.db")
    yield mem
    mem.close()


def note(memory: SqliteMemory, text: str, **kw) -> Event:
    return memory.append(Event("note", text, session_id="s1", turn_id="t1", actor="user", **kw))


def raw(memory: SqliteMemory) -> sqlite3.Connection:
    memory.close()
    return sqlite3.connect(memory.path, isolation_level=None)


def test_update_and_delete_are_refused_by_the_database(memory):
    note(memory, "first")
    db = raw(memory)
    for sql in ("UPDATE events SET text = 'edited'", "DELETE FROM events", "UPDATE events SET text = '', data = '{}'"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)


def test_editing_behind_the_triggers_back_is_caught_by_verify(memory):
    events = [note(memory, f"note {i}") for i in range(3)]
    assert MemoryTools(memory).verify().problem is None
    db = raw(memory)
    db.execute("DROP TRIGGER events_no_update")
    db.execute("UPDATE events SET text = 'forged' WHERE id = ?", (events[1].id,))
    report = MemoryTools(SqliteMemory(memory.path)).verify()
    assert report.event_id == events[1].id and "altered" in report.problem


def test_a_removed_event_is_named_by_verify(memory):
    events = [note(memory, f"note {i}") for i in range(3)]
    db = raw(memory)
    db.execute("DROP TRIGGER events_no_delete")
    db.execute("DELETE FROM events WHERE id = ?", (events[1].id,))
    report = MemoryTools(SqliteMemory(memory.path)).verify()
    assert report.event_id == events[2].id and "removed" in report.problem


def test_purge_blanks_row_and_index_and_verify_still_passes(memory):
    secret = note(memory, "my password is hunter2", data={"where": "hunter2"})
    note(memory, "an unrelated note")
    assert [e.id for e in memory.search('"hunter2"')] == [secret.id]
    tombstone = memory.purge(secret.id, "pasted a password")
    assert tombstone.kind == "purge" and tombstone.ref == secret.id
    blanked = memory.get(secret.id)
    assert blanked.text == "" and blanked.data == {}
    assert memory.db.execute("SELECT data FROM events WHERE id = ?", (secret.id,)).fetchone()[0] == "{}"
    assert memory.search('"hunter2"') == []
    assert memory.db.execute("SELECT COUNT(*) FROM events_fts WHERE events_fts MATCH 'hunter2'").fetchone()[0] == 0
    assert MemoryTools(memory).verify().problem is None
    with pytest.raises(UsageError, match="already purged"):
        memory.purge(secret.id)


def test_only_a_purge_may_blank_and_only_blank(memory):
    target = note(memory, "keep")
    other = note(memory, "other")
    memory.purge(target.id)
    db = raw(memory)
    with pytest.raises(sqlite3.IntegrityError):  # purged, but not blanking
        db.execute("UPDATE events SET actor = 'x' WHERE id = ?", (target.id,))
    with pytest.raises(sqlite3.IntegrityError):  # blanking, but no tombstone
        db.execute("UPDATE events SET text = '', data = '{}' WHERE id = ?", (other.id,))


@pytest.mark.parametrize("secret", [
    "sk-proj-abcdefghijklmnopqrstuvwxyz012345",
    "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
    "AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
])
def test_secrets_are_redacted_before_they_are_written(memory, secret):
    note(memory, f"key={secret} ok", data={"headers": [f"x {secret}"]})
    note(memory, "Authorization: Bearer abcdef123456.xyz")
    memory.close()
    blob = Path(memory.path).read_bytes()  # closing checkpointed the WAL into the file
    assert secret.encode() not in blob and b"abcdef123456.xyz" not in blob
    texts = [e.text for e in memory.search('"ok" OR "authorization"')]
    assert any("[REDACTED]" in t for t in texts) and any("Bearer [REDACTED]" in t for t in texts)


def test_search_ranks_filters_hides_retracted_and_shows_corrections(memory):
    a = memory.append(Event("prompt", "invoices for march", "s1", "t1", "user", skill="summarize", model="m1"))
    b = memory.append(Event("note", "invoices invoices invoices", "s2", "t2", "user"))
    c = memory.append(Event("note", "the invoice total was 10", "s2", "t3", "user"))
    assert [e.id for e in memory.search('"invoices"')] == [b.id, a.id]
    assert [e.id for e in memory.search('"invoices"', kinds=("prompt",))] == [a.id]
    assert [e.id for e in memory.search('"invoices"', skill="summarize", model="m1", session="s1")] == [a.id]
    assert memory.search('"invoices"', since="2999-01-01") == []
    assert len(memory.search('"invoices"', until="2999-01-01")) == 2
    memory.append(Event("retraction", "wrong", "s2", "t2", "user", ref=b.id))
    assert [e.id for e in memory.search('"invoices"')] == [a.id]
    memory.append(Event("correction", "the invoice total was 12", "s2", "t3", "user", ref=c.id))
    memory.append(Event("correction", "the invoice total was 15", "s2", "t3", "user", ref=c.id))
    found = memory.search('"total"')
    assert [(e.id, e.text) for e in found] == [(c.id, "the invoice total was 15")]
    assert memory.search('"12"') == []  # superseded corrections do not match


def test_purging_the_latest_correction_falls_back_to_the_one_before(memory):
    original = note(memory, "the meeting is on monday")
    memory.append(Event("correction", "the meeting is on tuesday", "s1", "t1", "user", ref=original.id))
    wrong = memory.append(Event("correction", "the meeting is on wednesday", "s1", "t1", "user", ref=original.id))
    memory.purge(wrong.id)
    assert [(e.id, e.text) for e in memory.search('"meeting"')] == [(original.id, "the meeting is on tuesday")]
    assert memory.current_text(original.id) == "the meeting is on tuesday"
    assert MemoryTools(memory).verify().problem is None


def test_correcting_a_correction_corrects_the_original_and_meta_events_are_refused(memory):
    original = note(memory, "pi is 3")
    first = memory.annotate("correction", "pi is 3.14", original.id)
    second = memory.annotate("correction", "pi is 3.14159", first.id)
    assert second.ref == original.id and memory.current_text(original.id) == "pi is 3.14159"
    retraction = memory.annotate("retraction", "", original.id)
    with pytest.raises(UsageError, match="is a retraction"):
        memory.annotate("correction", "x", retraction.id)
    with pytest.raises(UnknownEvent):
        memory.annotate("correction", "x", "01ZZZZZZZZZZ")
