"""Hooks wired into the turn (on fakes for the model and memory, real hook subprocesses)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dos.adapters.hooks.command_hooks import HookProcessRunner
from dos.core.domain import Skill, TurnRequest
from dos.core.errors import HookBlocked, ModelError
from dos.core.turn.hooks import HookSpec, Hooks
from dos.core.turn.runner import TurnRunner
from tests.support.fakes import FakeMemory, FakeSkills, ScriptedModel, TickClock, routed
from tests.support.hookfiles import cmd, pyscript, script

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell hooks")

SKILL = Skill("summarize", "Summarize text.", "Summarize the text.", "/x/SKILL.md", "builtin:writing")


def turn(specs: list[HookSpec], model: ScriptedModel, memory: FakeMemory, notes: list[str] | None = None,
         cwd: Path | None = None) -> TurnRunner:
    notes = notes if notes is not None else []
    hooks = Hooks(HookProcessRunner(lambda: (specs, []), cwd=str(cwd) if cwd else None), notes.append,
                  str(cwd or "/tmp"))
    return TurnRunner(FakeSkills(SKILL), routed(model), memory, TickClock(), hooks=hooks)


def test_blocked_prompt_is_recorded_with_the_reason_and_no_model_is_called(tmp_path):
    hook = script(tmp_path, "b.sh", "echo 'contains a customer name' >&2\nexit 2\n")
    memory, model = FakeMemory(), ScriptedModel(["never"])
    with pytest.raises(HookBlocked) as err:
        turn([cmd("UserPromptSubmit", hook)], model, memory).run(TurnRequest("summarize", "about ACME Corp"))
    assert err.value.exit_code == 10 and "contains a customer name" in err.value.message
    assert model.calls == []
    kinds = [e.kind for e in memory.events]
    assert kinds == ["hook", "prompt"]
    hook_event, prompt = memory.events
    assert prompt.text == "about ACME Corp" and prompt.data["hooks"] == {"blocked": "contains a customer name"}
    assert hook_event.data["outcome"] == "block" and hook_event.data["exit_code"] == 2
    assert hook_event.data["stderr"] == "contains a customer name" and hook_event.turn_id == prompt.turn_id


def test_rewrite_and_context_reach_the_model(tmp_path):
    rewrite = pyscript(tmp_path, "r.py", """
e = json.load(sys.stdin)
print(json.dumps({"hookSpecificOutput": {"hookEventName": "UserPromptSubmit", "updatedPrompt": e["prompt"] + "!"}}))
""")
    context = script(tmp_path, "c.sh", "echo 'The user is in Lisbon.'\n")
    start = script(tmp_path, "s.sh", "echo 'Session context.'\n")
    memory, model = FakeMemory(), ScriptedModel(["ok"])
    specs = [cmd("SessionStart", start), cmd("UserPromptSubmit", rewrite), cmd("UserPromptSubmit", context)]
    turn(specs, model, memory).run(TurnRequest("summarize", "hello"))
    messages = model.calls[0]["messages"]
    assert messages[0] == {"role": "system",
                           "content": "Summarize the text.\n\nSession context.\n\nThe user is in Lisbon."}
    assert messages[-1] == {"role": "user", "content": "hello!"}
    prompt = next(e for e in memory.events if e.kind == "prompt")
    assert prompt.text == "hello!" and prompt.data["hooks"] == {"rewritten": True}


def test_every_event_of_a_turn_fires_in_order_and_is_recorded(tmp_path):
    log = tmp_path / "order"
    spy = pyscript(tmp_path, "spy.py", f"""
e = json.load(sys.stdin)
open({str(log)!r}, "a").write(e["hook_event_name"] + " " + str(e.get("model")) + " " + str(e.get("pack")) + "\\n")
""")
    events = ["SessionStart", "UserPromptSubmit", "PreModelCall", "Stop", "SessionEnd", "Error"]
    memory, model = FakeMemory(), ScriptedModel(["a", "b"])
    turn([cmd(e, spy) for e in events], model, memory).run(TurnRequest("summarize", "x", model="local/m"))
    assert log.read_text().splitlines() == [f"{e} local/m writing" for e in events[:-1]]
    hooks = [e for e in memory.events if e.kind == "hook"]
    assert [h.data["event"] for h in hooks] == events[:-1]
    assert all(h.data["outcome"] == "ok" and h.data["duration_s"] >= 0 for h in hooks)
    assert [e.kind for e in memory.events] == ["hook", "hook", "prompt", "hook", "route", "response", "hook",
                                                "hook"]


def test_pre_model_call_sees_the_final_messages_and_can_block(tmp_path):
    seen = tmp_path / "seen.json"
    hook = pyscript(tmp_path, "pm.py", f"""
e = json.load(sys.stdin)
open({str(seen)!r}, "w").write(json.dumps(e))
sys.stderr.write("budget exceeded")
sys.exit(2)
""")
    memory, model = FakeMemory(), ScriptedModel(["never"])
    with pytest.raises(HookBlocked, match="PreModelCall.*budget exceeded"):
        turn([cmd("PreModelCall", hook)], model, memory).run(TurnRequest("summarize", "abc"))
    import json
    got = json.loads(seen.read_text())
    assert got["model"] == "local/smollm2" and got["messages"][-1] == {"role": "user", "content": "abc"}
    assert model.calls == [] and [e.kind for e in memory.events] == ["prompt", "hook"]


def test_error_hooks_fire_when_the_provider_fails(tmp_path):
    out = tmp_path / "err"
    hook = pyscript(tmp_path, "e.py", f"open({str(out)!r}, 'w').write(json.load(sys.stdin)['error'])")
    memory = FakeMemory()
    model = ScriptedModel(["one", "two"], fail_after=1, fail_with=ModelError("provider down"))
    with pytest.raises(ModelError):
        turn([cmd("Error", hook)], model, memory).run(TurnRequest("summarize", "abc"))
    assert out.read_text() == "provider down"


@pytest.mark.parametrize("body", ["sleep 30\n", "exit 7\n", "head -c 10000000 /dev/zero\n", "printf '\\377\\376{'\n"])
def test_a_broken_hook_never_breaks_the_turn_or_loses_the_prompt(tmp_path, body):
    hook = script(tmp_path, "bad.sh", body)
    memory, model, notes = FakeMemory(), ScriptedModel(["fine"]), []
    result = turn([cmd("UserPromptSubmit", hook, timeout=0.5)], model, memory, notes).run(
        TurnRequest("summarize", "keep me"))
    assert result.text == "fine" and model.calls
    assert [e.kind for e in memory.events] == ["hook", "prompt", "route", "response"]
    assert memory.events[1].text == "keep me"
    assert len(notes) <= 1 and all("\n" not in n for n in notes)
    record = memory.events[0].data
    assert len(record.get("stdout", "")) <= 400 and len(record.get("stderr", "")) <= 400


def test_no_log_records_no_hook_events(tmp_path):
    hook = script(tmp_path, "ok.sh", "exit 0\n")
    memory, model = FakeMemory(), ScriptedModel(["x"])
    turn([cmd("UserPromptSubmit", hook)], model, memory).run(TurnRequest("summarize", "abc", log=False))
    assert memory.events == []


def test_tool_hooks_are_ready_for_the_tool_loop(tmp_path):
    deny = script(tmp_path, "d.sh", "echo 'rm is not allowed' >&2\nexit 2\n")
    post = script(tmp_path, "p.sh", """echo '{"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "ok"}}'\n""")
    memory = FakeMemory()
    hooks = Hooks(HookProcessRunner(lambda: ([cmd("PreToolUse", deny, matcher="Bash"),
                                               cmd("PostToolUse", post)], [])), cwd="/tmp")
    session = hooks.session(session_id="s", turn_id="t", skill="x", pack=None, model="m", memory=memory)
    d = session.pre_tool("Bash", {"command": "rm -rf /"}, "toolu_1")
    assert d.blocked and d.reason == "rm is not allowed"
    assert not session.pre_tool("Read", {"file_path": "a"}).blocked  # matcher: Bash only
    assert session.post_tool("Read", {"file_path": "a"}, {"content": "..."}).context == ["ok"]
    assert [e.data.get("tool_name") for e in memory.events] == ["Bash", "Read"]


def test_no_hooks_configured_costs_no_runner_call():
    class Boom:
        def hooks(self):
            return []

        def problems(self):
            return []

        def run(self, specs, payload):  # pragma: no cover
            raise AssertionError("must not run")

    memory, model = FakeMemory(), ScriptedModel(["x"])
    TurnRunner(FakeSkills(SKILL), routed(model), memory, TickClock(), hooks=Hooks(Boom())).run(
        TurnRequest("summarize", "a"))
    assert [e.kind for e in memory.events] == ["prompt", "route", "response"]


def test_secrets_in_a_hook_reason_never_reach_the_terminal(tmp_path):
    key = "sk-ant-" + "a1b2c3d4e5f6g7h8i9j0"
    hook = script(tmp_path, "leak.sh", f"echo 'found {key} in prompt' >&2\nexit 2\n")
    crash = script(tmp_path, "crash.sh", f"echo 'token {key}' >&2\nexit 1\n")
    memory, notes = FakeMemory(), []
    with pytest.raises(HookBlocked) as err:
        turn([cmd("UserPromptSubmit", crash), cmd("UserPromptSubmit", hook)], ScriptedModel(["x"]), memory,
             notes).run(TurnRequest("summarize", "hi"))
    assert key not in err.value.message and "[REDACTED]" in err.value.message
    assert notes and all(key not in n for n in notes)


def test_session_start_continue_false_stops_before_the_prompt_is_sent(tmp_path):
    stop = script(tmp_path, "s.sh", "echo '{\"continue\": false, \"stopReason\": \"maintenance window\"}'\n")
    model = ScriptedModel(["x"])
    with pytest.raises(HookBlocked, match="maintenance window"):
        turn([cmd("SessionStart", stop)], model, FakeMemory()).run(TurnRequest("summarize", "hi"))
    assert model.calls == []
