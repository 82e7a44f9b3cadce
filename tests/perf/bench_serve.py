"""`dos serve` benchmark: requests per second and latency for 1, 8 and 32 concurrent clients on the embedded model,
and the gateway's overhead per request beside the same turn run in-process (no HTTP), in one run.

Run: `make bench` (or `.venv/bin/python tests/perf/bench_serve.py [--requests N]`). Prints a Markdown table;
paste it into docs/benchmarks.md. Standard library only on the client side (http.client, threads).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

PY = sys.executable
PROMPT = "What is a file?"
MAX_TOKENS = 8

IN_PROCESS = r"""
import json, sys, time
from dos.bootstrap import build, warm_up
from dos.core.serve.gateway import ChatCall
warm_up()
gateway = build().gateway()
token = next(t for t in gateway.tokens.all() if t.name == "bench")
print("ready", flush=True)
for line in sys.stdin:  # one turn per line, timed, so the bench can interleave these with HTTP requests
    call = ChatCall("skill:explain", ({"role": "user", "content": sys.argv[1]},), sys.argv[1], int(sys.argv[2]), 0.0)
    start = time.perf_counter()
    result = gateway.run(token, call)
    print(json.dumps({"s": time.perf_counter() - start, "tokens": result.usage.completion_tokens}), flush=True)
"""


def request(url: str, token: str, stream: bool) -> tuple[float, int]:
    """One chat completion through the gateway: (seconds, completion tokens)."""
    parts = urlparse(url)
    body = json.dumps({"model": "skill:explain", "max_tokens": MAX_TOKENS, "temperature": 0, "stream": stream,
                       "stream_options": {"include_usage": True} if stream else None,
                       "messages": [{"role": "user", "content": PROMPT}]})
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    start = time.perf_counter()
    conn.request("POST", parts.path + "/chat/completions", body,
                 {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - start
    conn.close()
    if response.status != 200:
        raise SystemExit(f"request failed: {response.status} {data[:300]!r}")
    if stream:
        events = [json.loads(line[6:]) for line in data.decode().splitlines()
                  if line.startswith("data: {")]
        tokens = next(e["usage"]["completion_tokens"] for e in events if e.get("usage"))
    else:
        tokens = json.loads(data)["usage"]["completion_tokens"]
    return elapsed, tokens


def load(url: str, token: str, clients: int, total: int) -> dict[str, float]:
    """`total` streamed requests spread over `clients` threads: throughput and latency percentiles."""
    latencies: list[float] = []
    tokens: list[int] = []
    lock = threading.Lock()
    each = max(1, total // clients)

    def client() -> None:
        for _ in range(each):
            seconds, n = request(url, token, stream=True)
            with lock:
                latencies.append(seconds)
                tokens.append(n)

    start = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    latencies.sort()
    return {"requests": len(latencies), "rps": len(latencies) / wall, "tps": sum(tokens) / wall,
            "p50": latencies[len(latencies) // 2], "p95": latencies[min(len(latencies) - 1,
                                                                        int(len(latencies) * 0.95))]}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=64, help="requests per concurrency level")
    parser.add_argument("--runs", type=int, default=15, help="sequential requests for the overhead rows")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="dos-bench-serve-"))
    (home / "config").mkdir()
    (home / "config" / "models.yaml").write_text("discover: {localhost: false, env: false}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_")} | {"DOS_HOME": str(home),
                                                                                 "DOS_KERNEL": "0"}
    dos = [PY, "-m", "dos"]
    token = subprocess.run([*dos, "tokens", "create", "bench"], env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    server = subprocess.Popen([*dos, "serve", "--port", "0"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        line = ""
        while "listening on" not in line:
            line = server.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise SystemExit("dos serve did not start")
        url = line.split("listening on ", 1)[1].strip()
        request(url, token, stream=False)  # the first request of each kind warms LiteLLM's paths
        request(url, token, stream=True)
        local = subprocess.Popen([PY, "-c", IN_PROCESS, PROMPT, str(MAX_TOKENS)], env=env, text=True,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert local.stdout.readline().strip() == "ready"  # type: ignore[union-attr]
        inproc, whole, streamed, tokens = [], [], [], 0
        for _ in range(args.runs + 1):  # interleaved, so both paths see the same machine load; first is warm-up
            local.stdin.write("go\n")  # type: ignore[union-attr]
            local.stdin.flush()  # type: ignore[union-attr]
            measured = json.loads(local.stdout.readline())  # type: ignore[union-attr]
            inproc.append(measured["s"])
            tokens = measured["tokens"]
            whole.append(request(url, token, stream=False)[0])
            streamed.append(request(url, token, stream=True)[0])
        local.stdin.close()  # type: ignore[union-attr]
        local.wait(30)
        base = statistics.median(inproc[1:])
        overhead = [w - i for w, i in zip(whole[1:], inproc[1:])], [s - i for s, i in zip(streamed[1:], inproc[1:])]
        rows = [
            ("in-process turn (`Gateway.run`, no HTTP)", ms(base),
             f"skill:explain, {tokens} tokens, temperature 0, median of {args.runs}, interleaved with the rows below"),
            ("through `dos serve`, not streamed", ms(statistics.median(whole[1:])),
             f"overhead per request: median {ms(statistics.median(overhead[0]))}"),
            ("through `dos serve`, streamed (SSE)", ms(statistics.median(streamed[1:])),
             f"overhead per request: median {ms(statistics.median(overhead[1]))}"),
        ]
        for clients in (1, 8, 32):
            r = load(url, token, clients, max(args.requests, clients))
            rows.append((f"{clients} concurrent client{'s' if clients > 1 else ''}, streamed",
                         f"{r['rps']:.2f} req/s", f"p50 {ms(r['p50'])}, p95 {ms(r['p95'])}, "
                                                  f"{r['tps']:.0f} tok/s, {r['requests']:.0f} requests"))
    finally:
        server.terminate()
        server.wait(30)
        shutil.rmtree(home, ignore_errors=True)
    print(f"| measurement ({os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}) | result | notes |")
    print("| --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
