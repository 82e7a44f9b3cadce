"""Tool permissions in a turn, end to end (issue 20, Build 3): each call the model makes is checked against the rules
between the PreToolUse hook and the call; a call nobody allowed is refused (reported to the model, one line on
stderr, the turn goes on); `--allow`, the skill's `allowed-tools` and a person's yes on a terminal let calls run;
every decision is in the memory log.

The model is scripted: an OpenAI-compatible server on 127.0.0.1 (tests/support/fake_provider.py) replays fixed tool
calls, since no real model that calls tools reliably can be had on this machine (no network, no key, and the
embedded model is too small); everything between it and the tools is the real thing.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dos.adapters.project.permissions import PermissionConfig
from dos.adapters.project.trust import ProjectTrust
from dos.core.permissions import Question
from dos.core.ports import ALWAYS, ONCE
from tests.cli.test_builtin_tools_turn import models_yaml
from tests.cli.test_routing_router import events
from tests.conftest import clean_env
from tests.support.fake_provider import FakeProvider
from tests.support.models_yaml import write_models_yaml

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and terminals")

EXTRACT = "import sys; print('fields of', sys.argv[1])\n"
COMMAND = "python3 extract.py form.txt"



@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "extract.py").write_text(EXTRACT)
    (folder / "form.txt").write_text("NAME: Ada\n")
    return folder


def skill(dos_home: Path, allowed_tools: str = "") -> None:
    folder = dos_home / "data" / "skills" / "forms"
    folder.mkdir(parents=True)
    extra = f"allowed-tools: {allowed_tools}\n" if allowed_tools else ""
    folder.joinpath("SKILL.md").write_text(f"---\nname: forms\ndescription: Read forms.\n{extra}---\nRead forms.\n")


def run_scripted(dos, dos_home: Path, work: Path, calls: list[tuple[str, dict]], *flags: str, env=None):
    """`dos run forms --tools builtin FLAGS` with the model making `calls`, one a round, then answering."""
    with FakeProvider({"scripted": ["tool"] * len(calls) + ["ok"]}, reply="Done.", calls=calls) as provider:
        write_models_yaml(dos_home, models_yaml(provider.url))
        r = dos("run", "forms", "--model", "scripted", "--tools", "builtin", *flags, "What does form.txt say?",
                cwd=work, env=env)
        bodies = provider.bodies
    return r, bodies, [e for e in events(dos_home) if e["kind"] in ("tool_call", "tool_result")]


def test_a_command_no_rule_allows_is_refused_without_a_terminal_and_the_turn_answers(dos, dos_home, work):
    skill(dos_home)
    r, bodies, log = run_scripted(dos, dos_home, work, [("Bash", {"command": COMMAND})])
    assert r.code == 0, r.err
    assert "Done." in r.out
    line = next(x for x in r.err.splitlines() if "refused" in x)
    assert line.startswith("dos: tool call refused: no rule allows Bash(python3 extract.py form.txt)")
    assert "no terminal to ask" in line and "--allow 'Bash(python3 *)'" in line
    told = bodies[1]["messages"][-1]
    assert told["role"] == "tool" and told["content"].startswith("error: refused: no rule allows")
    call, result = log
    assert call["data"]["arguments"] == {"command": COMMAND}
    assert result["data"]["refused"] is True and result["data"]["permission"]["decision"] == "deny"
    assert result["data"]["permission"]["verdict"] == "ask"


def test_allow_flag_lets_the_command_run_and_its_exit_code_and_bytes_are_recorded(dos, dos_home, work):
    skill(dos_home)
    r, bodies, log = run_scripted(dos, dos_home, work, [("Bash", {"command": COMMAND}),
                                                        ("Bash", {"command": "rm form.txt"})],
                                  "--allow", "Bash(python3:*)")
    assert r.code == 0, r.err
    assert bodies[1]["messages"][-1]["content"] == "fields of form.txt"
    assert bodies[2]["messages"][-1]["content"].startswith("error: refused: no rule allows Bash(rm form.txt)")
    assert (work / "form.txt").exists()
    ran, refused = [e["data"] for e in log if e["kind"] == "tool_result"]
    assert ran["permission"] == {"decision": "allow", "verdict": "allow", "rule": "Bash(python3:*)",
                                 "origin": "--allow", "reason": f"Bash({COMMAND}) is allowed by Bash(python3:*) "
                                                                "(--allow)"}
    assert ran["exit_code"] == 0 and ran["output_bytes"] == len("fields of form.txt\n") and ran["bytes"] == 18
    assert refused["refused"] is True and refused["permission"]["decision"] == "deny"


def test_the_skills_allowed_tools_pre_approve_its_commands(dos, dos_home, work):
    skill(dos_home, "Read Bash(python3:*)")  # one string: the space inside ( ) belongs to the rule
    r, bodies, log = run_scripted(dos, dos_home, work, [("Bash", {"command": COMMAND}),
                                                        ("Write", {"file_path": "x.txt", "content": "x"})])
    assert r.code == 0, r.err
    assert bodies[1]["messages"][-1]["content"] == "fields of form.txt"
    assert "allowed-tools do not include Write" in bodies[2]["messages"][-1]["content"]
    permission = [e["data"] for e in log if e["kind"] == "tool_result"][0]["permission"]
    assert permission["rule"] == "Bash(python3:*)" and permission["origin"] == "skill forms (allowed-tools)"


def test_a_pretooluse_hook_blocks_an_allowed_call(dos, dos_home, work, tmp_path):
    skill(dos_home)
    (dos_home / "config").mkdir(parents=True, exist_ok=True)
    (dos_home / "config" / "hooks.yaml").write_text(
        "hooks:\n  PreToolUse:\n    - matcher: Bash\n      hooks:\n"
        "        - {type: command, command: \"echo 'no shell here' >&2; exit 2\"}\n")
    r, bodies, log = run_scripted(dos, dos_home, work, [("Bash", {"command": COMMAND})], "--allow", "Bash")
    assert r.code == 0, r.err
    assert bodies[1]["messages"][-1]["content"] == "error: refused: a PreToolUse hook blocked it: no shell here"
    result = [e["data"] for e in log if e["kind"] == "tool_result"][0]
    assert result["refused"] is True and "permission" not in result  # the hook decided before the rules


def test_bad_permission_flags_are_usage_errors(dos, work):
    r = dos("run", "summarize", "--permission-mode", "yolo", "hi", cwd=work)
    assert r.code == 2 and r.err.strip().splitlines() == [
        "dos: unknown permission mode 'yolo' (modes: default, acceptEdits, plan, dontAsk, bypassPermissions)"]
    r = dos("run", "summarize", "--allow", "Bash(git diff", "hi", cwd=work)
    assert r.code == 2 and r.err.strip() == "dos: permission rule 'Bash(git diff': unclosed '(' (expected Tool or " \
                                            "Tool(specifier))"
    r = dos("chat", "--permission-mode", "acceptedits", cwd=work)
    assert r.code == 2 and "did you mean acceptEdits?" in r.err


def test_an_ask_answered_always_on_a_terminal_runs_and_is_kept_for_the_folder(dos_home, work):
    """`dos run --no-kernel` with stdin and stderr on a pseudo-terminal: the prompt appears, `a` answers it."""
    skill(dos_home)
    master, slave = os.openpty()
    with FakeProvider({"scripted": ["tool", "tool", "ok"]}, reply="Done.",
                      calls=[("Bash", {"command": COMMAND}), ("Bash", {"command": "python3 extract.py again"})]) as p:
        write_models_yaml(dos_home, models_yaml(p.url))
        proc = subprocess.Popen([sys.executable, "-m", "dos", "run", "forms", "--no-kernel", "--model", "scripted",
                                 "--tools", "builtin", "What does form.txt say?"], cwd=work, stdin=slave,
                                stdout=subprocess.PIPE, stderr=slave, env=clean_env(dos_home))
        os.close(slave)
        screen = _read_until(master, b"? [y/a/N] ", timeout=120)
        os.write(master, b"a\n")
        out, _ = proc.communicate(timeout=120)
        screen += _read_all(master)
        os.close(master)
        bodies = p.bodies
    text = screen.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "no rule allows Bash(python3 extract.py form.txt)" in text
    assert "a = always in this folder (keeps Bash(python3 *) in ./.dos/settings.local.json)" in text
    assert text.count("? [y/a/N]") == 1  # the second python3 call ran on the rule just kept
    assert b"Done." in out
    assert bodies[1]["messages"][-1]["content"] == "fields of form.txt"
    assert bodies[2]["messages"][-1]["content"] == "fields of again"
    saved = json.loads((work / ".dos" / "settings.local.json").read_text())
    assert saved == {"permissions": {"allow": ["Bash(python3 *)"]}}
    loaded, problems = PermissionConfig(dos_home / "config", work, ProjectTrust(dos_home / "config")).load()
    assert problems == [] and [str(r) for r in loaded.allow] == ["Bash(python3 *)"]  # kept trusted
    results = [e["data"]["permission"] for e in events(dos_home) if e["kind"] == "tool_result"]
    assert results[0]["answer"] == "always" and results[0]["saved"].startswith("saved Bash(python3 *) to")
    assert results[1]["rule"] == "Bash(python3 *)" and "answer" not in results[1]


def _read_until(fd: int, marker: bytes, timeout: float) -> bytes:
    got, deadline = b"", time.monotonic() + timeout
    while marker not in got:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} on the terminal: {got.decode(errors='replace')}"
        if select.select([fd], [], [], left)[0]:
            try:
                got += os.read(fd, 4096)
            except OSError:
                break
    return got


def _read_all(fd: int) -> bytes:
    got = b""
    while select.select([fd], [], [], 0.2)[0]:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    return got


def test_the_terminal_prompt_asks_only_on_a_terminal_of_its_own(monkeypatch):
    import contextvars
    import io

    from dos.cli.turn.approve import TerminalApprover
    from dos.context import Client, set_client

    class Tty(io.StringIO):
        def isatty(self):
            return True

    approver = TerminalApprover()
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert approver.unable() == "there is no terminal to ask"
    monkeypatch.setattr(sys, "stdin", Tty("a\nyes\n\n"))
    monkeypatch.setattr(sys, "stderr", Tty())
    assert approver.unable() is None

    def in_the_kernel():
        set_client(Client(cwd="/work", scope="tty:/dev/pts/1", env={}))
        return approver.unable()

    assert contextvars.copy_context().run(in_the_kernel) == ("the warm kernel cannot ask on your terminal "
                                                             "(`--no-kernel` asks)")
    question = Question("Bash(pytest -q)", "no rule allows Bash(pytest -q)", ("Bash(pytest *)",),
                        "./.dos/settings.local.json")
    assert approver.ask(question) == ALWAYS
    assert approver.ask(Question("x", "y", (), "")) == ONCE  # nothing to keep: "always" cannot be offered
    assert approver.ask(question) == "deny"  # Enter alone: no
    assert sys.stderr.getvalue().splitlines()[:3] == [
        "dos: no rule allows Bash(pytest -q)",
        "  y = allow once, a = always in this folder (keeps Bash(pytest *) in ./.dos/settings.local.json), n = deny",
        "allow Bash(pytest -q)? [y/a/N] dos: y"]
