"""`dos run` end to end as a subprocess, on the real embedded model and a real SQLite file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.conftest import clean_env

PARAGRAPH = (
    "Local-first software keeps your data on your own machine. It works offline, syncs with other devices "
    "when a network is available, and gives people ownership of their work."
)
FAST = ["--temperature", "0", "--max-tokens", "12"]


def memory_events(dos_home) -> list[sqlite3.Row]:
    path = dos_home / "data" / "memory.db"
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    return db.execute("SELECT * FROM events ORDER BY seq").fetchall()


@pytest.mark.model
def test_summarize_from_stdin_answers_and_logs_the_turn(dos, dos_home):
    run = dos("run", "summarize", "--json", *FAST, input=PARAGRAPH)
    assert run.code == 0, run.err
    answer = json.loads(run.out)
    assert answer["text"].strip()
    assert answer["model"] == "local/smollm2"
    assert answer["usage"]["prompt_tokens"] > 20
    assert 0 < answer["usage"]["completion_tokens"] <= 12
    assert answer["cost"] == 0.0

    log = dos("memory", "log", "--json")
    assert log.code == 0, log.err
    turns = json.loads(log.out)
    assert [t["turn_id"] for t in turns] == [answer["turn_id"]]
    assert turns[0]["prompt"] == PARAGRAPH
    assert turns[0]["response"] == answer["text"]
    assert turns[0]["complete"] is True


@pytest.mark.model
def test_streamed_plain_output_matches_the_logged_response(dos, dos_home):
    run = dos("run", "explain", "what does chmod 600 do", *FAST)
    assert run.code == 0, run.err
    assert run.err == ""  # nothing else on stderr, not even a destructor's complaint at exit
    assert run.out.strip()
    assert "\x1b[" not in run.out  # a pipe gets plain text
    response = [e for e in memory_events(dos_home) if e["kind"] == "response"][0]
    assert run.out.strip() == response["text"].strip()


@pytest.mark.model
def test_text_and_stdin_combine_with_a_blank_line(dos, dos_home):
    run = dos("run", "summarize", "Focus on ownership.", *FAST, input=PARAGRAPH)
    assert run.code == 0, run.err
    prompt = [e for e in memory_events(dos_home) if e["kind"] == "prompt"][0]
    assert prompt["text"] == f"Focus on ownership.\n\n{PARAGRAPH}"


@pytest.mark.model
def test_no_log_leaves_memory_untouched(dos, dos_home):
    run = dos("run", "summarize", "--no-log", "--json", *FAST, input=PARAGRAPH)
    assert run.code == 0, run.err
    assert json.loads(run.out)["turn_id"] is None
    assert memory_events(dos_home) == []


@pytest.mark.model
def test_interrupt_mid_stream_exits_130_and_keeps_prompt_and_partial_answer(dos_home, tmp_path):
    env = clean_env(dos_home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dos", "run", "explain", "--temperature", "0", "--max-tokens", "400",
         "Explain in detail how file permissions work on Linux, with many examples."],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    )
    os.set_blocking(proc.stdout.fileno(), False)
    seen = b""
    deadline = time.monotonic() + 120
    while len(seen) < 20 and time.monotonic() < deadline and proc.poll() is None:
        seen += proc.stdout.read() or b""
        time.sleep(0.05)
    assert len(seen) >= 20, "the answer never started streaming"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode().strip() == "dos: interrupted"
    kinds = [(e["kind"], json.loads(e["data"]).get("complete")) for e in memory_events(dos_home)]
    assert kinds == [("prompt", None), ("route", None), ("response", False)]
    response = memory_events(dos_home)[2]
    assert response["text"] and (seen + out).decode().startswith(response["text"][:10])
    assert json.loads(response["data"])["error"] == "interrupted"


@pytest.mark.model
def test_model_failure_exits_4_with_one_line_and_keeps_the_prompt(dos, dos_home):
    run = dos("run", "summarize", "--model", "local/no-such-model", input=PARAGRAPH)
    assert run.code == 4
    assert run.err.count("\n") == 1 and run.err.startswith("dos: local/no-such-model:")
    assert "Traceback" not in run.err
    events = memory_events(dos_home)
    assert [e["kind"] for e in events] == ["prompt", "route", "response"]
    assert json.loads(events[2]["data"])["complete"] is False
    route = json.loads(events[1]["data"])
    assert route["chain"] == ["local/no-such-model"] and route["ok"] is False
    assert route["attempts"][0]["model"] == "local/no-such-model" and route["attempts"][0]["ok"] is False
