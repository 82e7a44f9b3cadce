"""`dos chat` in a pseudo-terminal (standard library only): time from `dos chat` to a ready prompt, and
keystroke-to-first-token with the embedded model, typed at once (the warm-up still running) and after the
warm-up, with the turns in-process (DOS_KERNEL=0) and in the warm kernel (already running, or started by the
chat). Results go into docs/benchmarks.md.

    .venv/bin/python tests/perf/bench_chat.py [--runs 5]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import select
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][A-Z0-9]|\x1b[=>78]|\r")
SPINNER = re.compile(r"[\u2800-\u28ff]|waiting for the model…")
READY = "tokens · $"  # the bottom toolbar: drawn with the first prompt
WARM_WAIT_S = 30.0  # longer than warm_up() takes here (measured by main())


class Pty:
    def __init__(self, args: list[str], env: dict[str, str], cols: int = 100, rows: int = 30):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=env["DOS_HOME"],
                                     start_new_session=True)
        os.close(slave)
        self.out = ""

    def read(self, timeout: float) -> str:
        """New output (escape sequences removed); answers cursor-position queries as a terminal would."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return ""
        try:
            data = os.read(self.master, 65536).decode("utf-8", "replace")
        except OSError:
            return ""
        if "\x1b[6n" in data:
            os.write(self.master, b"\x1b[1;1R")
        text = ANSI.sub("", data)
        self.out += text
        return text

    def until(self, found, timeout: float = 300) -> float:
        """Read until `found(all_output_since_mark)` holds; returns the monotonic time it did."""
        deadline = time.monotonic() + timeout
        mark = len(self.out)
        while time.monotonic() < deadline:
            self.read(0.005)
            if found(self.out[mark:]):
                return time.monotonic()
        raise TimeoutError(f"not found; last output: {self.out[-400:]!r}")

    def write(self, data: str) -> float:
        os.write(self.master, data.encode())
        return time.monotonic()

    def close(self) -> None:
        self.write("\x04")  # Ctrl-D
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def environment(home: str, kernel: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_")}
    return env | {"DOS_HOME": home, "DOS_KERNEL": "1" if kernel else "0", "TERM": "xterm-256color",
                  "PYTHONPATH": str(REPO)}


def first_token(pty: Pty, sent_at: float) -> float:
    """Seconds from Enter to the first answer text on screen (after the spinner)."""
    seen_spinner = [False]

    def started(text: str) -> bool:
        if "waiting for the model" in text:
            seen_spinner[0] = True
        if not seen_spinner[0]:
            return False
        marker = "waiting for the model…"
        tail = SPINNER.sub("", text[text.rfind(marker) + len(marker):]).strip()
        return re.search(r"\w", tail) is not None and not marker.startswith(tail)  # not a half-drawn spinner

    return pty.until(started) - sent_at


def model_first_token(home: Path) -> float:
    """The model's own time to first token in the turn, as the memory log recorded it (from the model call)."""
    db = sqlite3.connect(home / "data" / "memory.db")
    try:
        (data,) = db.execute("SELECT data FROM events WHERE kind = 'response' ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        db.close()
    return float(json.loads(data)["first_token_s"])


def one_run(python: str, typed_at_once: bool, kernel: str) -> dict[str, float]:
    """kernel: "off" (turns in-process), "running" (started before the chat), "cold" (the chat starts it)."""
    home = tempfile.mkdtemp(prefix="dos-bench-chat-")
    env = environment(home, kernel != "off")
    try:
        if kernel == "running":
            subprocess.run([python, "-m", "dos", "kernel", "start"], env=env, capture_output=True, check=True)
        pty = Pty([python, "-m", "dos", "chat", "--temperature", "0", "--max-tokens", "16"], env)
        ready = pty.until(lambda text: READY in text, timeout=120) - pty.started
        if not typed_at_once:  # the toolbar's "warming up…" goes away by partial redraws: wait it out instead
            deadline = time.monotonic() + WARM_WAIT_S
            while time.monotonic() < deadline:
                pty.read(0.05)
        sent = pty.write("Say hello.\r")
        ttft = first_token(pty, sent)
        pty.until(lambda text: READY in text)  # the answer is done: the prompt is back
        pty.close()
        return {"ready_s": ready, "first_token_s": ttft, "model_s": model_first_token(Path(home))}
    finally:
        if kernel != "off":
            subprocess.run([python, "-m", "dos", "kernel", "stop"], env=env, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = sys.executable
    subprocess.run([python, "-m", "dos", "--version"], capture_output=True, check=True)  # warm the file cache
    probe = "import time; t = time.monotonic(); from dos.bootstrap import warm_up; warm_up(); print(time.monotonic() - t)"
    warm = [float(subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True,
                                 cwd=REPO).stdout.split()[-1]) for _ in range(2)]
    cases = {  # label -> (typed at once, kernel)
        "in-process, typed at once": (True, "off"),
        "in-process, typed after warm-up": (False, "off"),
        "kernel already running, typed at once": (True, "running"),
        "kernel started by the chat, typed at once": (True, "cold"),
    }
    results: dict[str, list[dict[str, float]]] = {label: [] for label in cases}
    for _ in range(args.runs):
        for label, (at_once, kernel) in cases.items():
            results[label].append(one_run(python, at_once, kernel))
    print(f"dos chat in a pty, {args.runs} runs each, {os.cpu_count()} cores; warm_up() alone: "
          f"{min(warm):.2f}-{max(warm):.2f} s; load average {os.getloadavg()[0]:.1f}")
    print("| measure | median s | min s | max s |")
    print("| --- | --- | --- | --- |")
    ready = {"in-process": results["in-process, typed at once"] + results["in-process, typed after warm-up"],
             "kernel already running": results["kernel already running, typed at once"],
             "kernel started by the chat": results["kernel started by the chat, typed at once"]}
    rows = [(f"`dos chat` to a ready prompt, {label}", [r["ready_s"] for r in rs]) for label, rs in ready.items()]
    rows += [(f"keystroke to first token, {label}", [r["first_token_s"] for r in rs])
             for label, rs in results.items()]
    for name, values in rows:
        print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |")
    print()
    print("| keystroke to first token (medians, s) | on screen | the model's own | the rest: the path |")
    print("| --- | --- | --- | --- |")
    for label, rs in results.items():
        screen, model = (statistics.median(r[k] for r in rs) for k in ("first_token_s", "model_s"))
        rest = statistics.median(r["first_token_s"] - r["model_s"] for r in rs)
        print(f"| {label} | {screen:.2f} | {model:.2f} | {rest:.2f} |")


if __name__ == "__main__":
    main()
