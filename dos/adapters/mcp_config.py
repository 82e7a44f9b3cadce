"""Where MCP servers are declared, read into `ServerSpec`s. The first declaration of a name wins:

1. `./.dos/mcp.yaml` in the project,
2. `./.mcp.json` in the project (Claude Code's file, accepted as it is),
3. `mcp.yaml` in the user's config folder,
4. each enabled pack's manifest `mcp` (inline, or JSON files such as a Claude Code plugin's `.mcp.json`).

Every source uses Claude Code's shape: `{mcpServers: {NAME: {command, args, env, cwd} | {type: http, url,
headers}}}` (DOS files may say `servers:` instead of `mcpServers:`, and add `timeout:` in seconds). Strings may
use `${VAR}` and `${VAR:-default}`, expanded from the environment, as Claude Code does.

A DOS file that is not YAML, or not a mapping, is an InvalidConfig error; a bad server entry anywhere is a
problem line and that server is skipped. Nothing here imports the MCP SDK.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from dos.adapters.yaml_text import load_yaml_file, read_text
from dos.core.errors import InvalidConfig, InvalidSkill
from dos.core.skill_rules import Pack
from dos.core.tools import DEFAULT_TIMEOUT_S, ServerSpec, name_problem

USER_FILE = "mcp.yaml"
CLAUDE_FILE = ".mcp.json"
STDIO_KEYS = {"type", "command", "args", "env", "cwd", "timeout", "description", "disabled"}
HTTP_KEYS = {"type", "url", "headers", "timeout", "description", "disabled"}
HTTP_TYPES = {"http", "streamable-http", "streamable_http", "streamableHttp"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class McpConfig:
    """Reads every MCP source; `load()` gives (servers in precedence order, problems)."""

    def __init__(self, config_dir: Path, project: Path, packs: list[Pack] | Callable[[], list[Pack]] | None = None,
                 environ: Callable[[str], str | None] = os.environ.get):
        self.config_dir = config_dir
        self.project = project
        self._packs = packs
        self.environ = environ

    @property
    def packs(self) -> list[Pack]:
        if callable(self._packs):
            self._packs = self._packs()
        return list(self._packs or [])

    def files(self) -> list[tuple[str, Path]]:
        """The files that may declare servers, whether or not they exist, in precedence order."""
        return [("project", self.project / ".dos" / USER_FILE), ("claude", self.project / CLAUDE_FILE),
                ("user", self.config_dir / USER_FILE)]

    def load(self) -> tuple[list[ServerSpec], list[str]]:
        found: list[tuple[str, dict[str, Any]]] = []  # (origin, servers mapping)
        packs: dict[str, str] = {}  # origin -> the pack that declared it
        problems: list[str] = []
        for label, path in self.files():
            if path.is_file():
                found.append((str(path), self._file(path, strict=label != "claude", problems=problems)))
        for pack in self.packs:
            declared = self._pack(pack, problems)
            packs |= {origin: pack.name for origin, _ in declared}
            found += declared
        servers: list[ServerSpec] = []
        for origin, mapping in found:
            for name, entry in mapping.items():
                spec = self._server(str(name), entry, origin, problems)
                if spec is None:
                    continue
                if origin in packs:
                    spec = replace(spec, pack=packs[origin])
                if any(s.name == spec.name for s in servers):
                    continue  # the first declaration wins (project over user over packs)
                servers.append(spec)
        return servers, problems

    # -- sources

    def _file(self, path: Path, strict: bool, problems: list[str]) -> dict[str, Any]:
        try:
            if path.suffix == ".json":
                try:
                    data = json.loads(read_text(path))
                except ValueError as exc:
                    raise InvalidSkill(f"{path}:{getattr(exc, 'lineno', 1)}: broken JSON: "
                                       f"{getattr(exc, 'msg', exc)}") from None
            else:
                data = load_yaml_file(path).data
        except InvalidSkill as exc:
            if strict:
                raise InvalidConfig(exc.message) from None
            problems.append(exc.message)
            return {}
        if data is None:
            return {}
        if not isinstance(data, dict):
            if strict:
                raise InvalidConfig(f"{path}:1: must be a mapping with a 'mcpServers' (or 'servers') key")
            problems.append(f"{path}:1: must be a mapping with a 'mcpServers' key")
            return {}
        return self._servers_of(data, str(path), problems)

    def _servers_of(self, data: dict[str, Any], where: str, problems: list[str]) -> dict[str, Any]:
        mapping = data.get("mcpServers", data.get("servers"))
        if mapping is None:
            if data:
                problems.append(f"{where}: no 'mcpServers' (or 'servers') mapping")
            return {}
        if not isinstance(mapping, dict):
            problems.append(f"{where}: 'mcpServers' must be a mapping of server names")
            return {}
        return mapping

    def _pack(self, pack: Pack, problems: list[str]) -> list[tuple[str, dict[str, Any]]]:
        root = Path(pack.path)
        value = pack.mcp
        if not value:
            return []
        if isinstance(value, dict):
            servers = value.get("mcpServers", value.get("servers", value))
            origin = f"{root}/{'pack.yaml' if pack.kind != 'claude-plugin' else '.mcp.json'}"
            if not isinstance(servers, dict):
                problems.append(f"{origin}: 'mcp' must map server names to servers")
                return []
            return [(origin, self._with_root(servers, root))]
        out = []
        for rel in value if isinstance(value, (list, tuple)) else [value]:
            path = root / str(rel)
            if path.is_file():
                out.append((str(path), self._with_root(self._file(path, strict=False, problems=problems), root)))
            else:
                problems.append(f"{root}/pack.yaml: mcp file '{rel}' not found")
        return out

    @staticmethod
    def _with_root(servers: dict[str, Any], root: Path) -> dict[str, Any]:
        """A pack's servers see `${CLAUDE_PLUGIN_ROOT}` / `${DOS_PACK_ROOT}` as the pack's folder."""
        def sub(value: Any) -> Any:
            if isinstance(value, str):
                return value.replace("${CLAUDE_PLUGIN_ROOT}", str(root)).replace("${DOS_PACK_ROOT}", str(root))
            if isinstance(value, list):
                return [sub(v) for v in value]
            if isinstance(value, dict):
                return {k: sub(v) for k, v in value.items()}
            return value
        return {name: sub(entry) for name, entry in servers.items()}

    # -- one server

    def _expand(self, value: Any) -> str:
        return _VAR.sub(lambda m: self.environ(m.group(1)) or (m.group(2) or ""), str(value))

    def _server(self, name: str, entry: Any, origin: str, problems: list[str]) -> ServerSpec | None:
        where = f"{origin}: server '{name[:40]}'"
        if problem := name_problem(name):
            problems.append(f"{origin}: {problem}")
            return None
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping (command/args/env or type/url/headers)")
            return None
        if entry.get("disabled") is True:
            return None
        kind = str(entry.get("type") or ("http" if "url" in entry else "stdio"))
        timeout = entry.get("timeout", DEFAULT_TIMEOUT_S)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 3600:
            problems.append(f"{where}: 'timeout' must be seconds (0-3600)")
            return None
        if kind == "stdio":
            unknown = sorted(set(map(str, entry)) - STDIO_KEYS)
            command, args, env = entry.get("command"), entry.get("args", []), entry.get("env", {})
            if not isinstance(command, str) or not command.strip():
                problems.append(f"{where}: 'command' must be a non-empty string")
                return None
            if not isinstance(args, list) or not all(isinstance(a, (str, int, float)) for a in args):
                problems.append(f"{where}: 'args' must be a list of strings")
                return None
            if not isinstance(env, dict):
                problems.append(f"{where}: 'env' must be a mapping")
                return None
            if unknown:
                problems.append(f"{where}: unknown key(s) {', '.join(unknown)[:80]} (ignored)")
            cwd = entry.get("cwd")
            return ServerSpec(
                name=name, transport="stdio", origin=origin, command=self._expand(command),
                args=tuple(self._expand(a) for a in args),
                env=tuple((str(k), self._expand(v)) for k, v in env.items()),
                cwd=self._expand(cwd) if isinstance(cwd, str) and cwd else "", timeout=float(timeout))
        if kind in HTTP_TYPES:
            url, headers = entry.get("url"), entry.get("headers", {})
            if not isinstance(url, str) or not url.startswith(("http://", "https://", "${")):
                problems.append(f"{where}: 'url' must be an http(s) URL")
                return None
            if not isinstance(headers, dict):
                problems.append(f"{where}: 'headers' must be a mapping")
                return None
            unknown = sorted(set(map(str, entry)) - HTTP_KEYS)
            if unknown:
                problems.append(f"{where}: unknown key(s) {', '.join(unknown)[:80]} (ignored)")
            return ServerSpec(name=name, transport="http", origin=origin, url=self._expand(url),
                              headers=tuple((str(k), self._expand(v)) for k, v in headers.items()),
                              timeout=float(timeout))
        problems.append(f"{where}: transport '{kind[:20]}' is not supported (stdio or http)")
        return None
