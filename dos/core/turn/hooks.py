"""Hooks: the lifecycle layer around every turn, speaking Claude Code's hook protocol.

Pure rules only: the event payloads, which hook matches which event, how one hook's exit code and output are
read, and how the outcomes of the hooks of one event merge into one decision. Running hooks (subprocesses,
in-process functions) is the `HookRunner` port's job; reading configuration files is an adapter's.

The protocol is Claude Code's (hooks reference): a hook gets one JSON object (on stdin for a command hook)
with `session_id`, `transcript_path`, `cwd`, `permission_mode`, `hook_event_name` and the event's own fields;
exit 0 = go on (stdout JSON may steer; for UserPromptSubmit and SessionStart plain stdout is context), exit 2 =
block (stderr is the reason), any other exit = a non-blocking error. DOS adds `skill`, `pack`, `model` and
`turn_id` to every payload, the events `PreModelCall` and `Error`, and one output field:
`hookSpecificOutput.updatedPrompt` on UserPromptSubmit rewrites the prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dos.core.domain import Event
from dos.core.errors import HookBlocked
from dos.core.hook_records import HookOutcome, HookSpec
from dos.core.ports import BulkMemoryLog, HookRunner, MemoryLog
from dos.core.redact import redact

EVENTS = ("SessionStart", "UserPromptSubmit", "PreModelCall", "PreToolUse", "PostToolUse", "Stop", "SessionEnd",
          "Error")
# Claude Code events DOS accepts in configuration but never fires (there is no such moment in DOS).
FOREIGN_EVENTS = ("Notification", "SubagentStop", "PreCompact", "PermissionRequest", "PostToolUseFailure",
                  "SubagentStart", "StopFailure")
BLOCKING = frozenset({"UserPromptSubmit", "PreModelCall", "PreToolUse"})  # a block stops what comes next
PLAIN_CONTEXT = frozenset({"UserPromptSubmit", "SessionStart"})  # plain stdout on exit 0 is context
# The payload field each event's `matcher` is tried against (Claude Code: tools, SessionStart source, ...).
MATCH_FIELD = {"PreToolUse": "tool_name", "PostToolUse": "tool_name", "SessionStart": "source",
               "SessionEnd": "reason", "PreModelCall": "model", "Error": "error_type"}

MAX_CONTEXT_CHARS = 10_000  # per hook, as Claude Code caps injected context
EXCERPT_CHARS = 400  # how much of a hook's stdout/stderr goes into the memory log

_SIMPLE = re.compile(r"^[A-Za-z0-9_|]*$")


@dataclass
class HookDecision:
    """The merged decision of every hook of one event, in declared order."""

    event: str
    outcomes: list[HookOutcome] = field(default_factory=list)
    blocked: bool = False  # the thing the event guards must not happen (prompt, model call, tool call)
    reason: str = ""
    stop: bool = False  # `continue: false`: end the turn after this event
    stop_reason: str = ""
    context: list[str] = field(default_factory=list)
    prompt: str | None = None  # UserPromptSubmit: the rewritten prompt
    permission: str | None = None  # PreToolUse: allow, ask or deny
    updated_input: dict[str, Any] | None = None  # PreToolUse: replaces the tool's input
    feedback: list[str] = field(default_factory=list)  # PostToolUse / Stop block reasons for the model
    messages: list[str] = field(default_factory=list)  # systemMessage lines for the user
    warnings: list[str] = field(default_factory=list)  # one line each: a hook failed, timed out, ...

    @property
    def additional_context(self) -> str:
        return "\n\n".join(self.context)


# ---------------------------------------------------------------------------------------------- payloads


def build_event(event: str, *, session_id: str, cwd: str, turn_id: str = "", skill: str | None = None,
                pack: str | None = None, model: str | None = None, transcript_path: str = "",
                **fields: Any) -> dict[str, Any]:
    """The JSON object a hook receives: Claude Code's common fields, the event's own, and DOS's."""
    payload: dict[str, Any] = {
        "session_id": session_id,
        "transcript_path": transcript_path,
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": event,
    }
    payload.update(fields)
    payload.update({"skill": skill, "pack": pack, "model": model, "turn_id": turn_id})
    return payload


SAMPLE_FIELDS: dict[str, dict[str, Any]] = {
    "SessionStart": {"source": "startup"},
    "UserPromptSubmit": {"prompt": "Summarize this: DOS hooks run around every turn."},
    "PreModelCall": {"messages": [{"role": "system", "content": "Summarize the text."},
                                  {"role": "user", "content": "Summarize this: DOS hooks run around every turn."}],
                     "max_tokens": None, "temperature": None},
    "PreToolUse": {"tool_name": "Bash", "tool_input": {"command": "ls", "description": "List files"},
                   "tool_use_id": "toolu_sample"},
    "PostToolUse": {"tool_name": "Bash", "tool_input": {"command": "ls", "description": "List files"},
                    "tool_response": {"stdout": "README.md\n", "stderr": "", "interrupted": False},
                    "tool_use_id": "toolu_sample"},
    "Stop": {"stop_hook_active": False, "last_assistant_message": "DOS hooks run around every turn.",
             "duration_s": 1.0},
    "SessionEnd": {"reason": "other"},
    "Error": {"error_type": "model", "error": "the provider failed"},
}


def sample_event(event: str, cwd: str, **overrides: Any) -> dict[str, Any]:
    """A plausible payload for `dos hooks test EVENT`."""
    fields = dict(SAMPLE_FIELDS.get(event, {}))
    fields.update(overrides)
    base = {"session_id": "sample-session", "turn_id": "sample-turn", "skill": "summarize", "pack": None,
            "model": "local/smollm2"}
    for key in list(base):
        if key in fields:
            base[key] = fields.pop(key)
    return build_event(event, cwd=cwd, **base, **fields)


def event_json(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")


# ---------------------------------------------------------------------------------------------- matching


def matcher_problem(pattern: str) -> str | None:
    """Why a matcher or skill/pack pattern is not a usable regex (None when it is)."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"bad regex {pattern!r}: {exc}"
    return None


def matcher_hits(matcher: str, value: str | None) -> bool:
    """Claude Code's rule: empty or `*` matches everything; a plain name (letters, digits, _ and |) matches
    exactly one of its `|` alternatives; anything else is a regex searched in the value."""
    if matcher in ("", "*"):
        return True
    if value is None:
        return False
    if _SIMPLE.match(matcher):
        return value in matcher.split("|")
    try:
        return re.search(matcher, value) is not None
    except re.error:
        return False


def _regex_hits(pattern: str, value: str | None) -> bool:
    if not pattern:
        return True
    if not value:
        return False
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return False


def matches(spec: HookSpec, payload: dict[str, Any]) -> bool:
    """Does `spec` fire for this payload? Event, then matcher (on the event's field), then skill and pack."""
    event = payload.get("hook_event_name")
    if spec.event != event:
        return False
    target = MATCH_FIELD.get(str(event))
    if target and not matcher_hits(spec.matcher, _str(payload.get(target))):
        return False
    return _regex_hits(spec.skill, _str(payload.get("skill"))) and _regex_hits(spec.pack, _str(payload.get("pack")))


def select(specs: Iterable[HookSpec], payload: dict[str, Any]) -> list[HookSpec]:
    """The hooks that fire, in declared order, identical hooks once (as Claude Code deduplicates)."""
    out: list[HookSpec] = []
    seen: set[tuple[Any, ...]] = set()
    for spec in specs:
        key = (spec.kind, spec.target, spec.env, repr(spec.options))
        if key not in seen and matches(spec, payload):
            seen.add(key)
            out.append(spec)
    return out


# ---------------------------------------------------------------------------------------------- reading outcomes


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _clip(text: str, limit: int = MAX_CONTEXT_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n[... {len(text) - limit} more characters cut]"


def first_line(text: str, limit: int = 200) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def last_line(text: str, limit: int = 200) -> str:
    """The last non-empty line (a traceback's last line names the exception)."""
    return first_line("\n".join(reversed(text[-4000:].splitlines())), limit)


def describe(outcome: HookOutcome) -> str:
    """One line for stderr about a hook that did not go well."""
    spec = outcome.spec
    who = f"{spec.event} hook {short(spec.label)}"
    if outcome.timed_out:
        return f"{who} timed out after {spec.timeout:g} s and was stopped"
    if outcome.error:
        return f"{who} failed: {first_line(outcome.error)}"
    detail = last_line(outcome.stderr)
    return f"{who} failed (exit {outcome.exit_code}){': ' + detail if detail else ''}"


def short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def merge(event: str, outcomes: Sequence[HookOutcome], prompt: str | None = None) -> HookDecision:
    """Fold the outcomes (in declared order) into one decision. Any block wins and the reasons of all blocking
    hooks are kept; contexts concatenate in declared order; the first rewrite of the prompt (in declared order)
    wins, a different rewrite by a later hook is ignored with a warning; for tool permissions deny beats ask
    beats allow, and the first updatedInput wins."""
    d = HookDecision(event, list(outcomes))
    reasons: list[str] = []
    rank = {"allow": 1, "ask": 2, "deny": 3}
    for o in outcomes:
        who = short(o.spec.label)
        if o.timed_out or o.error or o.exit_code is None or o.exit_code not in (0, 2):
            d.warnings.append(describe(o))
            continue
        if o.exit_code == 2:  # blocking error: stderr is the reason; stdout is ignored
            reason = o.stderr.strip() or f"blocked by {who}"
            if event in BLOCKING:
                d.blocked = True
                reasons.append(reason)
            elif event in ("PostToolUse", "Stop"):
                d.feedback.append(reason)
            else:
                d.warnings.append(f"{event} hook {who}: {first_line(reason)}")
            continue
        if o.truncated:
            d.warnings.append(f"{event} hook {who} printed {o.output_bytes} bytes, more than DOS reads; "
                              "its output is ignored")
            continue
        out = o.output
        if out is None:
            if o.stdout.strip().startswith("{"):
                d.warnings.append(f"{event} hook {who} printed output that is not valid JSON; ignored")
            elif event in PLAIN_CONTEXT and o.plain:
                d.context.append(_clip(o.plain))
            continue
        hso = out.get("hookSpecificOutput")
        hso = hso if isinstance(hso, dict) else {}
        if isinstance(out.get("systemMessage"), str) and out["systemMessage"].strip():
            d.messages.append(out["systemMessage"].strip())
        if out.get("continue") is False:
            d.stop = True
            d.stop_reason = d.stop_reason or str(out.get("stopReason") or f"stopped by {who}")
            if event in BLOCKING:
                d.blocked = True
                reasons.append(str(out.get("stopReason") or out.get("reason") or f"stopped by {who}"))
            continue
        decision = out.get("decision")
        reason = str(out.get("reason") or "").strip()
        if decision == "block":
            if event in BLOCKING:
                d.blocked = True
                reasons.append(reason or f"blocked by {who}")
            elif event in ("PostToolUse", "Stop"):
                d.feedback.append(reason or f"blocked by {who}")
        context = hso.get("additionalContext")
        if isinstance(context, str) and context.strip():
            d.context.append(_clip(context.strip()))
        if event == "UserPromptSubmit":
            new = hso.get("updatedPrompt")
            if isinstance(new, str):
                if not new.strip():
                    d.warnings.append(f"{event} hook {who} rewrote the prompt to nothing; ignored")
                elif d.prompt is None:
                    d.prompt = new
                elif new != d.prompt:
                    d.warnings.append(f"{event} hook {who} rewrote the prompt too; an earlier hook's rewrite wins")
        if event == "PreToolUse":
            permission = hso.get("permissionDecision")
            if permission is None and decision in ("approve", "block"):  # the older top-level form
                permission = "allow" if decision == "approve" else "deny"
            if permission in rank:
                if d.permission is None or rank[permission] > rank[d.permission]:
                    d.permission = permission
                if permission == "deny":
                    d.blocked = True
                    reasons.append(str(hso.get("permissionDecisionReason") or reason or f"denied by {who}"))
            updated = hso.get("updatedInput")
            if isinstance(updated, dict) and d.updated_input is None:
                d.updated_input = updated
    d.reason = "; ".join(dict.fromkeys(r for r in reasons if r))
    if event == "UserPromptSubmit" and d.prompt is not None and d.prompt == prompt:
        d.prompt = None  # a "rewrite" to the same text is no rewrite
    return d


# ---------------------------------------------------------------------------------------------- the memory record


def record_data(outcome: HookOutcome, payload: dict[str, Any]) -> dict[str, Any]:
    """What the memory log keeps of one hook run: never the whole output."""
    out = outcome.output or {}
    data: dict[str, Any] = {
        "event": outcome.spec.event,
        "hook": outcome.spec.target,
        "type": outcome.spec.kind,
        "origin": outcome.spec.origin,
        "outcome": outcome.status,
        "exit_code": outcome.exit_code,
        "duration_s": round(outcome.duration_s, 4),
        "timed_out": outcome.timed_out,
        "output_bytes": outcome.output_bytes,
    }
    if outcome.truncated:
        data["truncated"] = True
    if outcome.error:
        data["error"] = first_line(outcome.error, EXCERPT_CHARS)
    if outcome.stderr.strip():
        data["stderr"] = outcome.stderr.strip()[:EXCERPT_CHARS]
    if outcome.stdout.strip() and not out.get("suppressOutput"):
        data["stdout"] = outcome.stdout.strip()[:EXCERPT_CHARS]
    if payload.get("tool_name"):
        data["tool_name"] = payload["tool_name"]
    return data


def record_text(outcome: HookOutcome) -> str:
    o = outcome
    code = "-" if o.exit_code is None else str(o.exit_code)
    return f"{o.spec.event}: {short(o.spec.label, 120)} -> {o.status} (exit {code}, {o.duration_s:.3f} s)"


# ---------------------------------------------------------------------------------------------- messages


def with_context(messages: list[dict[str, Any]], context: str) -> list[dict[str, Any]]:
    """The messages with hook context added to the system prompt (a system message is made if none)."""
    if not context:
        return messages
    if messages and messages[0].get("role") == "system":
        first = dict(messages[0])
        first["content"] = f"{first.get('content') or ''}\n\n{context}".strip()
        return [first, *messages[1:]]
    return [{"role": "system", "content": context}, *messages]


Notify = Callable[[str], None]


# ---------------------------------------------------------------------------------------------- the use case


@dataclass(frozen=True)
class PromptGate:
    """What UserPromptSubmit decided about a prompt: the text to send, or why it must not be sent."""

    text: str
    blocked: bool = False
    reason: str = ""
    rewritten: bool = False
    decision: HookDecision | None = None

    @property
    def data(self) -> dict[str, Any]:
        """What the prompt's memory event notes about hooks."""
        if self.blocked:
            return {"hooks": {"blocked": self.reason}}
        if self.rewritten:
            return {"hooks": {"rewritten": True}}
        return {}


class Hooks:
    """The configured hooks, fired through a `HookRunner`. Problems and failed hooks are reported through
    `notify` (one line each, never fatal); with no hooks configured every event costs a dictionary lookup."""

    def __init__(self, runner: HookRunner | None, notify: Notify = lambda _: None, cwd: str = ""):
        self.runner = runner
        self.notify = notify
        self.cwd = cwd
        self._specs: list[HookSpec] | None = None

    @property
    def specs(self) -> list[HookSpec]:
        if self._specs is None:
            if self.runner is None:
                self._specs = []
            else:
                self._specs = list(self.runner.hooks())
                for problem in self.runner.problems():
                    self.notify(problem)
        return self._specs

    def configured(self, event: str) -> bool:
        return any(s.event == event for s in self.specs)

    def run(self, payload: dict[str, Any]) -> HookDecision:
        """Run the hooks matching `payload` and merge their outcomes; report failures and system messages."""
        event = str(payload.get("hook_event_name"))
        if self.runner is None or not self.configured(event):
            return HookDecision(event)
        chosen = select(self.specs, payload)
        if not chosen:
            return HookDecision(event)
        outcomes = self.runner.run(chosen, payload)
        decision = merge(event, outcomes, _str(payload.get("prompt")))
        for line in decision.warnings:
            self.notify(redact(line))
        for line in decision.messages:
            self.notify(redact(f"{event} hook: {line}"))
        return decision

    def session(self, *, session_id: str, turn_id: str, skill: str | None, pack: str | None, model: str | None,
                memory: MemoryLog | None = None, resume: bool = False,
                conversation: Conversation | None = None) -> HookSession:
        """The hooks of one turn; within a `conversation` (a chat) it fires neither SessionStart nor SessionEnd."""
        return HookSession(self, session_id=session_id, turn_id=turn_id, skill=skill, pack=pack, model=model,
                           memory=memory, resume=resume, conversation=conversation)


NO_HOOKS = Hooks(None)


class HookSession:
    """The hooks of one session (one `dos run` turn, or one turn of a chat's `conversation`): fires each event
    with the session's fields, keeps the context hooks add, and records every hook run as a `hook` event in
    memory."""

    def __init__(self, hooks: Hooks, *, session_id: str, turn_id: str, skill: str | None, pack: str | None,
                 model: str | None, memory: MemoryLog | None, resume: bool, conversation: Conversation | None = None):
        self.hooks = hooks
        self.conversation = conversation
        self.memory = memory
        self.ids = {"session_id": session_id, "turn_id": turn_id, "skill": skill, "pack": pack, "model": model}
        self.resume = resume
        self.context: list[str] = []
        self.stopped = False  # a hook said `continue: false`
        self.stop_reason = ""
        self.ended = False

    def fire(self, event: str, **fields: Any) -> HookDecision:
        if self.hooks.runner is None or not self.hooks.configured(event):
            return HookDecision(event)
        ids = dict(self.ids)
        if "model" in fields:
            ids["model"] = fields.pop("model")
        payload = build_event(event, cwd=self.hooks.cwd, **ids, **fields)
        decision = self.hooks.run(payload)
        self._record(decision, payload)
        if decision.stop:
            self.stopped, self.stop_reason = True, self.stop_reason or decision.stop_reason
        return decision

    def _record(self, decision: HookDecision, payload: dict[str, Any]) -> None:
        if self.memory is None or not decision.outcomes:
            return
        common = {"session_id": self.ids["session_id"], "turn_id": self.ids["turn_id"], "skill": self.ids["skill"],
                  "model": payload.get("model")}
        events = [Event(kind="hook", actor="hook", text=record_text(o), data=record_data(o, payload), **common)
                  for o in decision.outcomes]
        if isinstance(self.memory, BulkMemoryLog):
            self.memory.append_many(events)
        else:
            for e in events:
                self.memory.append(e)

    # -- the turn's events, in order

    def start(self) -> HookDecision:
        """SessionStart; in a conversation, what its one SessionStart said instead (context, `continue: false`)."""
        if self.conversation is not None:
            self.context += self.conversation.context
            if self.conversation.stopped:
                self.stopped, self.stop_reason = True, self.conversation.stop_reason
            return HookDecision("SessionStart")
        d = self.fire("SessionStart", source="resume" if self.resume else "startup")
        self.context += d.context
        return d

    def submit(self, prompt: str) -> PromptGate:
        if self.stopped:  # a SessionStart hook said `continue: false`
            return PromptGate(prompt, True, self.stop_reason or "stopped by a SessionStart hook")
        d = self.fire("UserPromptSubmit", prompt=prompt)
        if d.blocked or self.stopped:
            reason = d.reason or self.stop_reason or "blocked by a hook"
            return PromptGate(prompt, True, reason, decision=d)
        self.context += d.context
        if d.prompt is not None:
            return PromptGate(d.prompt, rewritten=True, decision=d)
        return PromptGate(prompt, decision=d)

    def refuse(self, gate: PromptGate | HookDecision, event: str = "UserPromptSubmit") -> HookBlocked:
        """The error to raise for a blocked prompt or model call; the session ends first."""
        self.end()
        reason = " / ".join(ln.strip() for ln in gate.reason.splitlines() if ln.strip()) or "no reason given"
        return HookBlocked(redact(f"a {event} hook blocked this turn: {reason}"))

    def messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """`messages` with the context SessionStart and UserPromptSubmit hooks added, in the system prompt."""
        return with_context(messages, "\n\n".join(self.context))

    def pre_model(self, model: str, messages: list[dict[str, Any]], max_tokens: int | None = None,
                  temperature: float | None = None) -> list[dict[str, Any]]:
        """Fire PreModelCall with the final messages; raises HookBlocked if a hook blocks the call. Context a
        PreModelCall hook adds goes into the system prompt."""
        d = self.fire("PreModelCall", model=model, messages=messages, max_tokens=max_tokens,
                      temperature=temperature)
        if d.blocked:
            raise self.refuse(PromptGate("", True, d.reason), "PreModelCall")
        return with_context(messages, d.additional_context)

    def pre_tool(self, tool_name: str, tool_input: dict[str, Any], tool_use_id: str = "") -> HookDecision:
        """PreToolUse: blocked/permission/updated_input/context say whether and how the tool may run."""
        return self.fire("PreToolUse", tool_name=tool_name, tool_input=tool_input, tool_use_id=tool_use_id)

    def post_tool(self, tool_name: str, tool_input: dict[str, Any], tool_response: Any,
                  tool_use_id: str = "") -> HookDecision:
        """PostToolUse: feedback and context go back to the model."""
        return self.fire("PostToolUse", tool_name=tool_name, tool_input=tool_input, tool_response=tool_response,
                         tool_use_id=tool_use_id)

    def stop(self, text: str, duration_s: float) -> HookDecision:
        """Stop, after the response is on record. A block here (keep going) has no next turn in `dos run`."""
        d = self.fire("Stop", stop_hook_active=False, last_assistant_message=text, duration_s=round(duration_s, 3))
        for reason in d.feedback:
            self.hooks.notify(redact(f"Stop hook asked to continue ({first_line(reason)}); `dos run` is one turn"))
        return d

    def failed(self, error: str, error_type: str = "model") -> None:
        """Error: a provider or tool failed. Never raises."""
        try:
            self.fire("Error", error_type=error_type, error=error)
        except Exception as exc:  # noqa: BLE001 - the original error matters more
            self.hooks.notify(f"Error hooks failed: {type(exc).__name__}: {exc}")

    def end(self, reason: str = "other") -> None:
        """SessionEnd, once; in a conversation, none (the conversation ends it when it closes)."""
        if self.ended:
            return
        self.ended = True
        if self.conversation is not None:
            return
        try:
            self.fire("SessionEnd", reason=reason)
        except Exception as exc:  # noqa: BLE001
            self.hooks.notify(f"SessionEnd hooks failed: {type(exc).__name__}: {exc}")


class Conversation:
    """A session of many turns (a chat) as hooks see it: SessionStart fires once when it opens (source `startup`,
    `resume` or `clear`) and SessionEnd once when it closes, not once per turn as for `dos run`. Each turn's
    HookSession starts with the context SessionStart added (and stops its turn if a SessionStart hook said
    `continue: false`). A chat turn run elsewhere (in the warm kernel) carries `context`, `stopped` and
    `stop_reason` along, and leaves opening and closing to the chat."""

    def __init__(self, context: Sequence[str] = (), stopped: bool = False, stop_reason: str = ""):
        self.context = list(context)
        self.stopped = stopped
        self.stop_reason = stop_reason
        self._open: HookSession | None = None  # fired SessionStart; fires SessionEnd when the conversation closes

    def open(self, hooks: Hooks, *, session_id: str, skill: str | None, pack: str | None, model: str | None,
             memory: MemoryLog | None, source: str) -> None:
        """SessionStart, once for this session (the one open before is closed first)."""
        self.close()
        hs = hooks.session(session_id=session_id, turn_id="", skill=skill, pack=pack, model=model, memory=memory,
                           resume=source == "resume")
        decision = hs.fire("SessionStart", source=source)
        self.context = list(decision.context)
        self.stopped, self.stop_reason = hs.stopped, hs.stop_reason
        self._open = hs

    def close(self, reason: str = "other") -> None:
        """SessionEnd for the open session (once; nothing when none is open)."""
        hs, self._open = self._open, None
        if hs is not None:
            hs.end(reason)
