"""Turn overhead added by hooks: 0, 1, 5 and 20 hooks, command and Python, measured on the hook phase itself
(one UserPromptSubmit firing: select, run in parallel, merge, as the turn does it), in-process, no model.

    .venv/bin/python tests/perf/bench_hooks.py [--repeat N] [--markdown]

Stdlib only. Targets (issue 6): a Python hook adds under 1 ms; command hooks run in parallel, so 5 cost about
as much as one.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dos.adapters.hooks.command_hooks import HookProcessRunner  # noqa: E402
from dos.core.turn.hooks import HookSpec, Hooks  # noqa: E402

COUNTS = (0, 1, 5, 20)
PROMPT = "Summarize: local-first software keeps your data on your own machine. " * 4

PY_HOOK = '''
def context(event, **options):
    return {"hookSpecificOutput": {"hookEventName": "UserPromptSubmit",
                                   "additionalContext": "branch main, " + event["cwd"]}}
'''
PY_SCRIPT = '''import json, sys
event = json.load(sys.stdin)
print(json.dumps({"hookSpecificOutput": {"hookEventName": "UserPromptSubmit", "additionalContext": event["cwd"]}}))
'''


def specs(kind: str, n: int, folder: Path) -> list[HookSpec]:
    if kind == "python":
        return [HookSpec("UserPromptSubmit", "python", f"{folder / 'pyhook.py'}:context", "bench",
                         options=(("i", i),)) for i in range(n)]
    if kind == "command (sh)":
        return [HookSpec("UserPromptSubmit", "command", f"cat >/dev/null; echo ctx {i}", "bench") for i in range(n)]
    script = f"{shlex.quote(sys.executable)} -S {shlex.quote(str(folder / 'hook.py'))}"
    return [HookSpec("UserPromptSubmit", "command", f"{script} {i}", "bench") for i in range(n)]


def measure(kind: str, n: int, folder: Path, repeat: int) -> list[float]:
    hook_specs = specs(kind, n, folder)
    hooks = Hooks(HookProcessRunner(lambda: (hook_specs, []), cwd=str(folder)), cwd=str(folder))
    times = []
    for i in range(repeat + 2):
        session = hooks.session(session_id="s", turn_id=f"t{i}", skill="summarize", pack=None,
                                model="local/smollm2", memory=None)
        started = time.perf_counter()
        gate = session.submit(PROMPT)
        elapsed = time.perf_counter() - started
        assert not gate.blocked and len(gate.decision.context if gate.decision else []) == n
        if i >= 2:  # the first runs import the Python hook module and warm the caches
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "pyhook.py").write_text(PY_HOOK)
        (folder / "hook.py").write_text(PY_SCRIPT)
        rows = []
        for kind in ("python", "command (sh)", "command (python script)"):
            for n in COUNTS:
                repeat = args.repeat if kind == "python" or n <= 5 else max(5, args.repeat // 3)
                t = measure(kind, n, folder, repeat)
                rows.append((kind, n, statistics.median(t) * 1000, max(t) * 1000))
    base = {k: next(m for kk, n, m, _ in rows if kk == k and n == 0) for k, _, _, _ in rows}
    one = {k: next(m for kk, n, m, _ in rows if kk == k and n == 1) for k, _, _, _ in rows}
    if args.markdown:
        print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
              f"{platform.system()}; median of {args.repeat} firings (fewer for 20 command hooks).\n")
        print("| hooks | kind | hook phase, median | max | added per hook | vs. 1 hook |")
        print("| ----: | ---- | -----------------: | --: | -------------: | ---------: |")
    for kind, n, med, worst in rows:
        per = (med - base[kind]) / n if n else 0.0
        ratio = med / one[kind] if n else 0.0
        if args.markdown:
            print(f"| {n} | {kind} | {med:.3f} ms | {worst:.3f} ms | {per:.3f} ms | "
                  f"{'' if n == 0 else f'{ratio:.2f}x'} |")
        else:
            print(f"{kind:24} {n:3d} hooks  median {med:8.3f} ms  max {worst:8.3f} ms  per hook {per:7.3f} ms"
                  f"  vs 1: {ratio:5.2f}x")


if __name__ == "__main__":
    main()
