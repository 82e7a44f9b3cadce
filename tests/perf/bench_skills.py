"""`dos skills list` wall time with 10, 100 and 1,000 skills installed (process start included).

Run: `.venv/bin/python tests/perf/bench_skills.py [--runs N]`. Prints a Markdown table for docs/benchmarks.md.
Standard library only. "cold" is the first run (no index cache); "warm" is the median of the rest.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
COMMAND = [str(BIN / "dos")] if (BIN / "dos").exists() else [sys.executable, "-m", "dos"]
FAST = [sys.executable, "-c", "import sys; from dos.cli.listing import fast_list; sys.exit(fast_list(sys.argv[1:]))"]


def make_skills(home: Path, n: int) -> None:
    root = home / "data" / "skills"
    for i in range(n):
        folder = root / f"skill-{i:04d}"
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(
            f"---\nname: skill-{i:04d}\ndescription: Benchmark skill number {i}. Use when measuring listing speed.\n"
            "license: Apache-2.0\nmetadata:\n  dos:\n    temperature: 0.2\n    max_tokens: 100\n---\n"
            + "Reply briefly.\n" * 20, "utf-8")


def wall(command: list[str], env: dict[str, str], cwd: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([*command, "skills", "list"], env=env, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"dos skills list failed: {proc.stderr.decode()}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="warm runs per size (median reported)")
    args = parser.parse_args()
    print(f"`{' '.join(Path(c).name for c in COMMAND)} skills list` on a pipe; Python {platform.python_version()}, "
          f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; median of {args.runs} warm runs.")
    print("\"fast path\" is `dos.cli.listing.fast_list`, which `dos.cli.entry` can call before importing typer.\n")
    print("| skills installed | listed | cold (no index) ms | warm median ms | warm min ms | fast path median ms |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in (10, 100, 1000):
        home = Path(tempfile.mkdtemp(prefix="dos-bench-"))
        try:
            make_skills(home, n)
            env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_")} | {"DOS_HOME": str(home)}
            cold = wall(COMMAND, env, str(home))
            warm = [wall(COMMAND, env, str(home)) for _ in range(args.runs)]
            fast = [wall(FAST, env, str(home)) for _ in range(args.runs)]
            listed = subprocess.run([*COMMAND, "skills", "list"], env=env, cwd=str(home), capture_output=True,
                                    text=True).stdout.count("\n")
            print(f"| {n} | {listed} | {cold * 1000:.0f} | {statistics.median(warm) * 1000:.0f} | {min(warm) * 1000:.0f} "
                  f"| {statistics.median(fast) * 1000:.0f} |")
        finally:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
