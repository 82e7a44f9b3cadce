"""MCP client: servers from every config source, the official SDK against real servers (mcp-server-time from
PyPI, and a fixture server that crashes and hangs). (`dos mcp list` / `dos mcp call`: tests/cli/test_mcp.py.)"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from dos.adapters.mcp.mcp_config import McpConfig
from dos.adapters.mcp.mcp_tools import McpTools
from dos.core.errors import InvalidConfig
from dos.core.skills.rules import Pack
from dos.core.tools import ServerSpec, ToolSpec, allows, qualify, servers_named, split_name, tool_setting
from tests.support import SUPPORT

BIN = Path(sys.executable).parent
TIME = str(BIN / "mcp-server-time")
FIXTURE = str(SUPPORT / "mcp_fixture_server.py")


def time_server(**extra) -> dict:
    return {"command": TIME, "args": []} | extra


def write_mcp_json(folder: Path, servers: dict) -> Path:
    path = folder / ".mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}))
    return path


# ---------------------------------------------------------------------------------------------- pure rules


def test_names_schema_and_allowed_tools():
    spec = ToolSpec("time", "get_current_time", "Get the time", {"type": "object", "properties": {"tz": {}}})
    assert spec.qualified == "time__get_current_time" == qualify("time", "get_current_time")
    assert split_name("time__get_current_time") == ("time", "get_current_time")
    shape = spec.for_model()
    assert shape["function"]["parameters"]["properties"] == {"tz": {}}
    assert shape["function"]["description"] == "Get the time"
    assert tool_setting("Read, time mcp__git") == ("Read", "time", "mcp__git")
    assert allows(("time",), "time__get_current_time")
    assert allows(("mcp__time__get_current_time",), "time__get_current_time")
    assert allows(("time__get_*",), "time__get_current_time")
    assert not allows(("time__convert_time", "Read"), "time__get_current_time")
    assert servers_named(["mcp__time", "Read", "git__log"], ["time", "git", "web"]) == ["time", "git"]


def test_secrets_are_never_described():
    spec = ServerSpec("s", "http", "x", url="https://user:pw@example.com/mcp?token=abc",
                      headers=(("Authorization", "Bearer abcdefghijkl"),))
    shown = json.dumps(spec.describe())
    assert "abc" not in shown.replace("Authorization", "") and "pw" not in shown and "Bearer" not in shown
    assert "https://example.com/mcp" in shown and "Authorization" in shown
    stdio = ServerSpec("s", "stdio", "x", command="srv", env=(("API_KEY", "hunter2"),))
    assert "hunter2" not in repr(stdio) and "hunter2" not in json.dumps(stdio.describe())


# ---------------------------------------------------------------------------------------------- config sources


def test_config_sources_and_precedence(tmp_path):
    config, project = tmp_path / "config", tmp_path / "project"
    (project / ".dos").mkdir(parents=True)
    config.mkdir()
    (project / ".dos" / "mcp.yaml").write_text("servers:\n  time:\n    command: ${TIME_CMD}\n    timeout: 5\n")
    write_mcp_json(project, {"time": time_server(), "web": {"type": "http", "url": "https://example.com/mcp",
                                                           "headers": {"Authorization": "Bearer ${TOKEN:-none}"}}})
    (config / "mcp.yaml").write_text("mcpServers:\n  mine:\n    command: mine-server\n    args: [--x]\n")
    pack_dir = tmp_path / "pack"
    pack_dir.mkdir()
    (pack_dir / "tools.json").write_text(json.dumps({"mcpServers": {"packed": {"command": "${DOS_PACK_ROOT}/srv"}}}))
    packs = [Pack("p", "1", "d", str(pack_dir), mcp=("tools.json",)),
             Pack("q", "1", "d", str(tmp_path), mcp={"inline": {"command": "inline-srv"}})]
    env = {"TIME_CMD": TIME}
    servers, problems = McpConfig(config, project, packs, env.get).load()
    assert problems == []
    by = {s.name: s for s in servers}
    assert [s.name for s in servers] == ["time", "web", "mine", "packed", "inline"]
    assert by["time"].command == TIME and by["time"].timeout == 5 and by["time"].origin.endswith(".dos/mcp.yaml")
    assert dict(by["web"].headers) == {"Authorization": "Bearer none"} and by["web"].transport == "http"
    assert by["mine"].args == ("--x",)
    assert by["packed"].command == f"{pack_dir}/srv"


def test_bad_entries_are_problems_and_a_broken_dos_file_is_invalid_config(tmp_path):
    write_mcp_json(tmp_path, {"ok": time_server(), "nocmd": {"args": []}, "bad__name": time_server(),
                              "sse": {"type": "sse", "url": "https://x"}})
    servers, problems = McpConfig(tmp_path / "c", tmp_path).load()
    assert [s.name for s in servers] == ["ok"]
    assert len(problems) == 3 and all(".mcp.json" in p for p in problems)
    (tmp_path / ".dos").mkdir()
    (tmp_path / ".dos" / "mcp.yaml").write_text("servers: [unclosed\n")
    with pytest.raises(InvalidConfig, match="mcp.yaml"):
        McpConfig(tmp_path / "c", tmp_path).load()


# ---------------------------------------------------------------------------------------------- the SDK, real servers


def test_real_time_server_lists_and_calls():
    spec = ServerSpec("time", "stdio", "test", command=TIME)
    host = McpTools(lambda: ([spec], []))
    try:
        [listed] = host.list_tools([spec])
        assert listed.error is None
        names = [t.qualified for t in listed.tools]
        assert "time__get_current_time" in names
        tool = next(t for t in listed.tools if t.name == "get_current_time")
        assert tool.schema["properties"]["timezone"]["type"] == "string" and tool.description
        result = host.call(spec, "get_current_time", {"timezone": "UTC"})
        assert result.ok and json.loads(result.text)["timezone"] == "UTC"
    finally:
        host.close()


def test_broken_crashing_and_hanging_servers_give_one_line_errors():
    missing = ServerSpec("missing", "stdio", "test", command="/nonexistent/server")
    exits = ServerSpec("exits", "stdio", "test", command=sys.executable,
                       args=("-c", "import sys; sys.stderr.write('cannot open db\\n'); sys.exit(2)"))
    fixture = ServerSpec("fx", "stdio", "test", command=sys.executable, args=(FIXTURE,), timeout=3)
    host = McpTools(lambda: ([missing, exits, fixture], []))
    try:
        listed = {s.server.name: s for s in host.list_tools([missing, exits, fixture])}
        assert "command not found" in listed["missing"].error
        assert "cannot open db" in listed["exits"].error
        assert {t.name for t in listed["fx"].tools} >= {"echo", "crash", "hang"}
        assert host.call(fixture, "echo", {"text": "hi"}).text == "echo: hi"
        failed = host.call(fixture, "fail", {})
        assert failed.is_error and failed.text.startswith("Error executing tool fail")
        started = time.monotonic()
        hung = host.call(fixture, "hang", {})
        assert hung.error and "timed out after 3 s" in hung.error and time.monotonic() - started < 10
        crashed = host.call(fixture, "crash", {})
        assert crashed.error and "fx" in crashed.error and "\n" not in crashed.error
        assert host.call(fixture, "echo", {"text": "again"}).text == "echo: again"  # restarted on next use
    finally:
        host.close()


def test_each_server_problem_names_the_line_of_the_offending_key(tmp_path):
    config = tmp_path / "c"
    config.mkdir()
    user = config / "mcp.yaml"
    user.write_text("mcpServers:\n  time:\n    command: t\n  bad:\n    command: x\n    timeout: forever\n"
                    "  web:\n    type: http\n    url: ftp://x\n  weird:\n    command: y\n    colour: red\n"
                    "  bad__name:\n    command: z\n")
    (tmp_path / ".mcp.json").write_text('{\n  "mcpServers": {\n    "one": {"command": "a"},\n'
                                        '    "two": {\n      "args": ["x"]\n    }\n  }\n}\n')
    plugin = tmp_path / "plug"
    (plugin / ".claude-plugin").mkdir(parents=True)
    (plugin / ".claude-plugin" / "plugin.json").write_text('{"name": "plug"}')
    (plugin / ".mcp.json").write_text('{"mcpServers": {\n  "p": {"command": "srv",\n        "env": ["A=1"]}}}\n')
    packs = [Pack("plug", "1", "d", str(plugin), kind="claude-plugin", mcp={"mcpServers": {"p": {}}})]
    servers, problems = McpConfig(config, tmp_path, packs).load()
    assert [s.name for s in servers] == ["one", "time", "weird"]
    assert problems == [
        f"{tmp_path / '.mcp.json'}:4: server 'two': 'command' must be a non-empty string",
        f"{user}:6: server 'bad': 'timeout' must be seconds (0-3600)",
        f"{user}:9: server 'web': 'url' must be an http(s) URL",
        f"{user}:12: server 'weird': unknown key(s) colour (ignored)",
        f"{user}:13: server name 'bad__name' must not contain '__' (it separates server and tool names)",
        f"{plugin / '.mcp.json'}:3: server 'p': 'env' must be a mapping",
    ]
