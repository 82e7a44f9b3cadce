"""Where DOS keeps things: platformdirs folders, or everything under `DOS_HOME` when it is set."""

from __future__ import annotations

import os
from collections import namedtuple
from pathlib import Path

from dos.context import cwd

_PACKAGE = Path(__file__).resolve().parents[2]  # the dos package: this file is dos/adapters/files/paths.py


class Paths(namedtuple("Paths", "config data state")):
    """The three DOS folders. (A named tuple, not a dataclass: the kernel's thin client imports this module, and
    `dataclasses` would add 8 ms to every `dos run`.)"""

    __slots__ = ()
    config: Path
    data: Path
    state: Path

    @property
    def config_file(self) -> Path:
        return self.config / "config.yaml"

    @property
    def memory_db(self) -> Path:
        return self.data / "memory.db"

    @property
    def user_skills(self) -> Path:
        return self.data / "skills"

    @property
    def user_packs(self) -> Path:
        return self.data / "packs"


def resolve_paths() -> Paths:
    home = os.environ.get("DOS_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(config=root / "config", data=root / "data", state=root / "state")
    import platformdirs

    return Paths(
        config=Path(platformdirs.user_config_dir("dos", appauthor=False)),
        data=Path(platformdirs.user_data_dir("dos", appauthor=False)),
        state=Path(platformdirs.user_state_dir("dos", appauthor=False)),
    )


def builtin_dir(name: str) -> Path:
    """Built-in `skills`, `packs` or `hooks`: inside the installed wheel, or at the top of a source checkout."""
    packaged = _PACKAGE / "_builtin" / name
    return packaged if packaged.is_dir() else _PACKAGE.parent / name


def project_dir(name: str) -> Path:
    """A folder of the project DOS runs in: `./.dos/<name>`."""
    return cwd() / ".dos" / name
