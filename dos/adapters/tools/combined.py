"""One `ToolHost` over several (the built-in tools, the MCP servers): each server is served by the host that
declared it; a name two hosts declare is the first one's."""

from __future__ import annotations

from typing import Any

from dos.core.ports import ToolHost
from dos.core.tools import ServerSpec, ServerTools, ToolResult


class CombinedTools:
    def __init__(self, *hosts: ToolHost):
        self.hosts = hosts
        self._owner: dict[str, ToolHost] = {}

    def servers(self) -> list[ServerSpec]:
        out: list[ServerSpec] = []
        for host in self.hosts:
            for spec in host.servers():
                if self._owner.setdefault(spec.name, host) is host and spec.name not in {s.name for s in out}:
                    out.append(spec)
        return out

    def list_tools(self, servers: list[ServerSpec]) -> list[ServerTools]:
        listed: dict[str, ServerTools] = {}
        for host in self.hosts:
            mine = [s for s in servers if self._owner.get(s.name) is host]
            if mine:
                listed |= {found.server.name: found for found in host.list_tools(mine)}
        return [listed[s.name] for s in servers if s.name in listed]

    def call(self, server: ServerSpec, tool: str, arguments: dict[str, Any]) -> ToolResult:
        host = self._owner.get(server.name)
        if host is None:
            return ToolResult(error=f"no tool server named '{server.name}'")
        return host.call(server, tool, arguments)

    def close(self) -> None:
        for host in self.hosts:
            host.close()
