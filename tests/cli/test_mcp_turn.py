"""A full `dos run --tools time` on the embedded model calls mcp-server-time (forced with --tool-choice,
grammar-constrained), and the call and its result are in the memory log; a broken server costs only its tools."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest


TIME = str(Path(sys.executable).parent / "mcp-server-time")


def events(dos_home: Path) -> list[tuple[str, str, dict]]:
    db = sqlite3.connect(dos_home / "data" / "memory.db")
    return [(k, t, json.loads(d or "{}")) for k, t, d in db.execute("SELECT kind, text, data FROM events ORDER BY seq")]


@pytest.mark.model
def test_dos_run_with_tools_calls_the_time_server_on_the_embedded_model(dos, dos_home, tmp_path):
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": {
        "time": {"command": TIME, "args": []}, "broken": {"command": "/nonexistent/server"}}}))
    r = dos("run", "summarize", "--tools", "time,broken", "--tool-choice", "time__get_current_time",
            "--temperature", "0", "--max-tokens", "16", "What time is it in UTC?", timeout=300,
            env={"DOS_TRUST_PROJECT": "1"})
    assert r.code == 0, r.err
    assert r.out.strip()
    assert "MCP server 'broken'" in r.err and "command not found" in r.err and "Traceback" not in r.err
    kinds = [k for k, _, _ in events(dos_home)]
    assert kinds.index("prompt") < kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("response")
    call = next(d for k, _, d in events(dos_home) if k == "tool_call")
    result = next((t, d) for k, t, d in events(dos_home) if k == "tool_result")
    assert call["tool"] == "time__get_current_time" and isinstance(call["arguments"], dict)
    assert result[1]["ok"] is True and "datetime" in result[0]
