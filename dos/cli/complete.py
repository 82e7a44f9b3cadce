"""Shell completion values: skill, pack and model names (bash, zsh and fish, through typer), printable (a model
server on localhost names its own models)."""

from __future__ import annotations

from collections.abc import Callable

from dos.bootstrap import build
from dos.core.printable import printable


def _quietly(names: Callable[[], list[str]], incomplete: str) -> list[str]:
    try:
        return sorted(printable(n) for n in set(names()) if n.startswith(incomplete))
    except Exception:  # completion must never print an error into the user's prompt line
        return []


def skill_names(incomplete: str) -> list[str]:
    return _quietly(lambda: [e.name for e in build().skills.entries() if not e.errors], incomplete)


def pack_names(incomplete: str) -> list[str]:
    return _quietly(lambda: [p.name for p in build().skills.packs.entries()], incomplete)


def model_names(incomplete: str) -> list[str]:
    return _quietly(lambda: [row["name"] for row in build().router_tools().list_models()], incomplete)
