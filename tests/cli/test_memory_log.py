"""`dos memory` on the log: verify exits 7 with one line, secrets given to remember are redacted, unknown and
ambiguous ids exit 8, a round of commands with --json, raw FTS queries; and the memory commands import no model
library."""

from __future__ import annotations

import json
import sqlite3


def test_verify_failure_exits_7_with_one_line(dos, dos_home):
    assert dos("memory", "remember", "one").code == 0
    assert dos("memory", "remember", "two").code == 0
    db = sqlite3.connect(dos_home / "data" / "memory.db", isolation_level=None)
    db.execute("DROP TRIGGER events_no_update")
    db.execute("UPDATE events SET actor = 'mallory' WHERE seq = 2")
    db.close()
    result = dos("memory", "verify")
    assert result.code == 7 and result.err.count("\n") == 1 and "#2" in result.err and "Traceback" not in result.err
    assert dos("memory", "verify", "--json").code == 7


def test_secrets_given_to_remember_are_redacted(dos):
    assert dos("memory", "remember", "token sk-ant-api03-abcdefghijklmnopqrstuvwxyz").code == 0
    out = dos("memory", "search", "token", "--json").out
    assert "[REDACTED]" in out and "abcdefghijklmnop" not in out


def test_unknown_and_ambiguous_ids_exit_8(dos):
    result = dos("memory", "show", "01ZZZZZZZZ")
    assert result.code == 8 and "no memory event" in result.err
    assert dos("memory", "correct", "nope!", "x").code == 8


def test_cli_round_of_commands_with_json(dos):
    first = json.loads(dos("memory", "remember", "the", "cat", "is", "black", "--json").out)
    assert first["kind"] == "note"
    fixed = json.loads(dos("memory", "correct", first["id"][:12], "the cat is grey", "--json").out)
    assert fixed["kind"] == "correction" and fixed["ref"] == first["id"]
    found = json.loads(dos("memory", "search", "cat", "--json").out)
    assert [(e["id"], e["text"]) for e in found] == [(first["id"], "the cat is grey")]
    shown = json.loads(dos("memory", "show", first["id"], "--json").out)
    assert shown["current_text"] == "the cat is grey" and shown["references"][0]["kind"] == "correction"
    assert list(shown) == ["seq", "id", "ts", "session_id", "turn_id", "kind", "actor", "skill", "model", "text",
                           "data", "ref", "content_hash", "prev_hash", "hash", "references", "current_text"]
    assert dos("memory", "retract", first["id"], "--reason", "wrong cat").code == 0
    assert json.loads(dos("memory", "search", "cat", "--json").out) == []
    purged = dos("memory", "purge", first["id"], "--reason", "pasted a password")
    assert purged.code == 0 and "purged" in purged.out
    refs = json.loads(dos("memory", "show", first["id"], "--json").out)["references"]
    assert [(r["kind"], r.get("reason") or r["text"]) for r in refs] == [
        ("correction", "the cat is grey"), ("retraction", "wrong cat"), ("purge", "pasted a password")]
    assert "reason: pasted a password" in dos("memory", "show", first["id"]).out
    stats = json.loads(dos("memory", "stats", "--json").out)
    assert stats["by_kind"] == {"correction": 1, "note": 1, "purge": 1, "retraction": 1} and stats["file_bytes"] > 0
    assert list(stats) == ["path", "events", "by_kind", "file_bytes", "first", "last", "in_flight"]
    assert stats["first"] == {"id": first["id"], "ts": first["ts"]}
    assert dos("memory", "verify").out.startswith("ok: 4 events")
    assert dos("memory", "search", "--since", "yesterday", "cat").code == 2


def test_memory_commands_do_not_import_model_libraries(dos_home):
    import subprocess
    import sys

    code = (
        "import sys; from dos.cli.app import app\n"
        "try: app(['memory', 'stats'], standalone_mode=False)\n"
        "finally: print(sorted(m for m in sys.modules if m.split('.')[0] in ('litellm', 'llama_cpp', 'mcp')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"DOS_HOME": str(dos_home), "PATH": "/usr/bin:/bin"}).stdout
    assert out.strip().endswith("[]")


def test_cli_raw_fts_queries_and_their_errors(dos):
    dos("memory", "remember", "alpha beta")
    dos("memory", "remember", "gamma")
    found = json.loads(dos("memory", "search", "--fts", "alpha OR gamma", "--json").out)
    assert len(found) == 2
    bad = dos("memory", "search", "--fts", "alpha AND (")
    assert bad.code == 2 and "bad search query" in bad.err and "Traceback" not in bad.err
    assert json.loads(dos("memory", "search", "beta", "--kind", "prompt", "--json").out) == []
