"""Where tool permission rules are declared, read into a `Permissions` value (dos.core.permissions), in precedence
order (a later file's `defaultMode` wins; rules from every file add up, and deny wins whatever its file):

1. `settings.json` in the user's config folder,
2. Claude Code's project settings, `./.claude/settings.json` then `./.claude/settings.local.json`,
3. DOS's project settings, `./.dos/settings.json` then `./.dos/settings.local.json`.

Every file has Claude Code's shape, `{"permissions": {"allow": [...], "ask": [...], "deny": [...], "defaultMode":
"...", "additionalDirectories": [...]}}`, read as the hooks config reads Claude's settings
(dos.adapters.hooks.hook_config.claude_settings). A file that cannot be read, or a bad entry, is a problem line
(`file:line: message`) and is skipped; the rest still applies.

A project's files only narrow what may run until the user trusts them (`trust.allows(project, file)`, see
dos.adapters.project.trust), as a cloned repository must not pre-approve its own commands: an untrusted file's deny
and ask rules apply, and a `defaultMode` of `plan` or `dontAsk`; its allow rules, its `additionalDirectories` and a
looser mode do not, and a problem line says so. `dos trust` records the project files that grant (dos.adapters.project.trust.grants).

"Always allow, for this folder" (a person's answer to a tool call that asks, dos.core.turn.tool_gate) adds its rules to
`./.dos/settings.local.json`, as Claude Code adds its own to `./.claude/settings.local.json`; a file that was trusted
(or did not exist) stays trusted with them, since the person just said yes to them at the terminal.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from dos.adapters.hooks.declared import STRICT_MODES, DeclaredIn
from dos.adapters.hooks.hook_config import CLAUDE_SETTINGS, claude_settings
from dos.core.errors import InvalidConfig, StorageError
from dos.core.permissions import Declared, Permissions, combine, declared

USER_FILE = "settings.json"
LOCAL_FILE = ".dos/settings.local.json"  # where "always, for this folder" keeps its rules


class PermissionConfig(DeclaredIn):
    """Reads every permissions source; `load()` gives (the Permissions in force, problems)."""

    def __init__(self, config_dir: Path, project: Path, trust: Any = None, home: Path | None = None):
        """`trust.allows(project, file)` says whether a project file may grant; None: they all may. `home`: where
        `~/` rules point (the user's home folder by default)."""
        self.config_dir = config_dir
        self.project = project
        self.trust = trust
        self._packs = None
        self.home = home

    def files(self) -> list[tuple[str, Path]]:
        """The files that may declare permissions, in precedence order, whether or not they exist."""
        return [("user", self.config_dir / USER_FILE),
                *(("claude", self.project / ".claude" / name) for name in CLAUDE_SETTINGS),
                *(("project", self.project / ".dos" / name) for name in CLAUDE_SETTINGS)]

    def load(self) -> tuple[Permissions, list[str]]:
        found: list[Declared] = []
        problems: list[str] = []
        for label, path in self.files():
            if not path.is_file():
                continue
            block, p = self.read(path, label)
            problems += p
            if label != "user" and not self._trusted(label, path):
                block, p = _untrusted(block)
                problems += p
            found.append(block)
        home = str(self.home if self.home is not None else Path.home())
        return combine(found, home=home, cwd=str(self.project)), problems

    def read(self, path: Path, label: str = "project") -> tuple[Declared, list[str]]:
        """What one file declares, trusted or not; `/path` rules of a project file start from the project."""
        base = "" if label == "user" else str(self.project)
        data, lines, problem = claude_settings(path)
        if problem:
            return Declared(str(path), base), [f"{problem}; its permissions are skipped"]
        return declared((data or {}).get("permissions"), str(path), base, lines)

    def folder(self) -> str:
        return str(self.project)

    def saves_to(self) -> str:
        return f"./{LOCAL_FILE}"

    def remember(self, rules: list[str]) -> str:
        """Add allow `rules` to ./.dos/settings.local.json (its other content kept); one line saying so. A file
        that was trusted as it was, or is new, is trusted as it is now; InvalidConfig / StorageError when the file
        cannot be read or written."""
        path = self.project / LOCAL_FILE
        try:
            before = path.read_bytes()
        except FileNotFoundError:
            before = None
        except OSError as exc:
            raise StorageError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        data: Any = {}
        if before is not None and before.strip():
            try:
                data = json.loads(before)
            except ValueError as exc:
                raise InvalidConfig(f"{path}: not JSON ({exc}); the rules were not saved") from None
        block = data.setdefault("permissions", {}) if isinstance(data, dict) else None
        allow = block.setdefault("allow", []) if isinstance(block, dict) else None
        if not isinstance(allow, list):
            raise InvalidConfig(f"{path}: permissions.allow is not a list; the rules were not saved")
        allow += [r for r in rules if r not in allow]
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        _replace(path, text.encode())
        trusted = ""
        if self.trust is not None:
            was = hashlib.sha256(before).hexdigest() if before is not None else None
            if not self.trust.keep(self.project, path, was):
                trusted = " (that file is not trusted: review it, then `dos trust`, for the rules to apply)"
        return f"saved {', '.join(rules)} to ./{LOCAL_FILE}{trusted}"


def _replace(path: Path, data: bytes) -> None:
    """Write `path` at once (a reader sees the old file or the new one), creating its folder."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StorageError(f"{path}: cannot be written ({exc.strerror or exc})") from None


def _untrusted(block: Declared) -> tuple[Declared, list[str]]:
    """What an untrusted project file still says: its deny and ask rules, and a mode no looser than the default."""
    dropped = [f"{len(block.allow)} allow rule(s)"] if block.allow else []
    dropped += ["additionalDirectories"] if block.directories else []
    mode = block.mode if block.mode in STRICT_MODES else None
    dropped += [f"defaultMode {block.mode}"] if block.mode and mode is None else []
    if not dropped:
        return block, []
    note = (f"{block.origin}: not trusted, so its {', '.join(dropped)} are not used (`dos trust` in the project, "
            "or DOS_TRUST_PROJECT=1 for one run)")
    return Declared(block.origin, block.base, (), block.ask, block.deny, mode, (), block.no_bypass), [note]
