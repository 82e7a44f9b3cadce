"""Tool permissions in a turn (issue 20, Build 3): each call the model makes is checked against the rules between
the PreToolUse hook and the call; a call nobody allowed is refused (reported to the model, one line on stderr, the
turn goes on); `--allow`, the skill's `allowed-tools` and a person's yes on a terminal let calls run; every decision
is in the memory log.

End to end with a scripted model: an OpenAI-compatible server on 127.0.0.1 (tests/fake_provider.py) replays fixed
tool calls, since no real model that calls tools reliably can be had on this machine (no network, no key, and the
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
from dos.adapters.project.trust import ProjectTrust, declaring
from dos.core.domain import Chunk, Skill, TurnRequest, Usage
from dos.core.errors import UsageError
from dos.core.hooks import NO_HOOKS
from dos.core.permissions import Permissions, Question, parse_rule
from dos.core.tool_gate import ALWAYS, ONCE, ToolGate, flag_rules
from dos.core.tool_loop import ToolLoop
from dos.core.tools import BUILTIN, ServerSpec, ServerTools, ToolCall, ToolResult, ToolSpec, allows, tool_setting
from tests.conftest import clean_env
from tests.fake_provider import FakeProvider
from tests.test_builtin_tools_turn import models_yaml
from tests.test_routing_router import events, write_models_yaml

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes and terminals")

EXTRACT = "import sys; print('fields of', sys.argv[1])\n"
COMMAND = "python3 extract.py form.txt"


# ------------------------------------------------------------------------------------------------ end to end


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


# ------------------------------------------------------------------------------------------------ the gate


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
                    {"session_id": "S", "turn_id": "T", "skill": "s"}, notes.append, source, approver)
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


# ------------------------------------------------------------------------------------------------ files and trust


def test_always_keeps_the_rules_and_a_trusted_file_stays_trusted(tmp_path):
    config, project = tmp_path / "config", tmp_path / "project"
    project.mkdir()
    trust = ProjectTrust(config)
    source = PermissionConfig(config, project, trust)
    assert source.saves_to() == "./.dos/settings.local.json"
    assert source.remember(["Bash(pytest *)"]) == "saved Bash(pytest *) to ./.dos/settings.local.json"
    assert source.remember(["Bash(pytest *)", "Read(./docs/**)"]).startswith("saved")
    local = project / ".dos" / "settings.local.json"
    assert json.loads(local.read_text()) == {"permissions": {"allow": ["Bash(pytest *)", "Read(./docs/**)"]}}
    permissions, problems = source.load()
    assert problems == [] and len(permissions.allow) == 2

    # a file planted untrusted stays untrusted: the rule is written, its allow rules unused until `dos trust`
    planted = tmp_path / "cloned"
    (planted / ".dos").mkdir(parents=True)
    (planted / ".dos" / "settings.local.json").write_text('{"permissions": {"allow": ["Bash"], "deny": ["Read"]}}')
    source = PermissionConfig(config, planted, trust)
    assert "not trusted" in source.remember(["Bash(pytest *)"])
    permissions, problems = source.load()
    assert permissions.allow == () and [str(r) for r in permissions.deny] == ["Read"] and "not trusted" in problems[0]


def test_dos_trust_covers_files_that_only_grant_permissions(tmp_path):
    config, project = tmp_path / "config", tmp_path / "project"
    (project / ".dos").mkdir(parents=True)
    (project / ".claude").mkdir()
    (project / ".dos" / "settings.json").write_text('{"permissions": {"allow": ["Bash(make *)"]}}')
    (project / ".claude" / "settings.json").write_text('{"permissions": {"deny": ["Read(./.env)"]}}')
    (project / ".claude" / "settings.local.json").write_text('{"permissions": {"defaultMode": "acceptEdits"}}')
    found = {d.rel: d.what for d in declaring(project)}
    assert found == {".dos/settings.json": "permissions", ".claude/settings.local.json": "permissions"}  # deny: none
    trust = ProjectTrust(config)
    assert trust.notice(project) is None  # said by the permissions config, in a turn with tools
    reviewed = trust.review(project)
    assert [lines for _, lines, _ in reviewed] == [["defaultMode acceptEdits"], ["allow Bash(make *)"]]
    before, _ = PermissionConfig(config, project, trust).load()
    trust.trust(project, [d for d, _, _ in reviewed])
    after, problems = PermissionConfig(config, project, trust).load()
    assert (before.allow, before.mode) == ((), "default")
    assert [str(r) for r in after.allow] == ["Bash(make *)"] and after.mode == "acceptEdits" and problems == []


def test_the_terminal_prompt_asks_only_on_a_terminal_of_its_own(monkeypatch):
    import contextvars
    import io

    from dos.cli.approve import TerminalApprover
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
