"""Export and import: lossless DOS JSONL round trips, all-or-nothing imports (the `llm` CLI's logs.db, through
`dos memory import`: tests/cli/test_memory_io.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dos.adapters.store.memory_io import MemoryTools
from dos.adapters.store.sqlite_memory import SqliteMemory
from dos.core.domain import Event
from dos.core.errors import UsageError
from dos.core.memory_records import ImportResult


def filled(path: Path) -> SqliteMemory:
    memory = SqliteMemory(path)
    p = memory.append(Event("prompt", "Summarize: the café opens at 9 ✓", "s1", "t1", "user", skill="summarize",
                            model="local/smollm2", data={"scope": "tty:/dev/pts/1"}))
    memory.append(Event("response", "It opens at 9.", "s1", "t1", "model", skill="summarize",
                        model="local/smollm2", data={"usage": {"prompt_tokens": 9}, "cost": 0.1, "complete": True}))
    secret = memory.append(Event("note", "secret plans", "s2", "t2", "user"))
    memory.append(Event("correction", "Summarize: opens at 10", "s1", "t1", "user", ref=p.id))
    memory.purge(secret.id, "oops")
    return memory


def export(memory: SqliteMemory, fmt: str = "jsonl") -> str:
    out = io.StringIO()
    MemoryTools(memory).export(out, fmt)
    return out.getvalue()


def test_export_then_import_into_a_fresh_log_is_lossless_and_verifies(tmp_path):
    text = export(filled(tmp_path / "a.db"))
    fresh = SqliteMemory(tmp_path / "b.db")
    assert MemoryTools(fresh).import_file(io.StringIO(text)).mode == "restore"
    assert MemoryTools(fresh).verify().problem is None
    assert export(fresh) == text  # same ids, times, hashes, byte for byte
    assert [e.text for e in fresh.search('"opens"', kinds=("prompt",))] == ["Summarize: opens at 10"]


def test_import_into_a_used_log_merges_skips_duplicates_and_verifies(tmp_path):
    text = export(filled(tmp_path / "a.db"))
    other = SqliteMemory(tmp_path / "b.db")
    other.append(Event("note", "already here", "s9", "t9", "user"))
    tools = MemoryTools(other)
    assert tools.import_file(io.StringIO(text)) == ImportResult("merge", added=5, skipped=0)
    assert tools.import_file(io.StringIO(text)) == ImportResult("merge", added=0, skipped=5)
    assert tools.verify().problem is None
    assert tools.stats().by_kind["import"] == 1


@pytest.mark.parametrize("bad, message", [
    # a line cut short: the column is where it ends, not "column 1" of the line after it
    ('{"kind": "note", "text": "ok"}\n{"kind": "note", "text": \n',
     "stdin:2:25: not valid JSON: Expecting value at the end of the line"),
    ('{"kind": "note", "text": "ok"}\r\n{"kind": "note" "text": "x"}\r\n', "stdin:2:17: not valid JSON: Expecting ','"),
    ('{"kind": "note", "text": "ok"}\n\n[1, 2]\n', "stdin:3: expected a JSON object, got an array"),
    ('{"text": "no kind"}\n', "stdin:1: missing the event's 'kind'"),  # no key to point at: no column
    ('{"kind": ""}\n', "stdin:1:2: 'kind' must be a non-empty string"),
    ('{"kind": "note", "data": "not an object"}\n', "stdin:1:18: 'data' must be an object, not a string"),
    # the top-level key, not the same name inside `data`
    ('{"kind": "note", "data": {"text": 1}, "text": 5}\n', "stdin:1:39: 'text' must be a string, not a number"),
])
def test_malformed_import_names_the_line_and_column_and_imports_nothing(tmp_path, bad, message):
    memory = SqliteMemory(tmp_path / "m.db")
    memory.append(Event("note", "before", "s", "t", "user"))
    with pytest.raises(UsageError) as err:
        MemoryTools(memory).import_file(io.StringIO(bad))
    assert err.value.message.startswith(message), err.value.message
    assert MemoryTools(memory).stats().events == 1


def test_an_edited_export_does_not_restore(tmp_path):
    lines = export(filled(tmp_path / "a.db")).splitlines()
    record = json.loads(lines[1])
    record["text"] = "It opens at 11."
    lines[1] = json.dumps(record)
    fresh = SqliteMemory(tmp_path / "b.db")
    with pytest.raises(UsageError) as err:
        MemoryTools(fresh).import_file(io.StringIO("\n".join(lines)))
    column = lines[1].index('"content_hash"') + 1
    assert err.value.message == f"stdin:2:{column}: its text or data do not match its content_hash (edited file)"
    assert MemoryTools(fresh).stats().events == 0
