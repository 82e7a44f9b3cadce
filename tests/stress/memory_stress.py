"""Many processes appending to one memory log at once: every event must land, the chain must verify.

    python tests/stress/memory_stress.py                  # 16 processes x 500 turns (the issue's bar)
    python tests/stress/memory_stress.py --procs 8 --turns 50 --cli 4

Each turn is a prompt and a response event, appended through the library. `--cli N` adds N processes that
each run `dos memory remember` a few times. Exits 1 on any failure, lost event or broken chain.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLI_NOTES = 3


def worker(db: Path, name: str, turns: int, start_at: float) -> None:
    sys.path.insert(0, str(REPO))
    from dos.adapters.store.sqlite_memory import SqliteMemory
    from dos.core.domain import Event

    memory = SqliteMemory(db)
    while time.time() < start_at:
        time.sleep(0.001)
    costs, failures = [], 0
    for i in range(turns):
        for kind, text in (("prompt", f"{name} asks question {i}"), ("response", f"{name} answer {i}")):
            t0 = time.perf_counter()
            try:
                memory.append(Event(kind, text, session_id=name, turn_id=f"{name}-{i}", actor="user"))
            except Exception as exc:  # counted, never hidden
                failures += 1
                print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            costs.append(time.perf_counter() - t0)
    print(json.dumps({"failures": failures, "costs": costs}))


def cli_worker(home: Path, name: str, start_at: float) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_")} | {"DOS_HOME": str(home), "DOS_KERNEL": "0"}
    while time.time() < start_at:
        time.sleep(0.001)
    failures = 0
    for i in range(CLI_NOTES):
        proc = subprocess.run([sys.executable, "-m", "dos", "memory", "remember", f"{name} note {i}"],
                              cwd=REPO, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            failures += 1
            print(f"{name}: exit {proc.returncode}: {proc.stderr.strip()}", file=sys.stderr)
    print(json.dumps({"failures": failures, "costs": []}))


def run(procs: int, turns: int, cli: int, home: Path) -> bool:
    db = home / "data" / "memory.db"
    start_at = time.time() + 1.5 + 0.1 * (procs + cli)  # every process imported and waiting: then go
    me = str(Path(__file__).resolve())
    children = [subprocess.Popen([sys.executable, me, "--worker", str(db), f"w{n}", str(turns), str(start_at)],
                                 stdout=subprocess.PIPE, text=True) for n in range(procs)]
    children += [subprocess.Popen([sys.executable, me, "--cli-worker", str(home), f"c{n}", str(start_at)],
                                  stdout=subprocess.PIPE, text=True) for n in range(cli)]
    results = [json.loads(child.communicate()[0].strip().splitlines()[-1]) for child in children]
    elapsed = time.time() - start_at
    sys.path.insert(0, str(REPO))
    from dos.adapters.store.memory_io import MemoryTools
    from dos.adapters.store.sqlite_memory import SqliteMemory

    memory = MemoryTools(SqliteMemory(db))
    failures = sum(r["failures"] for r in results) + sum(c.returncode != 0 for c in children)
    expected = procs * turns * 2 + cli * CLI_NOTES
    stored = memory.stats().events
    report = memory.verify()
    costs = sorted(c for r in results for c in r["costs"])
    p50 = costs[len(costs) // 2] * 1000 if costs else 0.0
    p99 = costs[int(len(costs) * 0.99)] * 1000 if costs else 0.0
    print(f"{procs} processes x {turns} turns (+{cli} CLI processes x {CLI_NOTES} notes) in {elapsed:.1f} s: "
          f"{stored}/{expected} events, {failures} failures, chain {'valid' if report.problem is None else 'BROKEN'}; "
          f"append under contention p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    if report.problem:
        print(report.problem)
    return failures == 0 and stored == expected and report.problem is None


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        worker(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
        return
    if sys.argv[1:2] == ["--cli-worker"]:
        cli_worker(Path(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=16)
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--cli", type=int, default=0, help="extra processes running `dos memory remember`")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dos-stress-") as home:
        ok = run(args.procs, args.turns, args.cli, Path(home))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
