"""The tool loop of one turn: offer the enabled servers' tools to the model, run the calls it makes (PreToolUse /
PostToolUse hooks around each, the permission check between the PreToolUse hook and the call), feed the results
back, and ask again, up to `MAX_TOOL_ROUNDS` rounds.

Which servers a turn gets: the command line's `--tools`, the skill's `metadata.dos.tools`, the MCP entries of its
`allowed-tools` (`mcp__time`, `time__get_*`, or a declared server's name), and the servers its pack declares; DOS's
built-in tools (`Read`, `Bash`...) only when the command line's `--tools` names `builtin`, never through a skill. A
skill with `allowed-tools` may call only the tools they name (`Bash(git diff *)` names Bash); any other call is
refused, and the refusal is on record. Each call that gets past that and the PreToolUse hooks is checked against
the permission rules (dos.core.turn.tool_gate): the MCP servers the turn started by name are allowed, built-in tools
need an allow rule or a person's yes. A denied, refused or failed call is an error result for the model, one line
on stderr, and the turn goes on.
A server that fails (start, time-out, crash) costs only its own tools: one line on stderr, an error result for the
model, and the turn goes on. Every call and result is a `tool_call` / `tool_result` event in memory; the result's
holds the permission decision (`permission`), and for a command its exit code and bytes of output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from dos.core.domain import Chunk, Event, Skill, TurnRequest, Usage, skill_pack
from dos.core.errors import DosError
from dos.core.turn.hooks import HookSession
from dos.core.permissions import Permissions
from dos.core.ports import Approver, MemoryLog, ModelStream, PermissionSource, ToolHost
from dos.core.redact import redact, redact_data
from dos.core.turn.disclosure import ACTIVATION_CHARS, Disclosure
from dos.core.tools import (
    BUILTIN,
    MAX_TOOL_ROUNDS,
    ServerSpec,
    ToolCall,
    ToolResult,
    ToolSpec,
    allows,
    forced,
    one_line,
    servers_named,
    tool_choice_for,
    tool_setting,
)
from dos.core.turn.tool_gate import ToolGate, permission_name

EVENT_TEXT_CHARS = 4_000  # of a tool result, in the memory log
RUN_FACTS = ("exit_code", "timed_out", "output_bytes")  # of a command or script (ToolResult.structured), recorded


def wanted_servers(skill: Skill, request: TurnRequest, declared: list[ServerSpec]) -> list[ServerSpec]:
    names = [s.name for s in declared if s.name != BUILTIN]  # a skill's entries never reach the built-in tools
    entries = list(request.tools) + list(tool_setting(skill.dos.get("tools")))
    entries += list(tool_setting(skill.metadata.get("allowed-tools")))
    chosen = servers_named(entries, names)
    pack = skill_pack(skill.source)
    chosen += [s.name for s in declared if pack and s.pack == pack and s.name not in chosen]
    chosen += [BUILTIN] if BUILTIN in request.tools else []
    return [replace(s, skill=skill.path) if s.name == BUILTIN else s for s in declared if s.name in chosen]


def tools_wanted(skill: Skill, request: TurnRequest) -> bool:
    """Whether the turn may have tools at all (else no MCP file is even read)."""
    return bool(request.tools or skill.dos.get("tools") or skill.metadata.get("allowed-tools")
                or skill_pack(skill.source))


class ToolLoop:
    """Tools for one turn. `prepare()` lists them (False: no tools, the turn streams as usual)."""

    def __init__(self, model_stream: ModelStream, host: ToolHost, skill: Skill, request: TurnRequest,
                 hooks: HookSession, memory: MemoryLog | None, common: dict[str, Any], notify: Callable[[str], None],
                 disclosure: Disclosure | None = None, permissions: PermissionSource | None = None,
                 approver: Approver | None = None):
        """`disclosure`: the skill catalog's turn, its `Skill` tool activates one (dos.core.turn.disclosure);
        `permissions`: the rules of the folder DOS runs in (None: only the turn's own: flags, skill, servers);
        `approver`: who answers a call that asks (None: nobody, so it is refused)."""
        self.model_stream, self.host, self.skill, self.request = model_stream, host, skill, request
        self.hooks, self.memory, self.common, self.notify = hooks, memory, common, notify
        self.disclosure = disclosure
        self.permissions, self.approver = permissions, approver
        self.servers: dict[str, ServerSpec] = {}
        self.tools: list[ToolSpec] = []
        self.allowed = tool_setting(skill.metadata.get("allowed-tools"))
        self.gate = ToolGate(Permissions(), "")  # the turn's own once prepare() found tools

    def prepare(self) -> bool:
        if tools_wanted(self.skill, self.request):  # else only the activation tool, and no MCP file is read
            self._list_servers()
        if self.disclosure is not None and self.disclosure.tool is not None:
            self.tools.append(self.disclosure.tool)
        if not self.tools:
            self.close()
            return False
        builtin = self.servers.get(BUILTIN)  # decided where its relative paths start, as the tools resolve them
        self.gate = ToolGate.for_turn(self.permissions, self.approver, self.skill, self.request,
                                      self._approved_servers(), self.notify, builtin.cwd if builtin else "")
        return True

    def _list_servers(self) -> None:
        try:
            declared = self.host.servers()
        except DosError as exc:  # a broken mcp.yaml: fatal only when the command line asked for tools
            if self.request.tools:
                raise
            self.notify(f"{exc.message}; no MCP tools this turn")
            return
        wanted = wanted_servers(self.skill, self.request, declared)
        missing = [e for e in self.request.tools if not servers_named([e], [s.name for s in wanted])]
        for entry in missing:
            self.notify(f"--tools: no MCP server named '{entry}' is declared (see `dos mcp list`)")
        for listed in self.host.list_tools(wanted) if wanted else []:
            if listed.error:
                self.notify(f"{listed.error}; the turn goes on without its tools")
                continue
            self.servers[listed.server.name] = listed.server
            self.tools += listed.tools

    def _approved_servers(self) -> dict[str, str]:
        """The MCP servers this turn started by name, each with who named it: their tools are allowed."""
        own = list(tool_setting(self.skill.dos.get("tools"))) + list(self.allowed)
        return {name: "--tools" if servers_named(self.request.tools, [name]) else
                f"skill {self.skill.name}" if servers_named(own, [name]) else f"pack {spec.pack}"
                for name, spec in self.servers.items() if name != BUILTIN}

    def close(self) -> None:
        self.host.close()

    # -- the rounds

    def stream(self, model: str, messages: list[dict[str, Any]], *,
               max_tokens: int | None, temperature: float | None) -> Iterator[Chunk]:
        """The model's chunks, round after round, with usage and cost summed over the rounds."""
        try:
            yield from self._rounds(model, messages, max_tokens=max_tokens, temperature=temperature)
        finally:
            self.close()

    def _rounds(self, model: str, messages: list[dict[str, Any]], *,
                max_tokens: int | None, temperature: float | None) -> Iterator[Chunk]:
        messages = list(messages)
        choice = tool_choice_for(self.request.tool_choice)
        spent, cost = Usage(), 0.0
        for round_no in range(MAX_TOOL_ROUNDS + 1):
            offer = round_no < MAX_TOOL_ROUNDS and not (round_no > 0 and forced(choice))
            options: dict[str, Any] = {"tools": [t.for_model() for t in self.tools]} if offer else {}
            if offer and choice is not None and round_no == 0:
                options["tool_choice"] = choice
            calls: list[ToolCall] = []
            text: list[str] = []
            round_usage, round_cost = Usage(), 0.0
            for chunk in self.model_stream.stream(model, messages, max_tokens=max_tokens, temperature=temperature,
                                                  **options):
                calls += list(chunk.tool_calls)
                text.append(chunk.text)
                if chunk.usage:
                    round_usage = chunk.usage
                if chunk.cost is not None:
                    round_cost = chunk.cost
                yield replace(chunk, tool_calls=(),
                              usage=_plus(spent, chunk.usage) if chunk.usage else None,
                              cost=cost + chunk.cost if chunk.cost is not None else None)
            spent, cost = _plus(spent, round_usage), cost + round_cost
            if not calls:
                return
            messages.append({"role": "assistant", "content": "".join(text) or None, "tool_calls": [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in calls]})
            for call in calls:
                messages.append({"role": "tool", "tool_call_id": call.id, "name": call.name,
                                 "content": self.run_call(call, model)})

    def run_call(self, call: ToolCall, model: str) -> str:
        """Run one call the model made (or refuse it); record both; the text the model gets back."""
        try:
            arguments: dict[str, Any] | None = call.parsed()
        except ValueError:
            arguments = None
        self._record("tool_call", "model", f"{call.name} {one_line(call.arguments, 500)}", model,
                     {"tool": call.name, "id": call.id, "arguments": redact_data(arguments) if arguments is not None
                      else redact(call.arguments)})
        tool = next((t for t in self.tools if t.qualified == call.name), None)
        if tool is None:
            return self._refuse(call, model, f"no tool named '{call.name}' was offered")
        activation = self.disclosure is not None and tool is self.disclosure.tool
        if self.allowed and not activation and not allows(self.allowed, call.name):
            return self._refuse(call, model, f"the skill's allowed-tools do not include {call.name}")
        if arguments is None:
            return self._finish(call, model, ToolResult(error=f"the arguments are not a JSON object: "
                                                              f"{one_line(call.arguments, 200)}"))
        decision = self.hooks.pre_tool(call.name, arguments, call.id)
        if decision.blocked:
            return self._refuse(call, model, f"a PreToolUse hook blocked it: {one_line(decision.reason) or 'no reason'}")
        if isinstance(decision.updated_input, dict):
            arguments = decision.updated_input
        if activation:
            verdict = self.gate.activation(str(arguments.get("skill") or arguments.get("name") or ""))
        else:
            verdict = self.gate.check(permission_name(call.name, tool.server == BUILTIN), arguments,
                                      decision.permission)
        if not verdict.allowed:
            return self._refuse(call, model, verdict.reason, verdict.data())
        extra: dict[str, Any] = {"permission": verdict.data()}
        if activation:
            result, activated = self._activate(arguments)
            extra |= activated
        else:
            result = self.host.call(self.servers[tool.server], tool.name, arguments)
        if result.error:
            self.notify(f"tool {call.name} failed: {result.error}; the turn goes on")
        after = self.hooks.post_tool(call.name, arguments, result.for_model(), call.id)
        text = self._finish(call, model, result, extra)
        context = after.additional_context
        return f"{text}\n\n{context}" if context else text

    def _activate(self, arguments: dict[str, Any]) -> tuple[ToolResult, dict[str, Any]]:
        """A `Skill` call: the skill's instructions and files for the model; from now on it is the active skill (its
        allowed-tools apply and pre-approve, RunScript runs its scripts)."""
        done = self.disclosure.activate(arguments)  # type: ignore[union-attr]
        if done.skill is None:
            return ToolResult(text=done.error or "no such skill", is_error=True), {}
        if not done.again:
            self.skill = done.skill
            self.allowed = tool_setting(done.skill.metadata.get("allowed-tools")) or self.allowed
            self.gate.activate(done.skill, self.notify)
            if (builtin := self.servers.get(BUILTIN)) is not None:  # RunScript: the new skill's scripts
                self.servers[BUILTIN] = spec = replace(builtin, skill=done.skill.path)
                mine = [t for listed in self.host.list_tools([spec]) for t in listed.tools]
                at = next(i for i, t in enumerate(self.tools) if t.server == BUILTIN)
                self.tools = [t for t in self.tools if t.server != BUILTIN or t is self.disclosure.tool]
                self.tools[at:at] = mine  # in their place: the offer changes only by RunScript
        return ToolResult(text=done.text, limit=ACTIVATION_CHARS), {"activated": done.skill.name, "skill_path": done.skill.path,
                                            "files": len(done.skill.files), "again": done.again}

    def _refuse(self, call: ToolCall, model: str, reason: str, permission: dict[str, Any] | None = None) -> str:
        self.notify(f"tool call refused: {reason}")
        self._record("tool_result", "dos", f"refused: {reason}", model,
                     {"tool": call.name, "id": call.id, "ok": False, "refused": True, "error": reason}
                     | ({"permission": permission} if permission else {}))
        return f"error: refused: {reason}"

    def _finish(self, call: ToolCall, model: str, result: ToolResult, extra: dict[str, Any] | None = None) -> str:
        """Record a result (with `extra`: the permission decision, an activation) and give the model its text."""
        shown = result.text if not result.error else result.error
        ran = result.structured if isinstance(result.structured, dict) else {}
        self._record("tool_result", "tool", redact(shown[:EVENT_TEXT_CHARS]), model,
                     {"tool": call.name, "id": call.id, "ok": result.ok, "is_error": result.is_error,
                      "error": result.error, "duration_s": result.duration_s, "bytes": len(shown.encode()),
                      "truncated": len(shown) > EVENT_TEXT_CHARS}
                     | {k: ran[k] for k in RUN_FACTS if k in ran} | (extra or {}))
        return result.for_model()

    def _record(self, kind: str, actor: str, text: str, model: str, data: dict[str, Any]) -> None:
        if self.memory is not None:
            self.memory.append(Event(kind=kind, actor=actor, text=text, data=data, **(self.common | {"model": model})))


def _plus(a: Usage, b: Usage | None) -> Usage:
    if b is None:
        return a
    return Usage(a.prompt_tokens + b.prompt_tokens, a.completion_tokens + b.completion_tokens)
