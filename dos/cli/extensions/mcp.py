"""`dos mcp`: MCP servers declared for DOS (list, call a tool directly) and DOS served over MCP (serve)."""

from __future__ import annotations

import json
import sys
import typer

from dos.bootstrap import build
from dos.cli.output import console, on_terminal, print_json
from dos.core.errors import ToolError, UsageError
from dos.core.printable import printable

app = typer.Typer(no_args_is_help=True, help="MCP servers: list their tools, call one, or serve DOS over MCP.")

WHERE = "./.dos/mcp.yaml, ./.mcp.json, mcp.yaml in the config folder, or a pack's manifest"


@app.command("list")
def list_servers(
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    offline: bool = typer.Option(False, "--no-connect", help="Show the declared servers without starting them."),
) -> None:
    """Declared MCP servers, whether they start, and their tools; a project's untrusted servers are listed, not
    started (they start once you `dos trust` the folder).  Example: dos mcp list"""
    dos = build()
    dos.trust.said = True  # this listing shows the untrusted servers itself
    host = dos.tool_host()
    try:
        servers = host.servers()
        listed = [] if offline else host.list_tools(servers)
    finally:
        host.close()
    untrusted, problems = dos.mcp_config.untrusted()
    rows = []
    for i, server in enumerate(servers):
        found = listed[i] if listed else None
        rows.append(server.describe() | {
            "status": "not checked" if found is None else found.status,
            "error": found.error if found else None,
            "tools": [t.describe() for t in found.tools] if found else [],
        })
    rows += [server.describe() | {"status": "untrusted", "error": None, "tools": []} for server in untrusted]
    if json_out:
        print_json({"servers": rows, "problems": host.problems + problems})
        return
    for problem in problems:
        typer.echo(f"dos: {problem}", err=True)
    if untrusted:
        files = ", ".join(sorted({s.origin for s in untrusted}))
        typer.echo(f"untrusted: {files}: these servers do not start until you trust this folder with `dos trust`",
                   err=True)
    if not rows:
        typer.echo(f"no MCP servers declared (in {WHERE})")
        return
    if on_terminal():
        from rich.markup import escape
        from rich.table import Table

        table = Table("server", "transport", "status", "tools", "declared in", box=None, pad_edge=False)
        for row in rows:
            tools = "\n".join(f"{escape(t['qualified'])}  [dim]{escape(_short(t['description']))}[/]"
                              for t in row["tools"])
            status = row["status"] if not row["error"] else f"[red]error[/]: {row['error']}"
            table.add_row(row["name"], row["transport"], status, tools or "-", row["origin"])
        console().print(table)
        return
    for row in rows:
        detail = row["error"] or ("not started" if row["status"] == "untrusted" else f"{len(row['tools'])} tool(s)")
        typer.echo(f"{row['name']}\t{row['transport']}\t{row['status']}\t{detail}\t{row['origin']}")
        for tool in row["tools"]:
            typer.echo(f"  {tool['qualified']}\t{_short(tool['description'])}")


def _short(text: str, limit: int = 80) -> str:
    """A tool's description (a server's own words) on one printable line."""
    line = " ".join((text or "").split())
    return printable(line if len(line) <= limit else line[: limit - 1] + "…")


@app.command("call")
def call(
    server: str = typer.Argument(..., help="The server's name (see `dos mcp list`)."),
    tool: str = typer.Argument(..., help="The tool's name on that server."),
    args: str = typer.Option("{}", "--args", "-a", help="The tool's arguments, a JSON object."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Call one tool of one server, for scripts.  Example: dos mcp call time get_current_time --args '{"timezone": "UTC"}'"""
    try:
        arguments = json.loads(args)
    except ValueError as exc:
        raise UsageError(f"--args is not JSON: {exc}") from None
    if not isinstance(arguments, dict):
        raise UsageError("--args must be a JSON object, e.g. '{\"timezone\": \"UTC\"}'")
    dos = build()
    dos.trust.said = True  # only the named server matters here; if it is untrusted, the error below says so
    host = dos.tool_host()
    try:
        servers = host.servers()
        spec = next((s for s in servers if s.name == server), None)
        if spec is None and any(s.name == server for s in dos.mcp_config.untrusted()[0]):
            raise UsageError(f"MCP server '{server}' is declared by this folder, which you have not trusted; "
                             "review it with `dos mcp list`, then `dos trust`")
        if spec is None:
            names = ", ".join(s.name for s in servers) or f"none (declare them in {WHERE})"
            raise UsageError(f"unknown MCP server '{server}'; declared: {names}")
        result = host.call(spec, tool, arguments)
    finally:
        host.close()
    if json_out:
        print_json({"server": server, "tool": tool, "ok": result.ok, "is_error": result.is_error,
                    "error": result.error, "text": result.text, "structured": result.structured,
                    "duration_s": result.duration_s})
    elif result.text:
        sys.stdout.write(result.text if result.text.endswith("\n") else result.text + "\n")
    if result.error:
        raise ToolError(result.error)
    if result.is_error:
        first = " ".join(result.text.split())[:200] or "no message"
        raise ToolError(f"MCP server '{server}': the tool {tool} returned an error: {first}")


@app.command("serve")
def serve() -> None:
    """Serve DOS over MCP on stdio: every skill as a prompt, and the tool run_skill(skill, text).
    Example (Claude Code): claude mcp add dos -- dos mcp serve"""
    build().mcp_server().run()
