"""`kill -9` while a turn streams: the prompt and the partial answer are in the log afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dos.adapters.store.memory_io import MemoryTools
from dos.adapters.store.sqlite_memory import SqliteMemory
from tests.conftest import REPO

KILLED_MID_STREAM = textwrap.dedent("""
    import os, signal, sys, time
    from dos.adapters.store.sqlite_memory import SqliteMemory
    from dos.core.domain import Chunk, Skill, TurnRequest
    from dos.core.turn.runner import TurnRunner
    from tests.support.fakes import routed

    class Skills:
        def get(self, name):
            return Skill(name, "d", "Be brief.", "/x", "builtin")

    class DiesMidStream:
        def stream(self, model, messages, *, max_tokens, temperature):
            for i in range(50):
                yield Chunk(text=f"word{i} ")
                time.sleep(0.02)
                if i == 20:
                    os.kill(os.getpid(), signal.SIGKILL)

        def report(self):
            return {}

    class Clock:
        def now(self): return time.time()
        def monotonic(self): return time.monotonic()

    TurnRunner(Skills(), routed(DiesMidStream()), SqliteMemory(__import__("pathlib").Path(sys.argv[1])), Clock()).run(
        TurnRequest("summarize", "the prompt that must survive"))
""")


def test_a_turn_killed_mid_stream_keeps_prompt_and_partial_answer(tmp_path: Path):
    db = tmp_path / "memory.db"
    proc = subprocess.run([sys.executable, "-c", KILLED_MID_STREAM, str(db)], cwd=REPO, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    memory = SqliteMemory(db)
    [turn] = memory.recent_turns(5)
    assert turn.prompt == "the prompt that must survive"
    assert turn.response.startswith("word0 word1 ") and not turn.complete and turn.error == "crashed"
    assert len(turn.response.split()) >= 10  # saved every 200 ms: at most that much is lost
    assert memory.db.execute("SELECT COUNT(*) FROM inflight").fetchone()[0] == 0
    assert MemoryTools(memory).verify().problem is None
    assert len(SqliteMemory(db).recent_turns(5)) == 1  # recovered once, not on every open


def test_a_live_turn_is_not_taken_for_a_crashed_one(tmp_path: Path):
    from dos.core.domain import Event

    writer = SqliteMemory(tmp_path / "memory.db")
    writer.progress(Event("response", "half an answer", "s", "t", "model"))
    reader = SqliteMemory(tmp_path / "memory.db")
    assert reader.recent_turns(5) == [] and MemoryTools(reader).stats().in_flight == 1
    writer.append(Event("response", "the whole answer", "s", "t", "model", data={"complete": True}))
    assert MemoryTools(reader).stats().in_flight == 0


@pytest.mark.model
def test_kill_9_of_dos_run_while_it_streams(dos_home: Path, tmp_path: Path):
    # DOS_KERNEL=0: this process streams the answer itself (killing a thin client would leave the kernel running)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_")} | {"DOS_HOME": str(dos_home),
                                                                              "DOS_KERNEL": "0"}
    text = " ".join(f"Paragraph {i}: the harbour town of Elsby traded wool, salt and timber." for i in range(40))
    proc = subprocess.Popen(
        [sys.executable, "-m", "dos", "run", "summarize", "--max-tokens", "400", "--temperature", "0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    )
    proc.stdin.write(text.encode())
    proc.stdin.close()
    seen = b""
    deadline = time.monotonic() + 180
    while len(seen.split()) < 3 and time.monotonic() < deadline:
        seen += os.read(proc.stdout.fileno(), 64)
    time.sleep(0.3)
    proc.kill()
    proc.wait()
    assert seen.strip(), proc.stderr.read().decode()
    memory = SqliteMemory(dos_home / "data" / "memory.db")
    [turn] = memory.recent_turns(5)
    assert turn.prompt.startswith("Paragraph 0:")
    assert turn.response and not turn.complete and turn.error == "crashed"
    assert seen.decode(errors="ignore").split()[0] in turn.response
    assert MemoryTools(memory).verify().problem is None
