"""Router benchmarks (issue 7), stdlib only:

1. routing decision time (merge the route layers, filter, order) for 10, 100 and 1,000 catalog entries;
2. the router's overhead around one embedded-model call: DOS's routed call (LiteLLM Router built from the chain,
   attempt callback, chunk mapping) versus a bare streaming `litellm.completion` on the same model and prompt.

    .venv/bin/python tests/perf/bench_routing.py [--calls 7] [--out FILE]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dos.core.routing.policy import ModelEntry, PREFERENCES, constraints_from, decide, merge  # noqa: E402

LABELS = ["local", "self-hosted", "eu", "us", "cn"]
CAPS = ["chat", "tools", "vision", "json", "long-context"]
MESSAGES = [{"role": "user", "content": "Say hello in five words."}]


def catalog(n: int, seed: int = 7) -> list[ModelEntry]:
    rng = random.Random(seed)
    return [
        ModelEntry(
            name=f"provider{i % 13}/model-{i}",
            params={"model": f"openai/model-{i}"},
            sovereignty=rng.choice(LABELS),
            capabilities=frozenset(["chat", *rng.sample(CAPS[1:], rng.randint(0, 3))]),
            input_price=rng.choice([None, 0.0, rng.uniform(0.05, 20)]),
            output_price=rng.choice([None, 0.0, rng.uniform(0.1, 80)]),
            quality=rng.randint(1, 5),
            latency_s=rng.choice([None, rng.uniform(0.1, 5)]),
        )
        for i in range(n)
    ]


def bench_decision(n: int, rounds: int) -> dict[str, float]:
    entries = catalog(n)
    layers = [
        ("config", constraints_from({"sovereignty": ["local", "eu", "us"], "prefer": "local-first"}, "config")),
        ("skill", constraints_from({"sovereignty": ["local", "eu"], "capabilities": ["tools"], "max_price": 10}, "s")),
        ("command line", constraints_from({"prefer": "cheapest"}, "cli")),
    ]
    times = []
    for i in range(rounds):
        prefer = PREFERENCES[i % len(PREFERENCES)]
        started = time.perf_counter()
        request = merge([*layers, ("command line", {"prefer": prefer})])
        decision = decide(entries, request)
        times.append(time.perf_counter() - started)
        assert all(e.sovereignty in ("local", "eu") for e in decision.chain)
    times.sort()
    return {"entries": n, "median_ms": statistics.median(times) * 1e3, "p95_ms": times[int(0.95 * len(times))] * 1e3,
            "kept": len(decision.chain)}


def bench_overhead(calls: int, max_tokens: int) -> dict[str, float]:
    from dos.adapters.models.catalog import EMBEDDED
    from dos.adapters.models.litellm_router import LiteLLMRouteBinder, build_router
    from dos.adapters.models.litellm_setup import litellm_module
    from dos.core.routing.policy import RouteRequest

    litellm = litellm_module()
    params = {"max_tokens": max_tokens, "temperature": 0.0, "stream": True, "stream_options": {"include_usage": True}}

    def bare() -> str:
        return "".join(p.choices[0].delta.content or "" for p in
                       litellm.completion(model=EMBEDDED.name, messages=MESSAGES, **params) if p.choices)

    decision = decide([EMBEDDED], RouteRequest())
    binder = LiteLLMRouteBinder({"num_retries": 0})

    def routed() -> str:
        bound = binder.bind(decision)
        return "".join(c.text for c in bound.stream(EMBEDDED.name, MESSAGES, max_tokens=max_tokens, temperature=0.0))

    assert bare() == routed()  # warm-up: model loaded, same answer both ways
    times: dict[str, list[float]] = {"bare": [], "routed": []}
    for _ in range(calls):
        for name, call in (("bare", bare), ("routed", routed)):
            started = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - started)
    build = []
    for _ in range(20):
        started = time.perf_counter()
        build_router(decision.chain, {"num_retries": 0}).retire()
        build.append(time.perf_counter() - started)
    bare_ms = statistics.median(times["bare"]) * 1e3
    routed_ms = statistics.median(times["routed"]) * 1e3
    return {"calls": calls, "max_tokens": max_tokens, "bare_ms": bare_ms, "routed_ms": routed_ms,
            "overhead_ms": routed_ms - bare_ms, "router_build_ms": statistics.median(build) * 1e3}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=7)
    parser.add_argument("--max-tokens", type=int, default=8)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--skip-model", action="store_true")
    args = parser.parse_args()
    rows = [bench_decision(n, rounds) for n, rounds in ((10, 5000), (100, 2000), (1000, 300))]
    lines = [
        "# Router benchmarks (issue 7)",
        "",
        f"Machine: {platform.machine()}, {platform.system()}, Python {platform.python_version()}. "
        "Produced by `tests/perf/bench_routing.py`.",
        "",
        "## Routing decision (merge config/skill/command-line layers, filter by hard constraints, order)",
        "",
        "| catalog entries | median | p95 | kept |",
        "| --------------- | ------ | --- | ---- |",
    ]
    lines += [f"| {r['entries']} | {r['median_ms']:.3f} ms | {r['p95_ms']:.3f} ms | {r['kept']} |" for r in rows]
    lines += ["", "Target: < 1 ms at 100 entries."]
    if not args.skip_model:
        o = bench_overhead(args.calls, args.max_tokens)
        lines += [
            "",
            f"## Router overhead around one embedded-model call ({o['max_tokens']} tokens, temperature 0, "
            f"median of {o['calls']}, model already loaded)",
            "",
            "| path | median wall time |",
            "| ---- | ---------------- |",
            f"| bare `litellm.completion(model=\"local/smollm2\", stream=True)` | {o['bare_ms']:.1f} ms |",
            f"| DOS routed call (LiteLLM Router from the chain + attempt callback) | {o['routed_ms']:.1f} ms |",
            f"| overhead | {o['overhead_ms']:+.1f} ms |",
            f"| of which building the one-model Router | {o['router_build_ms']:.1f} ms |",
        ]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
