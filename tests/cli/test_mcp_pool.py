"""MCP servers kept connected in the warm kernel, through `dos run`: the next turn reuses the running
mcp-server-time, one killed is restarted, and the kernel's stop closes it."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
from pathlib import Path

import pytest

from tests.adapters.mcp.test_mcp_pool import TIME, gone, servers_of
from tests.support.kernel_on import kernel_on


@pytest.fixture
def kdos(dos, dos_home):
    with kernel_on(dos, dos_home) as call:
        yield call


def tool_results(dos_home: Path) -> list[dict]:
    db = sqlite3.connect(dos_home / "data" / "memory.db")
    return [json.loads(d) for (d,) in db.execute("SELECT data FROM events WHERE kind = 'tool_result' ORDER BY seq")]


@pytest.mark.model
def test_the_kernel_keeps_the_time_server_across_turns_and_restarts_it_after_a_crash(kdos, dos_home, tmp_path):
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": {"time": {"command": TIME, "args": []}}}))
    assert kdos("trust").code == 0
    turn = ["run", "summarize", "--tools", "time", "--tool-choice", "time__get_current_time", "--temperature", "0",
            "--max-tokens", "24", "What time is it in UTC?"]

    first = kdos(*turn, timeout=300)
    assert first.code == 0, first.err
    kernel = json.loads(kdos("kernel", "status", "--json").out)["pid"]
    [server] = servers_of(kernel, "mcp-server-time")

    second = kdos(*turn)
    assert second.code == 0, second.err
    assert servers_of(kernel, "mcp-server-time") == [server]  # the second turn paid no server start-up

    os.kill(server, signal.SIGKILL)
    assert gone(server)
    third = kdos(*turn)
    assert third.code == 0, third.err
    [restarted] = servers_of(kernel, "mcp-server-time")
    assert restarted != server
    assert [r["ok"] for r in tool_results(dos_home)] == [True, True, True]

    assert kdos("kernel", "stop").code == 0
    assert gone(restarted)  # closed with the kernel
