"""The turn use case: resolve the skill, record the prompt, stream the model, record the response."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dos.core.domain import Event, Skill, TurnRequest, TurnResult, Usage, skill_pack
from dos.core.errors import ModelError, UnknownSkill, UsageError
from dos.core.turn.hooks import NO_HOOKS, Conversation, Hooks
from dos.core.ids import new_id
from dos.core.ports import (Approver, Clock, MemoryLog, MemoryRecall, PermissionSource, SkillSource, ToolHost,
                            TurnJournal)
from dos.core.turn.recall import Recalled, recall
from dos.core.redact import redact
from dos.core.routing.policy import Routing
from dos.core.turn.disclosure import disclose

CHECKPOINT_S = 0.2  # how often a streaming answer is saved for crash recovery


def build_messages(skill: Skill, text: str, recalled: Recalled | None = None,
                   conversation: tuple[Mapping[str, Any], ...] = ()) -> list[dict[str, Any]]:
    """The skill's body (and recalled notes) is the system prompt; then the conversation so far; then the
    user's text, or the caller's whole conversation (its last user message carrying `text`)."""
    recalled = recalled or Recalled()
    system = "\n\n".join(part for part in (skill.body.strip(), recalled.note) if part)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    if not conversation:
        return messages + recalled.messages + [{"role": "user", "content": text}]
    given = [dict(m) for m in conversation]
    last = given[-1]
    if last.get("role") == "user" and isinstance(last.get("content"), str):
        last["content"] = text  # a UserPromptSubmit hook may have rewritten it
    return messages + recalled.messages + given


def prompt_of(words: Sequence[str], piped: str) -> str:
    """`dos run`'s prompt: its TEXT words, then what was piped on its stdin after a blank line."""
    text = " ".join(words)
    if piped.strip():
        text = f"{text}\n\n{piped}" if text else piped
    return text


def find_skill(skills: SkillSource, name: str, builtins: Sequence[Skill] = ()) -> Skill:
    """The skill called `name`: from `skills`, else one of `builtins` of that name (a skill on disk wins)."""
    try:
        return skills.get(name)
    except UnknownSkill:
        builtin = next((s for s in builtins if s.name == name), None)
        if builtin is None:
            raise
        return builtin


class TurnRunner:
    """Runs one turn. The prompt is on record before any model call; the response, whole or
    partial, is on record before this returns or raises."""

    def __init__(self, skills: SkillSource, routing: Routing, memory: MemoryLog | None, clock: Clock,
                 hooks: Hooks | None = None, tools: ToolHost | None = None, builtins: Sequence[Skill] = (),
                 conversation: Conversation | None = None, permissions: PermissionSource | None = None,
                 approver: Approver | None = None):
        self.skills = skills
        self.builtins = tuple(builtins)  # skills no folder holds (the chat's `chat`), used when none has the name
        self.routing = routing  # plans each turn's route and binds it to a model (dos.core.routing.policy)
        self.memory = memory
        self.clock = clock
        self.hooks = hooks or NO_HOOKS  # lifecycle hooks (dos.core.turn.hooks); none configured costs nothing
        self.tool_host = tools  # MCP tools (dos.core.turn.tool_loop), listed only when the turn enables some
        # A chat's turns: SessionStart and SessionEnd fire once for the conversation, not for each turn.
        self.conversation = conversation
        self.permissions = permissions  # the folder's permission rules (dos.core.turn.tool_gate), read in a turn with tools
        self.approver = approver  # who answers a tool call that asks first (None: nobody, it is refused)

    def run(
        self,
        request: TurnRequest,
        on_text: Callable[[str], None] = lambda _: None,
        on_context: Callable[[Recalled], None] = lambda _: None,
        skill: Skill | None = None,
    ) -> TurnResult:
        """`skill`: run under this skill instead of looking `request.skill` up (`dos serve`'s bare models)."""
        if not request.text.strip() and not request.conversation:
            raise UsageError("nothing to send: give the prompt as TEXT or on stdin")
        # here, not at the top: a command that runs no turn loads no tool or permission module (start-up)
        from dos.core.turn.tool_gate import flag_rules
        from dos.core.turn.tool_loop import ToolLoop, tools_wanted

        flag_rules(request.allow, request.permission_mode)  # a bad --allow / --permission-mode: before anything
        skill = skill or find_skill(self.skills, request.skill, self.builtins)
        routed = self.routing.plan(skill, request)  # NoRoute: before anything is written
        model = routed.model
        max_tokens = request.max_tokens or _int_or_none(skill.dos.get("max_tokens"))
        temperature = request.temperature if request.temperature is not None else _float_or_none(
            skill.dos.get("temperature")
        )
        turn_id = request.turn_id or new_id()
        session_id = request.session_id or turn_id
        memory = self.memory if request.log else None
        common = {"session_id": session_id, "turn_id": turn_id, "skill": skill.name, "model": model}
        routed.attach(session_id=session_id, turn_id=turn_id)  # its ledger entries name the turn
        hooks = self.hooks.session(**common, pack=skill_pack(skill.source), memory=memory,
                                   resume=bool(request.session_id), conversation=self.conversation)
        hooks.start()
        gate = hooks.submit(request.text)  # UserPromptSubmit hooks may block, rewrite or add context
        who = {"client": request.client} if request.client else {}
        if memory:
            scope = {"scope": request.scope} if request.scope else {}
            memory.append(Event(kind="prompt", actor="user", text=gate.text, data=scope | who | gate.data, **common))
        if gate.blocked:
            raise hooks.refuse(gate)  # HookBlocked: prompt and reason are on record, no model is called
        journal = memory if isinstance(memory, TurnJournal) else None
        if journal:  # in flight from now: a process that dies before any text still gets its turn closed
            journal.progress(Event(kind="response", actor="model", text="", **common))
        recalled = Recalled()
        if request.recall and request.recall_tokens > 0 and isinstance(self.memory, MemoryRecall):
            recalled = recall(self.memory, gate.text, session_id, turn_id, request.recall_tokens)
            on_context(recalled)

        own_tools = bool(request.options.get("tools"))  # the caller's own tools: it runs them, and gets no catalog
        disclosure = disclose(self.skills, skill, request, routed.decision.chain[0]) if (
            self.tool_host is not None and not own_tools) else None  # for a model that can call tools
        messages = hooks.pre_model(model, hooks.messages(build_messages(
            disclosure.prompt_skill() if disclosure else skill, gate.text, recalled, request.conversation)),
            max_tokens, temperature)  # PreModelCall hooks see the final messages; may block
        parts: list[str] = []
        calls: list[Any] = []  # tool calls the model asked the caller to run (the caller passed its tools)
        usage, cost, finish, served_by = Usage(), 0.0, "stop", model
        started = self.clock.monotonic()
        first_token: float | None = None
        saved_at: float | None = None
        try:
            loop = (ToolLoop(routed, self.tool_host, skill, request, hooks, memory, common, self.hooks.notify,
                             disclosure, self.permissions, self.approver)
                    if self.tool_host is not None and not own_tools
                    and (tools_wanted(skill, request) or disclosure and disclosure.tool) else None)
            stream = loop if loop and loop.prepare() else routed
            options = {} if stream is loop else dict(request.options)
            for chunk in stream.stream(
                model, messages, max_tokens=max_tokens, temperature=temperature, **options
            ):
                if chunk.text:
                    if first_token is None:
                        first_token = self.clock.monotonic() - started
                    parts.append(chunk.text)
                    if journal and (saved_at is None or self.clock.monotonic() - saved_at >= CHECKPOINT_S):
                        journal.progress(Event(kind="response", actor="model", text="".join(parts), **common))
                        saved_at = self.clock.monotonic()
                    on_text(chunk.text)
                calls += chunk.tool_calls
                usage = chunk.usage or usage
                cost = chunk.cost if chunk.cost is not None else cost
                finish = chunk.finish_reason or finish
                served_by = chunk.model or served_by
        except BaseException as exc:  # interrupted or failed: keep what arrived, then re-raise
            if memory:
                error = _describe(exc)
                memory.append(routed.event(error=error, **common))
                reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else "error"
                memory.append(
                    Event(
                        kind="response",
                        actor="model",
                        text="".join(parts),
                        data=_response_data(usage, cost, reason, self.clock.monotonic() - started, first_token)
                        | who | {"complete": False, "error": error},
                        **common,
                    )
                )
            if not isinstance(exc, KeyboardInterrupt):  # Ctrl-C ends the turn now, without more hooks
                hooks.failed(_describe(exc))
                hooks.end()
            raise
        duration = self.clock.monotonic() - started
        text = "".join(parts)
        if memory:
            memory.append(routed.event(**common))
            memory.append(
                Event(
                    kind="response",
                    actor="model",
                    text=text,
                    data=_response_data(usage, cost, finish, duration, first_token)
                    | who | {"complete": True, "served_by": served_by} | _calls_data(calls),
                    **common,
                )
            )
        hooks.stop(text, duration)
        hooks.end()
        return TurnResult(
            turn_id=turn_id,
            session_id=session_id,
            skill=skill.name,
            model=served_by,
            text=text,
            usage=usage,
            cost=cost,
            finish_reason=finish,
            duration_s=duration,
            first_token_s=first_token,
            tool_calls=tuple(calls),
        )


def _calls_data(calls: list[Any]) -> dict[str, Any]:
    """The tool calls a response asked the caller to run, as recorded (arguments redacted)."""
    if not calls:
        return {}
    return {"tool_calls": [{"id": c.id, "name": c.name, "arguments": redact(c.arguments)} for c in calls]}


def _response_data(usage: Usage, cost: float, finish: str, duration: float, first_token: float | None) -> dict:
    return {
        "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens},
        "cost": cost,
        "finish_reason": finish,
        "duration_s": round(duration, 4),
        "first_token_s": None if first_token is None else round(first_token, 4),
    }


def _describe(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, ModelError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def _int_or_none(value: object) -> int | None:
    return int(value) if isinstance(value, (int, str)) and str(value).isdigit() else None


def _float_or_none(value: object) -> float | None:
    try:
        return None if value is None else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
