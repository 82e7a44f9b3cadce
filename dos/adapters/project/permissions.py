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
looser mode do not, and a problem line says so. (Trust records the files that declare hooks; one that declares
only permissions is trusted with `DOS_TRUST_PROJECT=1` until `dos trust` records those too.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dos.adapters.hooks.declared import DeclaredIn
from dos.adapters.hooks.hook_config import CLAUDE_SETTINGS, claude_settings
from dos.core.permissions import Declared, Permissions, combine, declared

USER_FILE = "settings.json"
STRICT_MODES = ("default", "plan", "dontAsk")  # what an untrusted file may set: no looser than the default


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
