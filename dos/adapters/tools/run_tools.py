"""The tools that run a process: Bash (a shell command) and RunScript (a script bundled with the active skill).

Both run in the user's folder, in a process group of their own killed at the time limit, with stdout and stderr
capped (dos.adapters.files.bounded_run), stdin empty, and an environment without API keys or other secrets
(dos.core.redact.without_secrets): a command the model wrote never sees the keys DOS calls models with.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dos.adapters.files.bounded_run import Finished, run_bounded
from dos.adapters.tools.arguments import BadCall, number, strings, text
from dos.core.redact import without_secrets
from dos.core.tools import MAX_RESULT_CHARS

DEFAULT_TIMEOUT_MS = 120_000  # Claude Code's Bash: 2 minutes unless the call says otherwise
MAX_TIMEOUT_MS = 600_000  # and 10 at most
OUTPUT_CAP = 30_000  # bytes read of each of stdout and stderr (Claude Code keeps 30,000 characters)
BUDGET = MAX_RESULT_CHARS - 200  # characters of output in the result, leaving room for the notes
# A script's interpreter by its extension: (the first of these found on PATH; the last is a fallback).
INTERPRETERS = {".py": ("python3", "python", sys.executable), ".sh": ("bash", "sh"), ".bash": ("bash",),
                ".js": ("node",), ".mjs": ("node",), ".cjs": ("node",)}


@dataclass(frozen=True)
class Ran:
    """What a run gives the model, and whether it counts as an error (non-zero exit, time-out)."""

    text: str
    failed: bool
    data: dict[str, Any]


def child_env(folder: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = without_secrets(os.environ)
    env["PWD"] = str(folder)
    return env | (extra or {})


def bash(folder: Path, args: dict[str, Any]) -> Ran:
    command = text(args, "command")
    timeout_ms = number(args, "timeout", DEFAULT_TIMEOUT_MS, 1, MAX_TIMEOUT_MS)
    shell = shutil.which("bash")
    argv: str | list[str] = [shell, "-c", command] if shell else command
    done = run_bounded(argv, timeout=timeout_ms / 1000, cap=OUTPUT_CAP, cwd=str(folder), env=child_env(folder),
                       shell=not shell, reap=True)
    return _outcome(done, timeout_ms)


def run_script(folder: Path, skill_file: str, args: dict[str, Any]) -> Ran:
    """Run `script` (a path inside the active skill's folder) with `args`, in the user's folder."""
    if not skill_file:
        raise BadCall("no skill is active, so there is no script to run")
    skill_dir = Path(skill_file).parent.resolve()
    given = text(args, "script")
    script = (skill_dir / given).resolve()
    if Path(given).is_absolute() or not script.is_relative_to(skill_dir):
        raise BadCall(f"'{given}' is outside the skill's folder: give a path inside it, e.g. scripts/run.py")
    if not script.is_file():
        raise BadCall(f"the skill has no script {given}")
    names = INTERPRETERS.get(script.suffix.lower())
    if names is None:
        raise BadCall(f"cannot run {script.suffix or 'extension-less'} scripts: only Python (.py), shell (.sh) "
                      f"and Node (.js, .mjs, .cjs)")
    interpreter = next((found for found in (n if os.sep in n else shutil.which(n) for n in names) if found), None)
    if interpreter is None:
        raise BadCall(f"{names[0]} is not installed (needed to run {given})")
    timeout_ms = number(args, "timeout", DEFAULT_TIMEOUT_MS, 1, MAX_TIMEOUT_MS)
    done = run_bounded([interpreter, str(script), *strings(args, "args")], timeout=timeout_ms / 1000,
                       cap=OUTPUT_CAP, cwd=str(folder), env=child_env(folder, {"DOS_SKILL_DIR": str(skill_dir)}),
                       reap=True)
    return _outcome(done, timeout_ms)


def _outcome(done: Finished, timeout_ms: int) -> Ran:
    """stdout, then stderr, within `BUDGET` characters; then what was cut, the time-out or the exit code."""
    data = {"exit_code": done.code, "timed_out": done.timed_out, "output_bytes": done.output_bytes,
            "truncated": done.truncated}
    if done.error is not None:
        return Ran(f"cannot start: {done.error}", True, data)
    out = done.stdout.rstrip("\n") if done.stdout.strip() else ""
    err = "[stderr]\n" + done.stderr.rstrip("\n") if done.stderr.strip() else ""
    notes = []
    if done.truncated or len(out) + len(err) + 1 > BUDGET:  # stderr keeps up to a third, stdout the rest
        err = err[:max(BUDGET // 3, BUDGET - len(out) - 1)]
        out = out[:BUDGET - len(err) - 1]
        notes.append(f"[output cut: {done.output_bytes} bytes in all; send it to a file and Read or Grep that]")
    body = "\n".join(p for p in (out, err) if p)
    if done.timed_out:
        notes.append(f"[timed out after {timeout_ms} ms; killed]")
    elif done.code:
        notes.append(f"[exit code {done.code}]")
    return Ran("\n".join([body] + notes if body else notes) or "(no output)", done.timed_out or bool(done.code), data)
