"""`dos hooks list`, `dos hooks test`, and hooks around `dos run`, end to end as subprocesses."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.cli.test_run import memory_events as events
from tests.support.hookfiles import pyscript, script, settings

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell hooks")
FAST = ["--temperature", "0", "--max-tokens", "8"]


def user_hooks(dos_home: Path, text: str) -> None:
    (dos_home / "config").mkdir(parents=True, exist_ok=True)
    (dos_home / "config" / "hooks.yaml").write_text(text)


def test_list_shows_each_hook_by_event_and_its_file(dos, dos_home, tmp_path):
    user_hooks(dos_home, "builtin: [context]\nhooks:\n  Stop:\n    - hooks: [{type: command, command: stop-hook}]\n")
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "settings.json").write_text(settings(
        {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "guard.sh", "timeout": 5}]}]}))
    r = dos("hooks", "list")
    assert r.code == 0, r.err
    assert "Stop:" in r.out and "stop-hook" in r.out and "builtin:context" in r.out
    assert "guard.sh\tmatcher=Bash\t5 s\t" in r.out and ".claude/settings.json" in r.out
    data = json.loads(dos("hooks", "list", "--json").out)
    assert [h["event"] for h in data["hooks"]] == ["UserPromptSubmit", "Stop", "PreToolUse"]
    assert {b["name"]: b["enabled"] for b in data["builtin"]} == {"context": True, "notify": False,
                                                                   "redact-secrets": False}


def test_list_with_nothing_configured(dos):
    r = dos("hooks", "list")
    assert r.code == 0 and "no hooks configured" in r.out


def test_test_runs_the_hooks_on_a_sample_payload(dos, dos_home, tmp_path):
    block = script(tmp_path, "b.sh", "cat >/dev/null; echo 'mentions a customer' >&2; exit 2\n")
    user_hooks(dos_home, f"builtin: [redact-secrets]\nhooks:\n  UserPromptSubmit:\n"
                         f"    - hooks: [{{type: command, command: {json.dumps(block)}}}]\n")
    r = dos("hooks", "test", "UserPromptSubmit")
    assert r.code == 0, r.err
    assert "block\texit 2" in r.out and "decision: BLOCK: mentions a customer" in r.out
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps({"prompt": "my key is sk-abcdefghijklmnopqrstuvwxyz123"}))
    r = dos("hooks", "test", "UserPromptSubmit", "--payload", str(payload), "--json")
    data = json.loads(r.out)
    assert data["decision"]["blocked"] and [h["status"] for h in data["hooks"]] == ["ok", "block"]
    assert "sk-abcdefghij" not in r.out  # secrets never reach the terminal
    assert data["decision"]["prompt"] == "my key is [REDACTED]"


def test_test_refuses_an_unknown_event(dos):
    r = dos("hooks", "test", "userpromptsubmit")
    assert r.code == 2 and "did you mean UserPromptSubmit" in r.err


def test_blocked_prompt_exits_10_records_prompt_and_reason_and_calls_no_model(dos, dos_home, tmp_path):
    block = pyscript(tmp_path, "block.py", """
event = json.load(sys.stdin)
sys.stderr.write("prompts about " + event["skill"] + " are paused")
sys.exit(2)
""")
    user_hooks(dos_home, f"hooks:\n  UserPromptSubmit:\n    - hooks: [{{type: command, command: {json.dumps(block)}}}]\n")
    r = dos("run", "summarize", "some notes", "--model", "nowhere/none")
    assert r.code == 10, r.err
    assert r.err.strip() == "dos: a UserPromptSubmit hook blocked this turn: prompts about summarize are paused"
    rows = events(dos_home)
    assert [row["kind"] for row in rows] == ["hook", "prompt"]  # no response: no model was called
    hook, prompt = rows
    assert prompt["text"] == "some notes"
    assert json.loads(prompt["data"])["hooks"]["blocked"] == "prompts about summarize are paused"
    data = json.loads(hook["data"])
    assert data["outcome"] == "block" and data["exit_code"] == 2 and data["event"] == "UserPromptSubmit"


def test_a_hanging_hook_is_one_line_on_stderr_and_the_turn_goes_on(dos, dos_home, tmp_path):
    user_hooks(dos_home, "hooks:\n  SessionStart:\n    - hooks: [{type: command, command: 'sleep 20', timeout: 0.5}]\n"
                         "  UserPromptSubmit:\n    - hooks: [{type: command, command: 'exit 2'}]\n")
    r = dos("run", "summarize", "notes", "--model", "nowhere/none")
    assert r.code == 10
    lines = r.err.strip().splitlines()
    assert lines[0] == "dos: SessionStart hook sleep 20 timed out after 0.5 s and was stopped"
    assert lines[1].startswith("dos: a UserPromptSubmit hook blocked this turn")
    assert [json.loads(row["data"])["outcome"] for row in events(dos_home) if row["kind"] == "hook"] == \
        ["timeout", "block"]


def test_hooks_off_with_dos_hooks_0(dos, dos_home):
    user_hooks(dos_home, "hooks:\n  UserPromptSubmit:\n    - hooks: [{type: command, command: 'exit 2'}]\n")
    r = dos("run", "summarize", "notes", "--model", "nowhere/none", env={"DOS_HOOKS": "0"})
    assert r.code != 10


def test_hooks_commands_import_no_model_library(dos_home, tmp_path):
    from tests.architecture.test_architecture import HEAVY, modules_loaded_by

    for args in (["hooks", "list"], ["hooks", "test", "Stop"]):
        loaded = modules_loaded_by(args, dos_home, tmp_path)
        assert "dos" in loaded and not loaded & set(HEAVY), args


@pytest.mark.model
def test_context_and_stop_hooks_around_a_real_turn(dos, dos_home, tmp_path):
    seen = tmp_path / "stop.json"
    stop = pyscript(tmp_path, "stop.py", f"open({str(seen)!r}, 'w').write(sys.stdin.read())")
    user_hooks(dos_home, "builtin: [context]\nhooks:\n  Stop:\n"
                         f"    - hooks: [{{type: command, command: {json.dumps(stop)}}}]\n")
    r = dos("run", "summarize", "--json", *FAST, input="Hooks run around every turn of DOS.")
    assert r.code == 0, r.err
    answer = json.loads(r.out)
    got = json.loads(seen.read_text())
    assert got["hook_event_name"] == "Stop" and got["last_assistant_message"] == answer["text"]
    assert got["session_id"] == answer["session_id"] and got["turn_id"] == answer["turn_id"]
    kinds = [row["kind"] for row in events(dos_home)]
    assert kinds.count("hook") == 2 and "response" in kinds
