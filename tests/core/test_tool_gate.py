"""The permission check of a turn's tool calls (dos.core.turn.tool_gate) and its place in the tool loop: the rules of the
folder, the command line, the skill and the servers named; a person's answer through the Approver port; a PreToolUse
hook's permissionDecision; the decision in each tool_result event."""

from __future__ import annotations

import json

import pytest

from dos.core.domain import Chunk, Skill, TurnRequest, Usage
from dos.core.errors import UsageError
from dos.core.turn.hooks import NO_HOOKS
from dos.core.permissions import Permissions, Question, parse_rule
from dos.core.ports import ALWAYS, ONCE
from dos.core.turn.tool_gate import ToolGate, flag_rules
from dos.core.turn.tool_loop import ToolLoop
from dos.core.tools import (BUILTIN, ServerSpec, ServerTools, ToolCall, ToolResult, ToolSpec, allows,
                            tool_setting)



class Person:
    def __init__(self, *answers: str, unable: str | None = None):
        self.answers, self.asked, self.why = list(answers), [], unable

    def unable(self):
        return self.why

    def ask(self, question: Question) -> str:
        self.asked.append(question)
        return self.answers.pop(0)


class Folder:
    """A PermissionSource in memory."""

    def __init__(self, *allow: str):
        self.rules, self.kept = [parse_rule(r, "settings.json") for r in allow], []

    def folder(self):
        return "/work"

    def load(self):
        return Permissions(allow=tuple(self.rules)), []

    def saves_to(self):
        return "./.dos/settings.local.json"

    def remember(self, rules):
        self.kept += rules
        return f"saved {', '.join(rules)}"


BASH = {"command": "pytest -q"}


def gate(source=None, approver=None, request=TurnRequest("s", "hi"), skill=Skill("s", "d", "b", "", "user"),
         servers=None) -> ToolGate:
    return ToolGate.for_turn(source, approver, skill, request, servers or {}, lambda _: None)


def test_an_ask_goes_to_the_person_once_always_or_no():
    person, folder = Person(ONCE, "deny", ALWAYS), Folder()
    g = gate(folder, person)
    assert g.check("Bash", BASH).answer == ONCE
    no = g.check("Bash", BASH)
    assert not no.allowed and no.reason.endswith("you said no")
    always = g.check("Bash", BASH)
    assert always.allowed and always.saved == "saved Bash(pytest *)" and folder.kept == ["Bash(pytest *)"]
    assert g.check("Bash", {"command": "pytest tests"}).answer is None  # the rule kept answers from now on
    assert [q.call for q in person.asked] == ["Bash(pytest -q)"] * 3
    assert person.asked[0].rules == ("Bash(pytest *)",) and person.asked[0].where == "./.dos/settings.local.json"


def test_nobody_to_ask_refuses_with_the_flag_that_would_allow():
    d = gate(Folder(), Person(unable="the warm kernel cannot ask on your terminal (`--no-kernel` asks)")).check(
        "Bash", {"command": "git diff && pytest"})
    assert not d.allowed and d.verdict.behavior == "ask" and d.answer is None
    assert ("and the warm kernel cannot ask on your terminal (`--no-kernel` asks); to let it run: "
            "--allow 'Bash(git diff *)' --allow 'Bash(pytest *)'") in d.reason
    assert not gate().check("Bash", BASH).allowed  # no approver at all: nobody can be asked


def test_flags_files_skill_servers_and_hooks_combine():
    request = TurnRequest("s", "hi", allow=("Bash(pytest *)",), permission_mode="plan")
    assert not gate(request=request).check("Bash", BASH).allowed  # plan: nothing but reads, allow rule or not
    assert gate(Folder("Bash(pytest *)")).check("Bash", BASH).allowed
    assert gate(request=TurnRequest("s", "hi", allow=("Bash",))).check("Bash", BASH).allowed
    assert gate(servers={"time": "--tools"}).check("mcp__time__now", {}).allowed
    assert not gate(servers={"time": "--tools"}).check("mcp__git__log", {}).allowed
    skill = Skill("s", "d", "b", "/skills/s/SKILL.md", "user", {"allowed-tools": "Bash(pytest:*)"})
    assert gate(skill=skill).check("Bash", BASH).reason.endswith("(skill s (allowed-tools))")
    assert gate(skill=skill).check("Read", {"file_path": "/skills/s/reference.md"}).allowed  # its folder: readable
    allowed = gate(Folder("Bash"))
    assert allowed.check("Bash", BASH, hook="ask").answer is None  # a hook's ask, nobody to ask: refused
    assert not allowed.check("Bash", BASH, hook="ask").allowed
    assert gate().check("Bash", BASH, hook="allow").allowed  # a hook's allow answers an ask
    denied = ToolGate(Permissions(deny=(parse_rule("Bash"),)), "/work")
    assert not denied.check("Bash", BASH, hook="allow").allowed  # but never a deny rule


def test_flag_rules_check_the_command_line():
    rules, mode = flag_rules(["Bash(git diff:*)", "mcp__time"], "acceptEdits")
    assert [str(r) for r in rules] == ["Bash(git diff:*)", "mcp__time"] and mode == "acceptEdits"
    with pytest.raises(UsageError, match="unknown permission mode 'yolo'"):
        flag_rules([], "yolo")
    with pytest.raises(UsageError, match="unclosed"):
        flag_rules(["Bash(x"], None)


def test_allowed_tools_split_as_rules_and_name_their_tools():
    assert tool_setting("Read Bash(git diff:*) time") == ("Read", "Bash(git diff:*)", "time")
    assert allows(("Bash(git diff:*)",), "Bash") and allows(("Read",), "Read")
    assert not allows(("Bash(git diff:*)",), "Write")
    assert not allows(("Bash(python3 x__y.py)",), "x__y")  # a rule, not SERVER__TOOL


# ------------------------------------------------------------------------------------------------ the loop


class Host:
    """A built-in server and an MCP one."""

    def __init__(self):
        self.builtin = ServerSpec(BUILTIN, "builtin", "dos")
        self.time = ServerSpec("time", "stdio", "test", command="x")
        self.calls = []

    def servers(self):
        return [self.builtin, self.time]

    def list_tools(self, servers):
        tools = {BUILTIN: (ToolSpec(BUILTIN, "Bash"),), "time": (ToolSpec("time", "now"), ToolSpec("time", "convert"))}
        return [ServerTools(s, tools[s.name]) for s in servers]

    def call(self, server, tool, arguments):
        self.calls.append(tool)
        return ToolResult(text="ran", structured={"exit_code": 3, "output_bytes": 4, "timed_out": False})

    def close(self):
        pass


class Model:
    def __init__(self, *names):
        self.names = list(names)

    def stream(self, model, messages, *, max_tokens, temperature, **options):
        if self.names and options.get("tools"):
            name = self.names.pop(0)
            yield Chunk(tool_calls=(ToolCall("c", name, json.dumps(BASH if name == "Bash" else {})),))
            yield Chunk(finish_reason="tool_calls", usage=Usage(1, 1), cost=0.0)
            return
        yield Chunk(text="done", finish_reason="stop", usage=Usage(1, 1), cost=0.0)


class Memory:
    def __init__(self):
        self.events = []

    def append(self, event):
        self.events.append(event)
        return event


def loop_run(*names, tools=("time", BUILTIN), source=None, approver=None):
    host, memory, notes = Host(), Memory(), []
    request = TurnRequest("s", "hi", tools=tools)
    hooks = NO_HOOKS.session(session_id="S", turn_id="T", skill="s", pack=None, model="m")
    loop = ToolLoop(Model(*names), host, Skill("s", "d", "b", "", "user"), request, hooks, memory,
                    {"session_id": "S", "turn_id": "T", "skill": "s"}, notes.append, permissions=source,
                    approver=approver)
    assert loop.prepare()
    list(loop.stream("m", [{"role": "user", "content": "hi"}], max_tokens=None, temperature=None))
    return host.calls, [e.data for e in memory.events if e.kind == "tool_result"], notes


def test_mcp_tools_of_a_named_server_run_and_builtin_ones_need_a_rule():
    calls, results, notes = loop_run("time__now", "Bash")
    assert calls == ["now"]
    assert results[0]["permission"]["origin"] == "--tools" and results[0]["exit_code"] == 3
    assert results[1]["refused"] is True and any("no rule allows Bash(pytest -q)" in n for n in notes)
    calls, _, _ = loop_run("Bash", source=Folder("Bash(pytest *)"))
    assert calls == ["Bash"]
    calls, results, _ = loop_run("Bash", approver=Person(ONCE))
    assert calls == ["Bash"] and results[0]["permission"]["answer"] == "once"


def test_a_deny_rule_beats_naming_the_server():
    class Denying(Folder):
        def load(self):
            return Permissions(deny=(parse_rule("mcp__time__convert", "settings.json"),)), []

    calls, results, _ = loop_run("time__convert", "time__now", source=Denying())
    assert calls == ["now"]
    assert results[0]["permission"]["reason"] == "mcp__time__convert is denied by mcp__time__convert (settings.json)"
