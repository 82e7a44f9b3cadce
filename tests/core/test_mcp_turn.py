"""The tool loop in a turn, on fakes: calls run and their results go back to the model with the usage summed, tools
stop being offered after the round limit, allowed-tools refuses what it does not list. (A full `dos run --tools time`
on the embedded model: tests/cli/test_mcp_turn.py.)"""

from __future__ import annotations

from dos.core.domain import Chunk, Skill, TurnRequest, Usage
from dos.core.turn.tool_loop import ToolLoop
from dos.core.turn.hooks import NO_HOOKS
from dos.core.tools import ServerSpec, ServerTools, ToolCall, ToolResult, ToolSpec


class FakeHost:
    def __init__(self):
        self.spec = ServerSpec("time", "stdio", "test", command="x")
        self.calls = []

    def servers(self):
        return [self.spec]

    def list_tools(self, servers):
        return [ServerTools(self.spec, (ToolSpec("time", "now"), ToolSpec("time", "convert")))]

    def call(self, server, tool, arguments):
        self.calls.append((tool, arguments))
        return ToolResult(text="12:00")

    def close(self):
        pass


class ToolCallingModel:
    """Asks for the tools in `script`, one round each, then answers."""

    def __init__(self, script):
        self.script, self.seen = list(script), []

    def stream(self, model, messages, *, max_tokens, temperature, **options):
        self.seen.append((messages, options))
        if self.script and options.get("tools"):
            name = self.script.pop(0)
            yield Chunk(tool_calls=(ToolCall(f"c{len(self.seen)}", name, '{"tz": "UTC"}'),))
            yield Chunk(finish_reason="tool_calls", usage=Usage(10, 2), cost=0.0)
            return
        yield Chunk(text="done")
        yield Chunk(finish_reason="stop", usage=Usage(5, 1), cost=0.0)


class ListMemory:
    def __init__(self):
        self.events = []

    def append(self, event):
        self.events.append(event)
        return event


def run_loop(script, skill_meta=None, request_tools=("time",)):
    host, model, memory, notes = FakeHost(), ToolCallingModel(script), ListMemory(), []
    skill = Skill("s", "d", "body", "/s/SKILL.md", "user", skill_meta or {})
    request = TurnRequest("s", "hi", tools=request_tools)
    hooks = NO_HOOKS.session(session_id="S", turn_id="T", skill="s", pack=None, model="m")
    loop = ToolLoop(model, host, skill, request, hooks, memory, {"session_id": "S", "turn_id": "T", "skill": "s"},
                    notes.append)
    assert loop.prepare()
    chunks = list(loop.stream("m", [{"role": "user", "content": "hi"}], max_tokens=None, temperature=None))
    return host, model, memory, notes, chunks


def test_loop_runs_calls_feeds_results_back_and_sums_usage():
    host, model, memory, _, chunks = run_loop(["time__now", "time__convert"])
    assert host.calls == [("now", {"tz": "UTC"}), ("convert", {"tz": "UTC"})]
    assert "".join(c.text for c in chunks) == "done"
    last_usage = [c.usage for c in chunks if c.usage][-1]
    assert last_usage == Usage(25, 5)
    messages, _ = model.seen[-1]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant", "tool"]
    assert messages[2]["content"] == "12:00"
    assert [e.kind for e in memory.events] == ["tool_call", "tool_result"] * 2


def test_loop_stops_offering_tools_after_the_round_limit():
    host, model, _, _, _ = run_loop(["time__now"] * 10)
    assert len(host.calls) == 5 and "tools" not in model.seen[-1][1]


def test_allowed_tools_refuse_and_record_the_rest():
    host, _, memory, notes, _ = run_loop(["time__convert"], {"allowed-tools": "time__now"})
    assert host.calls == []
    refused = [e for e in memory.events if e.kind == "tool_result"][0]
    assert refused.data["refused"] is True and "allowed-tools" in refused.data["error"]
    assert any("refused" in n for n in notes)
