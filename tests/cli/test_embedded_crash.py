"""An embedded model that kills its process with a signal (issue 18: an AMX build dies with SIGILL on an AMX Xeon):
`dos doctor` finds it in a child process, the kernel's supervisor writes down which signal and which model, `dos run`
says so in one line with exit 17 and never runs the same model into the same crash again; the prompt stays on record.

The crash is real (the process dies by SIGILL from the kernel); only the illegal instruction is simulated, by
tests/support/crashy, a llama_cpp package that wraps the real one and signals itself on decode. These machines have
no AMX, so the instruction itself cannot be had here."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.support import SUPPORT
from tests.support.kernel_on import kernel_on

pytestmark = pytest.mark.model
CRASHY = str(SUPPORT / "crashy")
FAST = ["--temperature", "0", "--max-tokens", "4"]


def crashy(above: int = 0) -> dict[str, str]:
    return {"PYTHONPATH": CRASHY, "CRASHY_ABOVE_TOKENS": str(above)}


def rows(dos_home: Path, kind: str) -> list[sqlite3.Row]:
    db = sqlite3.connect(dos_home / "data" / "memory.db")
    db.row_factory = sqlite3.Row
    return db.execute("SELECT * FROM events WHERE kind = ? ORDER BY seq", (kind,)).fetchall()


def crash_record(dos_home: Path) -> dict | None:
    path = dos_home / "state" / "embedded-crash.json"
    return json.loads(path.read_text()) if path.exists() else None


def doctor_models(run) -> list[dict]:
    return [c for c in json.loads(run.out)["checks"] if c["area"] == "models"]


def test_doctor_finds_a_crash_on_decode_by_its_signal_and_names_the_fix(dos, dos_home):
    run = dos("doctor", "--json", env=crashy())
    assert run.code == 12, run.err
    failed = [c for c in doctor_models(run) if c["status"] == "fail"]
    assert len(failed) == 1 and "crashed with SIGILL (illegal instruction) on its first token" in failed[0]["detail"]
    assert "make llama" in failed[0]["fix"]
    assert "Traceback" not in run.err
    assert crash_record(dos_home)["signal"] == 4  # turns now skip the model instead of crashing

    healthy = dos("doctor", "--json")  # the real build decodes: the record goes
    assert healthy.code == 0, healthy.out
    assert any("first token in" in c["detail"] for c in doctor_models(healthy) if c["status"] == "ok")
    assert crash_record(dos_home) is None


def test_a_recorded_crash_fails_the_turn_in_one_line_after_the_prompt_is_on_record(dos, dos_home):
    assert dos("doctor", "--json", env=crashy()).code == 12
    run = dos("run", "explain", *FAST, "what is a signal", env=crashy())
    assert run.code == 17, run.err
    assert run.err.count("\n") == 1 and "local/smollm2 crashed its process with SIGILL" in run.err
    assert "dos doctor" in run.err
    assert [r["text"] for r in rows(dos_home, "prompt")] == ["what is a signal"]
    response = json.loads(rows(dos_home, "response")[-1]["data"])
    assert response["complete"] is False and "SIGILL" in response["error"]


def test_a_kernel_that_crashes_while_warming_up_is_not_followed_into_the_same_crash(dos, dos_home):
    with kernel_on(dos, dos_home) as kdos:
        first = kdos("run", "explain", *FAST, "what is a kernel", env=crashy())
        assert first.code == 17, first.err
        lines = first.err.splitlines()
        assert len(lines) == 1 and "local/smollm2 crashed its process with SIGILL" in lines[0], lines
        assert crash_record(dos_home)["during"] == "running in the kernel"
        exit_record = json.loads((dos_home / "state" / "kernel.exit.json").read_text())
        assert exit_record["signal"] == 4 and exit_record["model"] == "smollm2"
        assert "died from SIGILL (illegal instruction)" in (dos_home / "state" / "kernel.log").read_text()
        assert [r["text"] for r in rows(dos_home, "prompt")] == ["what is a kernel"]

        second = kdos("run", "explain", *FAST, "and a process?", env=crashy())  # the kernel starts, skipping it
        assert second.code == 17 and "crashed its process with SIGILL" in second.err
        assert json.loads(kdos("kernel", "status", "--json").out)["running"] is True


def test_a_kernel_that_crashes_mid_turn_is_reported_once_and_the_turn_is_not_run_again(dos, dos_home):
    long_prompt = "Explain how Unix signals reach a process and what SIGILL means. " * 4
    with kernel_on(dos, dos_home) as kdos:
        assert kdos("kernel", "start", env=crashy(above=60)).code == 0  # warm-up's short prompt decodes fine
        run = kdos("run", "explain", *FAST, long_prompt, env=crashy(above=60))
        assert run.code == 17, run.err
        lines = run.err.splitlines()
        assert len(lines) == 1, lines
        assert "the kernel died from SIGILL (illegal instruction) while running the embedded model local/smollm2" \
            in lines[0]
        assert "the prompt is in memory" in lines[0] and "not run again" in lines[0]
        assert len(rows(dos_home, "prompt")) == 1
        closed = json.loads(rows(dos_home, "response")[-1]["data"])
        assert closed["complete"] is False and closed["error"] == "crashed"
        assert crash_record(dos_home)["model"] == "smollm2"
