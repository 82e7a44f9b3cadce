"""Runs hooks: command hooks as subprocesses (the event as JSON on stdin, Claude Code's protocol) and Python
hooks (`module:function`, `path/to/file.py:function`, or an entry point of the `dos.hooks` group) in-process.

The hooks of one event run in parallel, one thread each. A command hook runs in its own process group and is
killed, group and all, at its timeout; its stdout and stderr are read up to a cap and the rest is drained and
dropped (dos.adapters.files.bounded_run), so a hook that hangs, crashes, prints garbage or prints 10 MB never
breaks the turn.
"""

from __future__ import annotations

import copy
import importlib
import importlib.util
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dos.adapters.files.bounded_run import run_bounded
from dos.core.turn.hooks import HookOutcome, HookSpec, event_json

OUTPUT_CAP = 1_000_000  # bytes kept of each of stdout and stderr
ENTRY_POINT_GROUP = "dos.hooks"


class HookProcessRunner:
    """The `HookRunner` port: `load` gives the configured hooks and load problems (called once, lazily)."""

    def __init__(self, load: Callable[[], tuple[list[HookSpec], list[str]]], cwd: str | None = None,
                 env: dict[str, str] | None = None):
        self._load = load
        self._loaded: tuple[list[HookSpec], list[str]] | None = None
        self.cwd = cwd
        self.env = env

    def _config(self) -> tuple[list[HookSpec], list[str]]:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    def hooks(self) -> list[HookSpec]:
        return self._config()[0]

    def problems(self) -> list[str]:
        return self._config()[1]

    def run(self, specs: list[HookSpec], payload: dict[str, Any]) -> list[HookOutcome]:
        """Every hook of `specs` on `payload`, in parallel; outcomes in the order of `specs`."""
        if not specs:
            return []
        data = event_json(payload)
        results: list[HookOutcome | None] = [None] * len(specs)

        def work(i: int, spec: HookSpec) -> None:
            results[i] = self.run_one(spec, payload, data)

        if len(specs) == 1 and specs[0].kind == "command":  # the command's own deadline bounds it: no thread
            work(0, specs[0])
            return [results[0]]  # type: ignore[list-item]
        threads = [threading.Thread(target=work, args=(i, s), daemon=True, name=f"hook-{i}")
                   for i, s in enumerate(specs)]
        for t in threads:
            t.start()
        start = time.monotonic()
        for i, (t, spec) in enumerate(zip(threads, specs)):
            # command hooks enforce their own deadline; a Python hook is abandoned (not killable) at its timeout
            t.join(max(0.0, spec.timeout + 2.0 - (time.monotonic() - start)))
            if results[i] is None:
                results[i] = HookOutcome(spec, None, duration_s=time.monotonic() - start, timed_out=True)
        return [r for r in results if r is not None]

    def run_one(self, spec: HookSpec, payload: dict[str, Any], data: bytes | None = None) -> HookOutcome:
        try:
            if spec.kind == "python":
                return run_python(spec, payload)
            return run_command(spec, data if data is not None else event_json(payload), cwd=self.cwd,
                               env=self.env)
        except Exception as exc:  # noqa: BLE001 - a hook never breaks the turn
            return HookOutcome(spec, None, error=f"{type(exc).__name__}: {exc}")


# ---------------------------------------------------------------------------------------------- command hooks


def hook_env(spec: HookSpec, cwd: str, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    env.setdefault("CLAUDE_PROJECT_DIR", cwd)
    env["DOS_PROJECT_DIR"] = cwd
    env["DOS_HOOK_EVENT"] = spec.event
    env.update(dict(spec.env))
    return env


def run_command(spec: HookSpec, data: bytes, cwd: str | None = None, env: dict[str, str] | None = None,
                cap: int = OUTPUT_CAP) -> HookOutcome:
    """Run one command hook through the shell with `data` on stdin, within `spec.timeout`."""
    cwd = cwd or os.getcwd()
    done = run_bounded(spec.target, timeout=spec.timeout, cap=cap, cwd=cwd, env=hook_env(spec, cwd, env), data=data,
                       shell=True)
    if done.error is not None:
        return HookOutcome(spec, None, error=f"cannot start: {done.error}", duration_s=done.duration_s)
    return HookOutcome(spec, done.code, done.stdout, done.stderr, done.duration_s, done.timed_out,
                       truncated=done.truncated, output_bytes=done.output_bytes)


# ---------------------------------------------------------------------------------------------- Python hooks

_FUNCTIONS: dict[str, Callable[..., Any]] = {}
_LOCK = threading.Lock()


def resolve_function(target: str) -> Callable[..., Any]:
    """`module:function`, `path/to/file.py:function` or `entry-point:NAME` (group `dos.hooks`), imported once."""
    key = target
    module_ref = target.rpartition(":")[0]
    if module_ref.endswith(".py"):  # a file: reload it when it changes (the warm kernel lives long)
        try:
            key = f"{target}@{Path(module_ref).expanduser().stat().st_mtime_ns}"
        except OSError:
            pass
    with _LOCK:
        fn = _FUNCTIONS.get(key)
        if fn is None:
            fn = _import(target)
            _FUNCTIONS[key] = fn
    return fn


def _import(target: str) -> Callable[..., Any]:
    if target.startswith("entry-point:"):
        from importlib.metadata import entry_points

        name = target.split(":", 1)[1]
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
        if not found:
            raise LookupError(f"no entry point '{name}' in group {ENTRY_POINT_GROUP}")
        fn = found[0].load()
    else:
        module_ref, sep, attr = target.rpartition(":")
        if not sep or not module_ref or not attr:
            raise ValueError(f"'{target}' is not module:function")
        if module_ref.endswith(".py"):
            path = Path(module_ref).expanduser()
            spec = importlib.util.spec_from_file_location(f"dos_hook_{abs(hash(str(path.resolve())))}", path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_ref)
        fn = module
        for part in attr.split("."):
            fn = getattr(fn, part)
    if not callable(fn):
        raise TypeError(f"'{target}' is not callable")
    return fn


def run_python(spec: HookSpec, payload: dict[str, Any]) -> HookOutcome:
    """Call a Python hook with (a copy of) the event; it returns what a command hook would print: a decision
    dict, plain text, or None. An exception is a non-blocking error, as a command's non-zero exit is."""
    started = time.monotonic()
    try:
        fn = resolve_function(spec.target)
        result = fn(copy.deepcopy(payload), **dict(spec.options))
    except Exception as exc:  # noqa: BLE001
        return HookOutcome(spec, 1, stderr=f"{type(exc).__name__}: {exc}", duration_s=time.monotonic() - started)
    if result is not None and not isinstance(result, (dict, str)):
        return HookOutcome(spec, 1, stderr=f"returned {type(result).__name__}, not a dict, str or None",
                           duration_s=time.monotonic() - started)
    code = 0
    if isinstance(result, dict) and result.get("exit_code") == 2:  # a Python hook may block as exit 2 does
        return HookOutcome(spec, 2, stderr=str(result.get("reason") or ""), duration_s=time.monotonic() - started)
    return HookOutcome(spec, code, duration_s=time.monotonic() - started, result=result,
                       stdout=result if isinstance(result, str) else "")
