"""`dos memory import|export`: a malformed or non-UTF-8 file is one line naming file, line and column (exit 2),
export to a file and to Markdown, and the `llm` CLI's logs.db imports once (a file that is not one is refused)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path


def test_cli_import_of_a_malformed_file_is_one_line_exit_2(dos, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "note", "text": "fine"}\n{"kind": "note", "text": "fine"}\n{oops}\n')
    result = dos("memory", "import", str(bad))
    assert result.code == 2
    assert result.err == f"dos: {bad}:3:2: not valid JSON: Expecting property name enclosed in double quotes\n"
    assert json.loads(dos("memory", "stats", "--json").out)["events"] == 0


def test_cli_import_names_the_file_line_and_column_of_bad_utf8_and_reads_past_a_bom(dos, tmp_path):
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes(b'{"kind": "note", "text": "fine"}\n{"kind": "note", "text": "caf\xe9"}\n')
    result = dos("memory", "import", str(bad))
    assert result.code == 2 and result.err == f"dos: {bad}:2:30: not UTF-8 text (invalid continuation byte)\n"
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b'\xef\xbb\xbf{"kind": "note", "text": "saved by Notepad"}\n')
    assert dos("memory", "import", str(bom)).code == 0
    piped = dos("memory", "import", "-", input='{"kind": "note"}\n{"kind": "note", "ts": 5}\n')
    assert piped.code == 2 and piped.err == "dos: stdin:2:18: 'ts' must be a string, not a number\n"


def test_cli_export_to_file_and_markdown(dos, tmp_path):
    dos("memory", "remember", "buy oat milk")
    assert dos("memory", "export", "-o", str(tmp_path / "x.jsonl")).code == 0
    assert json.loads((tmp_path / "x.jsonl").read_text())["text"] == "buy oat milk"
    markdown = dos("memory", "export", "--format", "markdown").out
    assert markdown.startswith("# Session ") and "buy oat milk" in markdown
    fresh = dos("memory", "import", str(tmp_path / "x.jsonl"), "--json", env={"DOS_HOME": str(tmp_path / "h2")})
    assert json.loads(fresh.out)["mode"] == "restore"


def make_llm_logs_db(path: Path) -> None:
    """A real logs.db, schema made by the installed `llm` package's own migrations."""
    import sqlite_utils
    from llm.migrations import migrate

    db = sqlite_utils.Database(path)
    migrate(db)
    db["conversations"].insert({"id": "conv1", "name": "capitals", "model": "gpt-4o-mini"})
    db["responses"].insert({
        "id": "01j0resp1", "model": "gpt-4o-mini", "prompt": "Capital of France?", "system": "Be brief.",
        "response": "Paris.", "conversation_id": "conv1", "duration_ms": 812,
        "datetime_utc": "2024-05-01T12:00:00.123456", "input_tokens": 12, "output_tokens": 2,
    })
    db.conn.close()


def test_import_of_an_llm_logs_db(dos, tmp_path):
    logs = tmp_path / "logs.db"
    make_llm_logs_db(logs)
    result = dos("memory", "import", str(logs), "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == {"mode": "llm", "added": 1, "skipped": 0}
    assert json.loads(dos("memory", "import", str(logs), "--json").out)["skipped"] == 1
    hits = json.loads(dos("memory", "search", "France", "--json").out)
    assert [(h["kind"], h["ts"], h["data"]["system"]) for h in hits] == [("prompt", "2024-05-01T12:00:00.123Z", "Be brief.")]
    log = json.loads(dos("memory", "log", "--json").out)
    assert log[0]["response"] == "Paris." and log[0]["usage"] == {"prompt_tokens": 12, "completion_tokens": 2}
    assert log[0]["session_id"] == "llm-conv1" and log[0]["duration_s"] == 0.812
    assert dos("memory", "verify").code == 0


def test_a_file_that_is_not_an_llm_logs_db_is_refused(dos, tmp_path):
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)")
    result = dos("memory", "import", str(other))
    assert result.code == 2 and "not an `llm` logs.db" in result.err
