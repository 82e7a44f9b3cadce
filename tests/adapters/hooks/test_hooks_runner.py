"""Real subprocess and Python hooks through the runner: every exit path of Claude Code's protocol."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from dos.adapters.hooks.command_hooks import OUTPUT_CAP, HookProcessRunner
from dos.core.turn.hooks import EVENTS, HookSpec, build_event, merge, sample_event
from tests.support.hookfiles import cmd, pyscript, script

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell hooks")


def fire(specs: list[HookSpec], payload: dict, cwd: Path | None = None):
    runner = HookProcessRunner(lambda: (specs, []), cwd=str(cwd) if cwd else None)
    outcomes = runner.run(specs, payload)
    return outcomes, merge(payload["hook_event_name"], outcomes, payload.get("prompt"))


def prompt_event(text: str = "hello") -> dict:
    return build_event("UserPromptSubmit", session_id="s1", cwd="/tmp", turn_id="t1", skill="summarize",
                       model="local/smollm2", prompt=text)


@pytest.mark.parametrize("event", EVENTS)
def test_every_event_sends_claude_fields_plus_dos_fields_on_stdin(event, tmp_path):
    out = tmp_path / "got.json"
    hook = pyscript(tmp_path, "dump.py", f"open({str(out)!r}, 'w').write(sys.stdin.read())")
    payload = sample_event(event, str(tmp_path))
    outcomes, decision = fire([cmd(event, hook)], payload)
    assert outcomes[0].exit_code == 0 and not decision.warnings
    got = json.loads(out.read_text())
    for key in ("session_id", "transcript_path", "cwd", "hook_event_name", "permission_mode",
                "skill", "pack", "model", "turn_id"):
        assert key in got, key
    assert got["hook_event_name"] == event
    own = {"UserPromptSubmit": ["prompt"], "PreToolUse": ["tool_name", "tool_input", "tool_use_id"],
           "PostToolUse": ["tool_name", "tool_input", "tool_response"], "SessionStart": ["source"],
           "SessionEnd": ["reason"], "Stop": ["stop_hook_active"], "PreModelCall": ["messages", "model"],
           "Error": ["error"]}[event]
    for key in own:
        assert key in got, key


def test_exit_2_blocks_with_stderr_as_reason(tmp_path):
    hook = script(tmp_path, "block.sh", "cat >/dev/null\necho 'no keys in prompts' >&2\nexit 2\n")
    outcomes, d = fire([cmd("UserPromptSubmit", hook)], prompt_event())
    assert outcomes[0].status == "block" and d.blocked and d.reason == "no keys in prompts"


def test_exit_2_ignores_stdout_json(tmp_path):
    hook = script(tmp_path, "b.sh", "echo '{\"hookSpecificOutput\": {\"additionalContext\": \"x\"}}'\necho no >&2\nexit 2\n")
    _, d = fire([cmd("UserPromptSubmit", hook)], prompt_event())
    assert d.blocked and d.context == []


def test_json_decision_block_and_continue_false_block(tmp_path):
    a = script(tmp_path, "a.sh", "echo '{\"decision\": \"block\", \"reason\": \"policy A\"}'\n")
    b = script(tmp_path, "b.sh", "echo '{\"continue\": false, \"stopReason\": \"policy B\"}'\n")
    _, d = fire([cmd("UserPromptSubmit", a), cmd("UserPromptSubmit", b)], prompt_event())
    assert d.blocked and d.reason == "policy A; policy B" and d.stop


def test_modify_prompt_with_updated_prompt(tmp_path):
    hook = pyscript(tmp_path, "up.py", """
event = json.load(sys.stdin)
print(json.dumps({"hookSpecificOutput": {"hookEventName": "UserPromptSubmit",
                                         "updatedPrompt": event["prompt"].upper()}}))
""")
    _, d = fire([cmd("UserPromptSubmit", hook)], prompt_event("make me loud"))
    assert d.prompt == "MAKE ME LOUD" and not d.blocked


def test_add_context_json_and_plain_stdout_in_declared_order(tmp_path):
    slow = script(tmp_path, "slow.sh", "sleep 0.3\necho '{\"hookSpecificOutput\": {\"additionalContext\": \"first\"}}'\n")
    fast = script(tmp_path, "fast.sh", "echo second\n")
    _, d = fire([cmd("UserPromptSubmit", slow), cmd("UserPromptSubmit", fast)], prompt_event())
    assert d.context == ["first", "second"]  # declared order, not finishing order


def test_plain_stdout_is_context_only_where_claude_code_says_so(tmp_path):
    hook = script(tmp_path, "p.sh", "echo just text\n")
    _, d = fire([cmd("Stop", hook)], sample_event("Stop", str(tmp_path)))
    assert d.context == [] and not d.warnings


def test_timeout_kills_the_whole_process_group(tmp_path):
    marker = tmp_path / "child-alive"
    hook = script(tmp_path, "hang.sh", f"(sleep 3; touch {marker}) &\nsleep 30\n")
    started = time.monotonic()
    outcomes, d = fire([cmd("UserPromptSubmit", hook, timeout=0.5)], prompt_event())
    assert outcomes[0].timed_out and outcomes[0].exit_code is None and outcomes[0].status == "timeout"
    assert time.monotonic() - started < 3
    assert not d.blocked and "timed out after 0.5 s" in d.warnings[0]
    time.sleep(3.5)
    assert not marker.exists()  # the background child died with its group


def test_crash_is_a_non_blocking_error(tmp_path):
    hook = pyscript(tmp_path, "crash.py", "raise RuntimeError('boom')")
    outcomes, d = fire([cmd("UserPromptSubmit", hook)], prompt_event())
    assert outcomes[0].exit_code == 1 and outcomes[0].status == "error"
    assert not d.blocked and "failed (exit 1)" in d.warnings[0] and "RuntimeError: boom" in d.warnings[0]


def test_missing_command_is_a_non_blocking_error(tmp_path):
    outcomes, d = fire([cmd("UserPromptSubmit", str(tmp_path / "nope.sh"))], prompt_event())
    assert outcomes[0].exit_code == 127 and not d.blocked and d.warnings


def test_non_json_garbage_and_broken_json(tmp_path):
    garbage = script(tmp_path, "g.sh", "head -c 3000 /dev/urandom\n")
    broken = script(tmp_path, "j.sh", "echo '{\"decision\": \"block\", '\n")
    outcomes, d = fire([cmd("PreToolUse", garbage), cmd("PreToolUse", broken)], sample_event("PreToolUse", "/tmp"))
    assert [o.exit_code for o in outcomes] == [0, 0]
    assert not d.blocked and d.permission is None
    assert any("not valid JSON" in w for w in d.warnings)


def test_ten_megabytes_of_output_is_capped_and_never_breaks_the_turn(tmp_path):
    hook = pyscript(tmp_path, "big.py", "sys.stdout.write('x' * 10_000_000)\nsys.stderr.write('e' * 3_000_000)")
    outcomes, d = fire([cmd("UserPromptSubmit", hook)], prompt_event())
    o = outcomes[0]
    assert o.exit_code == 0 and o.truncated and o.output_bytes == 13_000_000
    assert len(o.stdout) == OUTPUT_CAP and len(o.stderr) == OUTPUT_CAP
    assert d.context == [] and "ignored" in d.warnings[0]


def test_endless_output_stops_at_the_timeout_with_bounded_memory(tmp_path):
    outcomes, _ = fire([cmd("UserPromptSubmit", "yes", timeout=0.5)], prompt_event())
    assert outcomes[0].timed_out and len(outcomes[0].stdout) <= OUTPUT_CAP


def test_hook_that_ignores_a_large_stdin_still_runs(tmp_path):
    hook = script(tmp_path, "noread.sh", "echo ok\n")
    payload = prompt_event("y" * 2_000_000)
    outcomes, d = fire([cmd("UserPromptSubmit", hook)], payload)
    assert outcomes[0].exit_code == 0 and d.context == ["ok"]


def test_hooks_of_one_event_run_in_parallel(tmp_path):
    log = tmp_path / "times"
    hook = pyscript(tmp_path, "nap.py", f"""
start = time.time(); time.sleep(0.5); end = time.time()
with open({str(log)!r}, "a") as f:
    f.write(f"{{start}} {{end}}\\n")
""")
    specs = [cmd("UserPromptSubmit", f"{hook} {i}") for i in range(5)]
    outcomes, d = fire(specs, prompt_event())
    assert all(o.exit_code == 0 for o in outcomes)
    spans = [tuple(map(float, line.split())) for line in log.read_text().splitlines()]
    assert len(spans) == 5
    # every hook started before any hook finished: they overlapped
    assert max(s for s, _ in spans) < min(e for _, e in spans)


def test_outcomes_come_back_in_declared_order(tmp_path):
    specs = [cmd("UserPromptSubmit", f"sleep {t}; echo {i}") for i, t in enumerate((0.3, 0.0, 0.15))]
    outcomes, d = fire(specs, prompt_event())
    assert [o.stdout.strip() for o in outcomes] == ["0", "1", "2"] and d.context == ["0", "1", "2"]


def test_environment_carries_project_dir_and_plugin_root(tmp_path):
    hook = script(tmp_path, "env.sh", 'echo "$CLAUDE_PROJECT_DIR|$CLAUDE_PLUGIN_ROOT|$DOS_HOOK_EVENT"\n')
    spec = cmd("UserPromptSubmit", hook, env=(("CLAUDE_PLUGIN_ROOT", "/packs/x"),))
    outcomes, _ = fire([spec], prompt_event(), cwd=tmp_path)
    _, root, event = outcomes[0].stdout.strip().split("|")
    assert (root, event) == ("/packs/x", "UserPromptSubmit")


def test_pre_tool_use_permission_and_updated_input(tmp_path):
    allow = script(tmp_path, "allow.sh", """echo '{"hookSpecificOutput": {"hookEventName": "PreToolUse",
 "permissionDecision": "allow", "updatedInput": {"command": "ls -la"}}}'\n""")
    deny = script(tmp_path, "deny.sh", """echo '{"hookSpecificOutput": {"hookEventName": "PreToolUse",
 "permissionDecision": "deny", "permissionDecisionReason": "no rm"}}'\n""")
    _, d = fire([cmd("PreToolUse", allow)], sample_event("PreToolUse", "/tmp"))
    assert d.permission == "allow" and d.updated_input == {"command": "ls -la"} and not d.blocked
    _, d = fire([cmd("PreToolUse", allow), cmd("PreToolUse", deny)], sample_event("PreToolUse", "/tmp"))
    assert d.permission == "deny" and d.blocked and d.reason == "no rm"


def test_post_tool_use_block_is_feedback_not_a_block(tmp_path):
    hook = script(tmp_path, "post.sh", """echo '{"decision": "block", "reason": "lint failed",
 "hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "3 warnings"}}'\n""")
    _, d = fire([cmd("PostToolUse", hook)], sample_event("PostToolUse", "/tmp"))
    assert not d.blocked and d.feedback == ["lint failed"] and d.context == ["3 warnings"]


def test_system_message_is_for_the_user(tmp_path):
    hook = script(tmp_path, "m.sh", "echo '{\"systemMessage\": \"heads up\"}'\n")
    _, d = fire([cmd("SessionStart", hook)], sample_event("SessionStart", "/tmp"))
    assert d.messages == ["heads up"]


# ------------------------------------------------------------------ Python hooks


def test_python_hooks_in_process_get_the_event_and_return_a_decision(tmp_path):
    mod = tmp_path / "myhooks.py"
    mod.write_text("""
calls = []
def add(event, label="ctx"):
    calls.append(event["prompt"])
    event["prompt"] = "mutated"  # a copy: other hooks do not see this
    return {"hookSpecificOutput": {"hookEventName": "UserPromptSubmit", "additionalContext": label}}
def block(event):
    return {"decision": "block", "reason": "python says no"}
def crash(event):
    raise ValueError("bad hook")
def plain(event):
    return "plain context"
def nothing(event):
    return None
def wrong(event):
    return 42
""")
    specs = [HookSpec("UserPromptSubmit", "python", f"{mod}:{fn}", "t", options=opts)
             for fn, opts in (("add", (("label", "L1"),)), ("add", (("label", "L2"),)), ("plain", ()),
                              ("nothing", ()), ("crash", ()), ("wrong", ()))]
    outcomes, d = fire(specs, prompt_event("orig"))
    assert [o.status for o in outcomes] == ["ok", "ok", "ok", "ok", "error", "error"]
    assert d.context == ["L1", "L2", "plain context"] and not d.blocked
    assert any("ValueError: bad hook" in w for w in d.warnings)
    _, d = fire([HookSpec("UserPromptSubmit", "python", f"{mod}:block", "t")], prompt_event())
    assert d.blocked and d.reason == "python says no"


def test_python_hook_module_function_and_missing(tmp_path):
    good = HookSpec("UserPromptSubmit", "python", "json:dumps", "t")  # returns a str: plain context
    bad = HookSpec("UserPromptSubmit", "python", "no_such_module_xyz:fn", "t")
    outcomes, d = fire([good, bad], prompt_event())
    assert outcomes[0].status == "ok" and outcomes[1].status == "error"
    assert "ModuleNotFoundError" in d.warnings[0]


def test_python_hook_that_hangs_is_abandoned_at_its_timeout(tmp_path):
    mod = tmp_path / "slow.py"
    mod.write_text("import time\ndef hook(event):\n    time.sleep(30)\n")
    started = time.monotonic()
    outcomes, d = fire([HookSpec("UserPromptSubmit", "python", f"{mod}:hook", "t", timeout=0.2)], prompt_event())
    assert outcomes[0].timed_out and time.monotonic() - started < 5 and d.warnings
