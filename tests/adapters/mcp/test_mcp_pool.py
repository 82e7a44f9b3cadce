"""MCP servers kept connected across turns: in the kernel (keep_connected) the next turn reuses the running
server process, a server that died is restarted, a changed spec replaces it; out of the kernel each turn's servers
end with the turn. Real servers: mcp-server-time and tests/support/mcp_fixture_server.py. (Through the kernel and
`dos run`: tests/cli/test_mcp_pool.py.)"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from dos.adapters.mcp import mcp_tools
from dos.adapters.mcp.mcp_tools import McpTools
from dos.core.tools import ServerSpec
from tests.support import SUPPORT

TIME = str(Path(sys.executable).parent / "mcp-server-time")
FIXTURE = str(SUPPORT / "mcp_fixture_server.py")


def servers_of(parent: int, name: str) -> list[int]:
    """PIDs of the live (not zombie) children of `parent` whose command line mentions `name`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(stat[1]) == parent and stat[0] != "Z" and name in cmdline:
            found.append(int(entry))
    return found


def gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


def one_turn(spec: ServerSpec) -> None:
    """What a turn does with a host: list the tools, call one, close."""
    host = McpTools(lambda: ([spec], []))
    try:
        [listed] = host.list_tools([spec])
        assert listed.error is None, listed.error
        assert host.call(spec, "echo", {"text": "hi"}).text == "echo: hi"
    finally:
        host.close()


@pytest.fixture
def kept():
    mcp_tools.keep_connected()
    yield
    mcp_tools.close_connected()


def test_kept_servers_are_reused_restarted_when_dead_and_replaced_when_changed(kept):
    spec = ServerSpec("fx", "stdio", "test", command=sys.executable, args=(FIXTURE,), timeout=10)
    one_turn(spec)
    [first] = servers_of(os.getpid(), "mcp_fixture_server")
    one_turn(spec)
    assert servers_of(os.getpid(), "mcp_fixture_server") == [first]  # the same process served the second turn

    os.kill(first, signal.SIGKILL)
    assert gone(first)
    one_turn(spec)  # no error: the dead server is noticed before the turn uses it, and started again
    [second] = servers_of(os.getpid(), "mcp_fixture_server")
    assert second != first

    changed = ServerSpec("fx", "stdio", "test", command=sys.executable, args=(FIXTURE,), timeout=9)
    one_turn(changed)
    assert gone(second)
    [third] = servers_of(os.getpid(), "mcp_fixture_server")
    assert third not in (first, second)

    mcp_tools.close_connected()
    assert gone(third)


def test_out_of_the_kernel_each_turn_closes_its_servers():
    spec = ServerSpec("fx", "stdio", "test", command=sys.executable, args=(FIXTURE,), timeout=10)
    host = McpTools(lambda: ([spec], []))
    [listed] = host.list_tools([spec])
    assert listed.error is None
    [pid] = servers_of(os.getpid(), "mcp_fixture_server")
    host.close()
    assert gone(pid)


def test_declared_servers_run_in_the_callers_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    declared = [ServerSpec("a", "stdio", "x", command="srv"), ServerSpec("b", "stdio", "x", command="srv", cwd="sub"),
                ServerSpec("c", "stdio", "x", command="srv", cwd="/abs"), ServerSpec("w", "http", "x", url="http://h")]
    host = McpTools(lambda: (declared, []))
    assert [s.cwd for s in host.servers()] == [str(tmp_path), str(tmp_path / "sub"), "/abs", ""]
