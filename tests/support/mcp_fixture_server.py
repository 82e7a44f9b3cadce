"""A tiny MCP server for tests (official SDK, stdio): `echo` answers, `crash` kills the server mid-call,
`hang` never answers, `fail` returns a tool error."""

from __future__ import annotations

import os
import sys
import time

from mcp.server.mcpserver import MCPServer

server = MCPServer("fixture")


@server.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return f"echo: {text}"


@server.tool()
def crash() -> str:
    """Exit the server in the middle of the call."""
    sys.stderr.write("fixture: crashing on purpose\n")
    sys.stderr.flush()
    os._exit(3)


@server.tool()
def hang() -> str:
    """Never answer."""
    time.sleep(600)
    return "late"


@server.tool()
def fail() -> str:
    """Raise: the SDK turns it into a tool error."""
    raise ValueError("this tool always fails")


if __name__ == "__main__":
    server.run()
