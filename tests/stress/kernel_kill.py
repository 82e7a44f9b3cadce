"""The kernel killed while many `dos run`s stream through it: no turn may run twice, none may stay open.

    python tests/stress/kernel_kill.py [--runs 16] [--max-tokens 200]

Starts a kernel in a fresh DOS_HOME, starts RUNS `dos run` clients at once, waits until some answer has streamed,
kills the kernel with SIGKILL, and waits for every client. Then counts, from the memory log: prompts per distinct
text (a turn run twice has two), prompts with no response event (an orphan), and the clients' exit codes. Exits 1
if any turn ran twice or stayed open. Issue 25 measured 16 re-runs and 15 orphans under this load before the fix.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=200)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="dos-kill-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_")} | {"DOS_HOME": str(home),
                                                                                "DOS_KERNEL": "1"}
    dos = [sys.executable, "-m", "dos"]
    subprocess.run([*dos, "kernel", "start"], env=env, check=True, capture_output=True)
    pid = json.loads(subprocess.run([*dos, "kernel", "status", "--json"], env=env, capture_output=True,
                                    check=True).stdout)["pid"]
    clients = [subprocess.Popen([*dos, "run", "explain", "--temperature", "0", "--max-tokens", str(args.max_tokens),
                                 f"Question {i}: explain how Unix file permissions work."], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for i in range(args.runs)]
    os.set_blocking(clients[0].stdout.fileno(), False)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (clients[0].stdout.read(1) or b""):
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    codes = collections.Counter(c.wait(600) for c in clients)
    db = sqlite3.connect(home / "data" / "memory.db")
    prompts = db.execute("SELECT text, COUNT(*) FROM events WHERE kind = 'prompt' GROUP BY text").fetchall()
    twice = sum(n - 1 for _, n in prompts if n > 1)
    orphans = db.execute("SELECT COUNT(*) FROM events p WHERE p.kind = 'prompt' AND NOT EXISTS "
                         "(SELECT 1 FROM events r WHERE r.kind = 'response' AND r.turn_id = p.turn_id)").fetchone()[0]
    subprocess.run([*dos, "kernel", "stop"], env=env, capture_output=True)
    print(f"{args.runs} runs, kernel killed mid-stream: exit codes {dict(codes)}, turns on record {len(prompts)}, "
          f"run twice {twice}, left open {orphans}")
    sys.exit(1 if twice or orphans else 0)


if __name__ == "__main__":
    main()
