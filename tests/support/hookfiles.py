"""Helpers for hook tests: real hook scripts (shell and Python) written into a temporary folder."""

from __future__ import annotations

import json
import shlex
import stat
import sys
from pathlib import Path

from dos.core.turn.hooks import HookSpec


def script(folder: Path, name: str, body: str) -> str:
    """An executable shell script; returns the command that runs it."""
    path = folder / name
    path.write_text("#!/bin/sh\n" + body.lstrip("\n"))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return shlex.quote(str(path))


def pyscript(folder: Path, name: str, body: str) -> str:
    """A Python script run by this interpreter; returns the command that runs it."""
    path = folder / name
    path.write_text("import json, sys, time, os\n" + body.lstrip("\n"))
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(path))}"


def cmd(event: str, command: str, timeout: float = 10.0, **kw) -> HookSpec:
    return HookSpec(event, "command", command, "test", timeout, **kw)


def settings(hooks: dict) -> str:
    return json.dumps({"hooks": hooks}, indent=2)
