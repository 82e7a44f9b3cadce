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

The project's files (1 and 2) count only if the user trusted them (`trust`, see dos.adapters.project.trust); an
untrusted one is not even read, except by `untrusted()` for `dos mcp list`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dos.adapters.files.json_text import load_json_file
from dos.adapters.files.yaml_text import line_at, load_yaml_file
from dos.adapters.hooks.declared import DeclaredIn
from dos.core.errors import InvalidConfig, InvalidSkill
from dos.core.skills.rules import Pack
from dos.core.tools import DEFAULT_TIMEOUT_S, ServerSpec, name_problem

USER_FILE = "mcp.yaml"
CLAUDE_FILE = ".mcp.json"
STDIO_KEYS = {"type", "command", "args", "env", "cwd", "timeout", "description", "disabled"}
HTTP_KEYS = {"type", "url", "headers", "timeout", "description", "disabled"}
HTTP_TYPES = {"http", "streamable-http", "streamable_http", "streamableHttp"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class McpConfig(DeclaredIn):
    """Reads every MCP source; `load()` gives (servers in precedence order, problems)."""

    def __init__(self, config_dir: Path, project: Path, packs: list[Pack] | Callable[[], list[Pack]] | None = None,
                 environ: Callable[[str], str | None] = os.environ.get, trust: Any = None):
        """`trust.allows(project, file)` says whether a project file's servers may start; None: they all may."""
        self.config_dir = config_dir
        self.project = project
        self._packs = packs
        self.environ = environ
        self.trust = trust

    def files(self) -> list[tuple[str, Path]]:
        """The files that may declare servers, whether or not they exist, in precedence order."""
        return [("project", self.project / ".dos" / USER_FILE), ("claude", self.project / CLAUDE_FILE),
                ("user", self.config_dir / USER_FILE)]

    def load(self) -> tuple[list[ServerSpec], list[str]]:
        found: list[Declared] = []
        packs: dict[str, str] = {}  # origin -> the pack that declared it
        problems: list[str] = []
        for label, path in self.files():
            if path.is_file() and self._trusted(label, path):
                found.append(self._file(path, strict=label != "claude", problems=problems))
        for pack in self.packs:
            declared = self._pack(pack, problems)
            packs |= {d.origin: pack.name for d in declared}
            found += declared
        servers: list[ServerSpec] = []
        for d in found:
            for name, entry in d.servers.items():
                spec = self._server(str(name), entry, d, problems)
                if spec is None:
                    continue
                if d.origin in packs:
                    spec = replace(spec, pack=packs[d.origin])
                if any(s.name == spec.name for s in servers):
                    continue  # the first declaration wins (project over user over packs)
                servers.append(spec)
        return servers, problems

    def untrusted(self) -> tuple[list[ServerSpec], list[str]]:
        """The servers of the project files the user has not trusted: shown by `dos mcp list`, never started."""
        servers: list[ServerSpec] = []
        problems: list[str] = []
        for label, path in self.files():
            if path.is_file() and not self._trusted(label, path):
                found, p = self.read(path)
                servers += [s for s in found if all(s.name != t.name for t in servers)]
                problems += p
        return servers, problems

    def read(self, path: Path) -> tuple[list[ServerSpec], list[str]]:
        """The servers one file declares (a `.json` file is Claude Code's, and not strict)."""
        problems: list[str] = []
        declared = self._file(path, strict=path.suffix != ".json", problems=problems)
        servers = [s for name, entry in declared.servers.items()
                   if (s := self._server(str(name), entry, declared, problems)) is not None]
        return servers, problems

    # -- sources

    def _file(self, path: Path, strict: bool, problems: list[str], flat: bool = False) -> Declared:
        try:
            if path.suffix == ".json":
                data, lines = load_json_file(path)
            else:
                doc = load_yaml_file(path)
                data, lines = doc.data, doc.lines
        except InvalidSkill as exc:
            if strict:
                raise InvalidConfig(exc.message) from None
            problems.append(exc.message)
            return Declared(str(path))
        if data is None:
            return Declared(str(path))
        if not isinstance(data, dict):
            if strict:
                raise InvalidConfig(f"{path}:1: must be a mapping with a 'mcpServers' (or 'servers') key")
            problems.append(f"{path}:1: must be a mapping with a 'mcpServers' key")
            return Declared(str(path))
        return self._servers_of(data, Declared(str(path), lines=lines), problems, flat)

    def _servers_of(self, data: dict[str, Any], where: Declared, problems: list[str], flat: bool = False) -> Declared:
        """The servers mapping under `mcpServers` (or `servers`); `flat`: a plugin file may be the mapping itself."""
        key = "mcpServers" if "mcpServers" in data else "servers"
        mapping = data.get(key)
        declared = replace(where, prefix=_join(where.prefix, key))
        if mapping is None and flat:
            return replace(where, servers=data)
        if mapping is None:
            if data:
                problems.append(f"{where.at()}: no 'mcpServers' (or 'servers') mapping")
            return where
        if not isinstance(mapping, dict):
            problems.append(f"{declared.at()}: '{key}' must be a mapping of server names")
            return where
        return replace(declared, servers=mapping)

    def _pack(self, pack: Pack, problems: list[str]) -> list[Declared]:
        root = Path(pack.path)
        value = pack.mcp
        if not value:
            return []
        if pack.kind == "claude-plugin":  # read again from the plugin's own files, for their lines
            from dos.adapters.hooks.hook_config import plugin_files

            out = []
            for path, prefix in plugin_files(root, "mcpServers", ".mcp.json"):  # plugin.json itself, or .mcp.json
                declared = self._file(path, strict=False, problems=problems, flat=not prefix)
                out.append(replace(declared, servers=self._with_root(declared.servers, root)))
            if out:
                return out
        if isinstance(value, dict):
            inner = "mcpServers" if "mcpServers" in value else "servers" if "servers" in value else ""
            servers = value.get(inner) if inner else value
            plugin = pack.kind == "claude-plugin"
            origin = root / (".claude-plugin/plugin.json" if plugin else "pack.yaml")
            where = Declared(str(origin), lines=_lines_of(origin), prefix="mcpServers" if plugin else _join("mcp", inner))
            if not isinstance(servers, dict):
                problems.append(f"{where.at()}: 'mcp' must map server names to servers")
                return []
            return [replace(where, servers=self._with_root(servers, root))]
        out = []
        lines = _lines_of(root / "pack.yaml")
        for i, rel in enumerate(value if isinstance(value, (list, tuple)) else [value]):
            path = root / str(rel)
            if path.is_file():
                declared = self._file(path, strict=False, problems=problems)
                out.append(replace(declared, servers=self._with_root(declared.servers, root)))
            else:
                line = line_at(lines, f"mcp.{i}" if isinstance(value, (list, tuple)) else "mcp")
                problems.append(f"{root}/pack.yaml:{line}: mcp file '{rel}' not found")
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

    def _server(self, name: str, entry: Any, declared: Declared, problems: list[str]) -> ServerSpec | None:
        origin = declared.origin

        def at(key: str = "") -> str:  # file:line of this server's entry, or of one of its keys
            return f"{declared.at(name, key) if key else declared.at(name)}: server '{name[:40]}'"

        if problem := name_problem(name):
            problems.append(f"{declared.at(name)}: {problem}")
            return None
        if not isinstance(entry, dict):
            problems.append(f"{at()}: must be a mapping (command/args/env or type/url/headers)")
            return None
        if entry.get("disabled") is True:
            return None
        kind = str(entry.get("type") or ("http" if "url" in entry else "stdio"))
        timeout = entry.get("timeout", DEFAULT_TIMEOUT_S)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 3600:
            problems.append(f"{at('timeout')}: 'timeout' must be seconds (0-3600)")
            return None
        if kind == "stdio":
            unknown = sorted(set(map(str, entry)) - STDIO_KEYS)
            command, args, env = entry.get("command"), entry.get("args", []), entry.get("env", {})
            if not isinstance(command, str) or not command.strip():
                problems.append(f"{at('command')}: 'command' must be a non-empty string")
                return None
            if not isinstance(args, list) or not all(isinstance(a, (str, int, float)) for a in args):
                problems.append(f"{at('args')}: 'args' must be a list of strings")
                return None
            if not isinstance(env, dict):
                problems.append(f"{at('env')}: 'env' must be a mapping")
                return None
            if unknown:
                problems.append(f"{at(unknown[0])}: unknown key(s) {', '.join(unknown)[:80]} (ignored)")
            cwd = entry.get("cwd")
            return ServerSpec(
                name=name, transport="stdio", origin=origin, command=self._expand(command),
                args=tuple(self._expand(a) for a in args),
                env=tuple((str(k), self._expand(v)) for k, v in env.items()),
                cwd=self._expand(cwd) if isinstance(cwd, str) and cwd else "", timeout=float(timeout))
        if kind in HTTP_TYPES:
            url, headers = entry.get("url"), entry.get("headers", {})
            if not isinstance(url, str) or not url.startswith(("http://", "https://", "${")):
                problems.append(f"{at('url')}: 'url' must be an http(s) URL")
                return None
            if not isinstance(headers, dict):
                problems.append(f"{at('headers')}: 'headers' must be a mapping")
                return None
            unknown = sorted(set(map(str, entry)) - HTTP_KEYS)
            if unknown:
                problems.append(f"{at(unknown[0])}: unknown key(s) {', '.join(unknown)[:80]} (ignored)")
            return ServerSpec(name=name, transport="http", origin=origin, url=self._expand(url),
                              headers=tuple((str(k), self._expand(v)) for k, v in headers.items()),
                              timeout=float(timeout))
        problems.append(f"{at('type')}: transport '{kind[:20]}' is not supported (stdio or http)")
        return None


@dataclass(frozen=True)
class Declared:
    """Servers as one file declares them: the file, its key lines, and the key path of the servers mapping."""

    origin: str
    servers: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    prefix: str = ""

    def at(self, *keys: str) -> str:
        """`file:line` of a key under the servers mapping (the nearest one recorded)."""
        return f"{self.origin}:{line_at(self.lines, _join(self.prefix, *keys))}"


def _join(*parts: str) -> str:
    return ".".join(p for p in parts if p)


def _lines_of(path: Path) -> dict[str, int]:
    try:
        return (load_json_file(path)[1] if path.suffix == ".json" else load_yaml_file(path).lines) if path.is_file() else {}
    except InvalidSkill:
        return {}
