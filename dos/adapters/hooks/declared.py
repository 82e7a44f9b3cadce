"""What the hook and MCP config readers (hook_config, mcp_config) share: the enabled packs, read when first
needed, and which declaring files may be used (the user's always; a project's once trusted, see trust.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dos.core.skills.rules import Pack

# The permission modes a settings file that has not been trusted may set: none looser than the default (read by
# dos.adapters.project.trust, which decides what needs trust, and .permissions, which applies the rule)
STRICT_MODES = ("default", "plan", "dontAsk")


class DeclaredIn:
    """Base of a reader of commands declared in the user's files, the project's and packs'."""

    project: Path
    trust: Any  # `trust.allows(project, file)` says whether a project file's commands may run; None: all may
    _packs: list[Pack] | Callable[[], list[Pack]] | None

    @property
    def packs(self) -> list[Pack]:
        """Enabled packs (read when first needed)."""
        if callable(self._packs):
            self._packs = self._packs()
        return list(self._packs or [])

    def _trusted(self, label: str, path: Path) -> bool:
        return label == "user" or self.trust is None or self.trust.allows(self.project, path)
