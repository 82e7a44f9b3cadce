"""Project trust: the hooks and MCP servers the folder DOS runs in declares (`./.dos/hooks.yaml`,
`./.claude/settings.json`, `./.claude/settings.local.json`, `./.dos/mcp.yaml`, `./.mcp.json`) run only once the
user has trusted them with `dos trust`, as Claude Code asks before it runs a folder's hooks and servers. So do the
tool permissions such a settings file or `./.dos/settings(.local).json` grants (allow rules, `additionalDirectories`,
a looser `defaultMode`: dos.adapters.project.permissions; its deny and ask rules apply untrusted). So is a
skill of `./.dos/skills` that takes the name of a user, pack or built-in skill, or may send its turns to a model
not on this machine (dos.adapters.skills.fs_skills decides which; until trusted the other skill keeps the name).

Trust is kept per folder (its real path) and per file: `trusted.json` in the config folder (mode 0600) holds the
SHA-256 of each declaring file as it was when trusted. A file that is new, or whose content changed since, is
untrusted again. `DOS_TRUST_PROJECT=1` trusts the project for one invocation (under the kernel, the client's
variable: see dos.context). The user's own files, packs and built-in hooks need no trust.

Trust covers the declaring files, not the scripts their commands run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dos.adapters.files.json_text import load_json_file
from dos.adapters.hooks import hook_config
from dos.adapters.hooks.declared import STRICT_MODES
from dos.adapters.mcp import mcp_config
from dos.context import getenv
from dos.core.errors import InvalidConfig, InvalidSkill

TRUST_FILE = "trusted.json"
ENV = "DOS_TRUST_PROJECT"
HOOKS, SERVERS, SKILLS, PERMISSIONS = "hooks", "MCP servers", "skills", "permissions"
LISTS = {HOOKS: "`dos hooks list`", SERVERS: "`dos mcp list`", SKILLS: "`dos skills list`"}
PROJECT_FILES = ((f".dos/{hook_config.USER_FILE}", HOOKS), *((f".claude/{name}", HOOKS) for name in
                 hook_config.CLAUDE_SETTINGS), (f".dos/{mcp_config.USER_FILE}", SERVERS), (mcp_config.CLAUDE_FILE, SERVERS),
                 *((f".dos/{name}", PERMISSIONS) for name in hook_config.CLAUDE_SETTINGS))


@dataclass(frozen=True)
class Declaring:
    """A project file that declares commands: where it is in the folder, what it declares, its content's hash."""

    rel: str
    what: str
    sha256: str
    note: str = ""  # a skill file: what it does that needs trust (`skill explain: replaces builtin:dev explain`)


def folder_key(folder: Path) -> str:
    """How a folder is recorded: its real path (symlinks resolved)."""
    return os.path.realpath(folder)


def declaring(folder: Path) -> list[Declaring]:
    """The files of `folder` that declare hooks or MCP servers, or grant tool permissions (a settings file counts
    only for hooks it has or permissions it grants: deny and ask rules need no trust)."""
    out = []
    for rel, what in PROJECT_FILES:
        path = folder / rel
        try:
            if not path.is_file():
                continue
            if path.name.startswith("settings"):
                data = _settings(path)
                what = HOOKS if what == HOOKS and _has_hooks(data) else PERMISSIONS if grants(data) else ""
            if what:
                out.append(Declaring(rel, what, hashlib.sha256(path.read_bytes()).hexdigest()))
        except OSError:
            continue
    return out


def grants(data: Any) -> bool:
    """Whether a settings file's content lets something run that would not otherwise: allow rules,
    `additionalDirectories`, or a `defaultMode` looser than the default (what trust has to vouch for)."""
    block = data.get("permissions") if isinstance(data, dict) else None
    if not isinstance(block, dict):
        return False
    return bool(block.get("allow") or block.get("additionalDirectories")
                or block.get("defaultMode") not in (None, *STRICT_MODES))


def _settings(path: Path) -> Any:
    try:
        data, _ = load_json_file(path)
    except InvalidSkill:
        return None  # the hooks and permissions configs report it and skip it
    return data


def _has_hooks(data: Any) -> bool:
    return isinstance(data, dict) and bool(data.get("hooks")) and data.get("disableAllHooks") is not True


class ProjectTrust:
    """The trust file; `allows` is what the hook and MCP configs and the skills ask, `notice` the one line a
    command says. `skills(folder)`: the skill files of a folder that need trust, each with its note."""

    def __init__(self, config_dir: Path, builtin_dir: Path | None = None,
                 skills: Callable[[Path], list[tuple[Path, str]]] = lambda _: []):
        self.config_dir = config_dir
        self.builtin_dir = builtin_dir  # built-in hooks, named in what `review` shows
        self.skills = skills
        self.file = config_dir / TRUST_FILE
        self.said = False  # this command said its notice (a listing that marks untrusted entries sets it too)

    def declaring(self, folder: Path) -> list[Declaring]:
        """The files of `folder` that need trust: those that declare hooks or MCP servers, then its skills that
        need it (hashed as `dos trust` would record them)."""
        out = declaring(folder)
        for path, note in self.skills(folder):
            try:
                out.append(Declaring(path.relative_to(folder).as_posix(), SKILLS,
                                     hashlib.sha256(path.read_bytes()).hexdigest(), note))
            except OSError:
                continue
        return out

    @staticmethod
    def overridden() -> bool:
        """`DOS_TRUST_PROJECT=1`: the project is trusted for this invocation."""
        return (getenv(ENV) or "").strip().lower() in ("1", "true", "yes", "on")

    def read(self) -> dict[str, Any]:
        """folder -> {"trusted_at", "files": {path in the folder: sha256}}; InvalidConfig if the file is broken."""
        try:
            data = json.loads(self.file.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise InvalidConfig(f"{self.file}: cannot be read ({exc}); delete it and trust your projects again") \
                from None
        folders = data.get("folders") if isinstance(data, dict) else None
        if not isinstance(folders, dict) or not all(isinstance(r, dict) and isinstance(r.get("files"), dict)
                                                    for r in folders.values()):
            raise InvalidConfig(f"{self.file}: not a trust file DOS wrote; delete it and trust your projects again")
        return folders

    def recorded(self, folder: Path) -> dict[str, str]:
        """The files of `folder` trusted, with their hashes then; none if the trust file is broken (fail closed)."""
        try:
            return dict(self.read().get(folder_key(folder), {}).get("files", {}))
        except InvalidConfig:
            return {}

    def allows(self, folder: Path, path: Path) -> bool:
        """Whether the commands `path`, a file in `folder`, declares may run."""
        if self.overridden():
            return True
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return False
        return self.recorded(folder).get(path.relative_to(folder).as_posix()) == digest

    def keep(self, folder: Path, path: Path, before: str | None) -> bool:
        """DOS itself just changed `path`, a file in `folder` whose content hashed to `before` (None: it did not
        exist): if it was trusted as it was (or is new), trust it as it is now. Whether it is trusted."""
        rel = path.relative_to(folder).as_posix()
        try:
            folders = self.read()
        except InvalidConfig:
            return False
        record = folders.get(folder_key(folder), {"files": {}})
        if before is not None and record["files"].get(rel) != before:
            return False
        try:
            record["files"][rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return False
        record.setdefault("trusted_at", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        folders[folder_key(folder)] = record
        self._write(folders)
        return True

    def untrusted(self, folder: Path) -> list[tuple[Declaring, bool]]:
        """The declaring files of `folder` not trusted as they are, each with whether it changed since trusted."""
        if self.overridden():
            return []
        recorded = self.recorded(folder)
        return [(d, d.rel in recorded) for d in self.declaring(folder) if recorded.get(d.rel) != d.sha256]

    def notice(self, folder: Path) -> str | None:
        """The one line a command says about `folder`'s untrusted files (None after the first call, or if none)."""
        if self.said:
            return None
        self.said = True
        # permissions are said where they would be used, in a turn with tools (dos.adapters.project.permissions)
        found = [(d, changed) for d, changed in self.untrusted(folder) if d.what != PERMISSIONS]
        if not found:
            return None
        files = ", ".join(f"./{d.rel}" + (" (changed since trusted)" if changed else "") for d, changed in found)
        whats = [w for w in LISTS if any(d.what == w for d, _ in found)]
        lists = " and ".join(LISTS[w] for w in whats)
        verb = "declares" if len(found) == 1 else "declare"
        unused = ", so they are not used" if SKILLS in whats else ""
        return (f"{files} {verb} {' and '.join(whats)} that have not been trusted{unused}; review with {lists}, "
                "then `dos trust`")

    # -- `dos trust`

    def review(self, folder: Path) -> list[tuple[Declaring, list[str], list[str]]]:
        """What trusting `folder` would let run: each declaring file (hashed before it is read, so a change after
        is untrusted), the commands it declares (one line each), and its problems."""
        from dos.adapters.project.permissions import PermissionConfig  # here: it loads the rule engine (start-up)

        hooks = hook_config.HookConfig(self.config_dir, folder, [], self.builtin_dir)
        servers = mcp_config.McpConfig(self.config_dir, folder)
        permissions = PermissionConfig(self.config_dir, folder)
        out = []
        for d in self.declaring(folder):
            path = folder / d.rel
            lines: list[str] = []
            problems: list[str] = []
            if d.what == SKILLS:
                lines = [d.note]
            elif d.what == HOOKS:
                specs, problems = hooks.read(path)
                lines = [f"{s.event}: {s.kind} {s.label}" + _conditions(s) for s in specs]
            elif d.what == SERVERS:
                found, problems = servers.read(path)
                lines = [f"MCP server {s.name}: {_server_line(s.describe())}" for s in found]
            if path.name.startswith("settings"):  # a settings file: what it grants too
                block, more = permissions.read(path)
                lines += [f"allow {r}" for r in block.allow] + [f"additional directory {x}" for x in block.directories]
                lines += [f"defaultMode {block.mode}"] if block.mode else []
                problems += more if d.what == PERMISSIONS else []
            out.append((d, lines, problems))
        return out

    def trust(self, folder: Path, files: list[Declaring]) -> None:
        """Record `files` (from `review`) as `folder`'s trusted files, replacing what was trusted there before."""
        folders = self.read()
        folders[folder_key(folder)] = {"trusted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                       "files": {d.rel: d.sha256 for d in files}}
        self._write(folders)

    def revoke(self, folder: Path) -> bool:
        """Forget `folder`; False if it was not trusted."""
        folders = self.read()
        if folders.pop(folder_key(folder), None) is None:
            return False
        self._write(folders)
        return True

    def entries(self) -> list[dict[str, Any]]:
        """Every trusted folder, and each declaring file's state: trusted, changed, missing, or new."""
        out = []
        for key, record in sorted(self.read().items()):
            now = {d.rel: d.sha256 for d in self.declaring(Path(key))}
            files = [{"file": rel, "sha256": digest,
                      "state": "missing" if rel not in now else "trusted" if now[rel] == digest else "changed"}
                     for rel, digest in sorted(record["files"].items())]
            files += [{"file": rel, "sha256": digest, "state": "new"} for rel, digest in now.items()
                      if rel not in record["files"]]
            out.append({"folder": key, "trusted_at": record.get("trusted_at"), "exists": os.path.isdir(key),
                        "files": files})
        return out

    def _write(self, folders: dict[str, Any]) -> None:
        """Replace the trust file at once, readable by this user alone."""
        self.file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.file.parent, prefix=".trusted-", suffix=".json")  # born 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": 1, "folders": folders}, f, indent=2, sort_keys=True)
                f.write("\n")
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _server_line(described: dict[str, Any]) -> str:
    if described["transport"] != "stdio":
        return described["url"]
    env = f" (env: {', '.join(described['env'])})" if described["env"] else ""
    return " ".join([described["command"], *described["args"]]) + env


def _conditions(spec: Any) -> str:
    found = [f"{key} {value}" for key, value in (("matcher", spec.matcher), ("skill", spec.skill),
                                                  ("pack", spec.pack)) if value]
    return f" ({', '.join(found)})" if found else ""
