"""llama-cpp-python build against build: decode speed through DOS and compile time, side by side in one run.

    .venv/bin/python tests/perf/bench_build.py [--runs N] [--build] BEFORE_PYTHON AFTER_PYTHON

Each PYTHON is a venv's interpreter with DOS installed on one llama-cpp-python build (e.g. a plain native build and
the one `make install` makes now). Decode: the probe of tests/perf/bench.py (a `dos` turn in-process, no recall),
run with each interpreter in turn, round after round, so the machine's load falls on both alike. `--build` also
compiles both configurations from the lock's sdist at the same time (each gets the same share of the cores) and
reports each one's wall time. Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import MAX_TOKENS, PHASES, PROMPT  # noqa: E402  (the same probe as `make bench`)

REPO = Path(__file__).resolve().parents[2]
BEFORE_ARGS = ""  # what `make install` built until issue 18: llama.cpp's defaults (GGML_NATIVE on, mtmd built)
FEATURES = "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())"


def after_args() -> str:
    return subprocess.run(["make", "-s", "--no-print-directory", "llama-cmake-args"], cwd=REPO, check=True,
                          capture_output=True, text=True).stdout.strip()


def machine_code(python: str) -> dict[str, str]:
    """SHA-256 of the .text section of each llama.cpp library of that venv (objcopy, from binutils)."""
    code = ("import importlib.util, pathlib; s = importlib.util.find_spec('llama_cpp'); "
            "print('\\n'.join(str(p) for f in s.submodule_search_locations for p in "
            "sorted((pathlib.Path(f) / 'lib').glob('lib*.so')) if p.name != 'libmtmd.so'))")
    libs = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    out = {}
    for lib in libs:
        with tempfile.NamedTemporaryFile() as text:
            subprocess.run(["objcopy", "-O", "binary", "--only-section=.text", lib, text.name], check=True)
            out[Path(lib).name] = hashlib.sha256(Path(text.name).read_bytes()).hexdigest()
    return out


def decode(pythons: list[str], runs: int, env: dict) -> list[float]:
    system = "You explain things clearly and briefly."
    speeds: list[list[float]] = [[] for _ in pythons]
    for _ in range(runs):
        for python, out in zip(pythons, speeds):
            proc = subprocess.run([python, "-c", PHASES, system, PROMPT, str(MAX_TOKENS)], capture_output=True,
                                  env=env)
            if proc.returncode:
                raise SystemExit(f"{python}: probe failed ({proc.returncode}): {proc.stderr.decode()[-600:]}")
            out.append(json.loads(proc.stdout)["decode_tps"])
    return [statistics.median(s) for s in speeds]


def build_both(configs: list[str]) -> list[float]:
    """Both wheels compiled at once from the hash-pinned sdist, pip's cache off; wall seconds of each."""
    lock = Path(tempfile.mkdtemp()) / "llama-lock.txt"
    lines = (REPO / "requirements" / "lock.txt").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("llama-cpp-python=="))
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith("    --hash"):
            break
        block.append(line)
    lock.write_text("\n".join(block) + "\n")
    procs, began = [], time.monotonic()
    for args in configs:
        out = tempfile.mkdtemp(prefix="llama-wheel-")
        env = os.environ | {"CMAKE_ARGS": args}
        procs.append(subprocess.Popen([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-cache-dir",
                                       "--require-hashes", "-r", str(lock), "-w", out], env=env))
    took = [0.0] * len(procs)
    while any(t == 0.0 for t in took):
        for i, proc in enumerate(procs):
            if took[i] == 0.0 and proc.poll() is not None:
                if proc.returncode:
                    raise SystemExit(f"build {i} failed ({proc.returncode})")
                took[i] = time.monotonic() - began
        time.sleep(1)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--build", action="store_true", help="also compile both configurations at once")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_")}
    env |= {"DOS_HOME": tempfile.mkdtemp(prefix="dos-bench-"), "DOS_KERNEL": "0"}
    pythons = [args.before, args.after]
    features = [subprocess.run([p, "-c", FEATURES], capture_output=True, text=True, check=True).stdout.strip()
                for p in pythons]
    codes = [machine_code(p) for p in pythons]
    same = sorted(name for name in codes[0] if codes[0][name] == codes[1].get(name))
    before_tps, after_tps = decode(pythons, args.runs, env)
    rows = [
        ("before: ggml CPU features", features[0].replace(" |", ""), args.before),
        ("after: ggml CPU features", features[1].replace(" |", ""), args.after),
        ("machine code (.text) identical", ", ".join(same) or "none",
         f"of {', '.join(sorted(codes[0]))}"),
        ("before: decode through DOS", f"{before_tps:.1f} tok/s", f"median of {args.runs}, interleaved"),
        ("after: decode through DOS", f"{after_tps:.1f} tok/s", f"{100 * after_tps / before_tps:.1f}% of before"),
    ]
    if args.build:
        after = after_args()
        took = build_both([BEFORE_ARGS, after])
        rows += [("before: compile, both at once", f"{took[0] / 60:.1f} min", "llama.cpp defaults"),
                 ("after: compile, both at once", f"{took[1] / 60:.1f} min",
                  f"{100 * took[1] / took[0]:.0f}% of before; CMAKE_ARGS `{after}`")]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"llama-cpp-python builds, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, load average {load}\n")
    print("| what | measured | note |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
