"""`dos mcp list` and `dos mcp call` against mcp-server-time (from PyPI) and a server that does not exist: secrets
never shown, one-line errors with exit 15 or 2, and a home with no server declared."""

from __future__ import annotations

import json

from tests.adapters.mcp.test_mcp_client import time_server, write_mcp_json


def test_dos_mcp_list_and_call(dos, tmp_path):
    write_mcp_json(tmp_path, {"time": time_server(env={"SECRET_TOKEN": "hunter2-secret"}),
                              "broken": {"command": "/nonexistent/server"}})
    assert dos("trust").code == 0
    r = dos("mcp", "list")
    assert r.code == 0, r.err
    assert "time__get_current_time" in r.out and "command not found" in r.out and "hunter2" not in r.out + r.err
    data = json.loads(dos("mcp", "list", "--json").out)
    by = {s["name"]: s for s in data["servers"]}
    assert by["time"]["status"] == "ok" and by["broken"]["status"] == "error" and by["time"]["env"] == ["SECRET_TOKEN"]
    r = dos("mcp", "call", "time", "get_current_time", "--args", '{"timezone": "UTC"}')
    assert r.code == 0, r.err
    assert json.loads(r.out)["timezone"] == "UTC"
    r = dos("mcp", "call", "time", "get_current_time", "--args", '{"timezone": "UTC"}', "--json")
    assert json.loads(r.out)["structured"]["timezone"] == "UTC"


def test_dos_mcp_call_errors(dos, tmp_path):
    write_mcp_json(tmp_path, {"time": time_server(), "broken": {"command": "/nonexistent/server"}})
    assert dos("trust").code == 0
    r = dos("mcp", "call", "broken", "x")
    assert r.code == 15 and r.err.count("\n") == 1 and "command not found" in r.err and "Traceback" not in r.err
    r = dos("mcp", "call", "time", "get_current_time", "--args", '{"timezone": "Nowhere/Nope"}')
    assert r.code == 15 and "returned an error" in r.err
    r = dos("mcp", "call", "nope", "x")
    assert r.code == 2 and "declared: time, broken" in r.err
    r = dos("mcp", "call", "time", "x", "--args", "{not json")
    assert r.code == 2 and "not JSON" in r.err


def test_no_servers_declared(dos):
    r = dos("mcp", "list")
    assert r.code == 0 and "no MCP servers declared" in r.out
