"""`dos chat` with its turns in the warm kernel: the chat process never loads LiteLLM or the model, the kernel
serves every turn, a kernel killed mid-answer hands the turn back to the chat (prompt kept), `--no-kernel` keeps
the turns in-process. (Piped and pty chat tests run through the kernel too: test_chat_piped, test_chat_pty.)"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import clean_env
from tests.support.kernel_on import kernel_on

pytestmark = pytest.mark.model
FAST = ["--temperature", "0", "--max-tokens", "8"]


@pytest.fixture
def kdos(dos, dos_home):
    with kernel_on(dos, dos_home) as call:
        yield call


def prompts_and_responses(dos_home: Path) -> list[sqlite3.Row]:
    db = sqlite3.connect(dos_home / "data" / "memory.db")
    db.row_factory = sqlite3.Row
    return db.execute("SELECT * FROM events WHERE kind IN ('prompt', 'response') ORDER BY seq").fetchall()


def test_chat_turns_run_in_the_kernel_and_the_chat_never_loads_the_model(kdos, dos_home, tmp_path):
    out = tmp_path / "modules.json"
    probe = (
        "import json, sys\nsys.argv = ['dos', 'chat', '--temperature', '0', '--max-tokens', '8']\n"
        "from dos.cli.entry import main\ncode = 0\ntry:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
        f"json.dump([code, sorted(sys.modules)], open({str(out)!r}, 'w'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], input=b"What is 2+2?\n/explain what does ls do\n/cost\n",
                          capture_output=True, env=clean_env(dos_home, DOS_KERNEL="1"), cwd=tmp_path, timeout=300)
    code, modules = json.loads(out.read_text())
    assert code == 0, proc.stderr.decode()
    assert not {m.split(".")[0] for m in modules} & {"litellm", "llama_cpp", "mcp"}
    status = json.loads(kdos("kernel", "status", "--json").out)
    assert status["served"] == 2
    assert "total\t2\t" in proc.stdout.decode()  # /cost adds up what the kernel's turns reported
    logged = json.loads(kdos("memory", "log", "--json").out)
    assert [t["skill"] for t in logged] == ["chat", "explain"] and all(t["complete"] for t in logged)
    assert len({t["session_id"] for t in logged}) == 1
    assert all(t["response"].strip() in proc.stdout.decode() for t in logged)


def test_no_kernel_keeps_the_turns_in_this_process(kdos):
    run = kdos("chat", "--no-kernel", *FAST, input="hello\n")
    assert run.code == 0, run.err
    assert json.loads(kdos("kernel", "status", "--json").out) == {"running": False}


def test_a_kernel_killed_mid_answer_loses_that_turn_once_and_the_chat_goes_on(kdos, dos_home, tmp_path):
    assert kdos("kernel", "start").code == 0
    pid = json.loads(kdos("kernel", "status", "--json").out)["pid"]
    script = b"Explain in detail how file permissions work on Linux.\nSay hello.\n"
    proc = subprocess.Popen([sys.executable, "-m", "dos", "chat", "--temperature", "0", "--max-tokens", "120"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=clean_env(dos_home, DOS_KERNEL="1"), cwd=tmp_path)
    proc.stdin.write(script)
    proc.stdin.close()
    os.set_blocking(proc.stdout.fileno(), False)
    seen, deadline = b"", time.monotonic() + 120
    while len(seen) < 20 and time.monotonic() < deadline and proc.poll() is None:
        seen += proc.stdout.read() or b""
        time.sleep(0.05)
    assert len(seen) >= 20, "the answer never started streaming"
    os.kill(pid, signal.SIGKILL)
    proc.wait(300)
    err = proc.stderr.read().decode()
    lost = [line for line in err.splitlines() if "the kernel died from SIGKILL" in line]
    assert len(lost) == 1 and "the prompt and the partial answer are in memory" in lost[0], err
    assert "not run again" in lost[0]
    events = prompts_and_responses(dos_home)
    prompts = [e["text"] for e in events if e["kind"] == "prompt"]
    assert prompts == [prompts[0], "Say hello."]  # the lost turn is on record once; the next one runs
    responses = [json.loads(e["data"]) for e in events if e["kind"] == "response"]
    assert [r["complete"] for r in responses] == [False, True] and responses[0]["error"] == "crashed"
    assert len({e["session_id"] for e in events}) == 1
