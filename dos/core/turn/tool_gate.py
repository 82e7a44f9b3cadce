"""Whether one tool call of a turn runs: the permission rules in force (dos.core.permissions), and a person's answer
when a rule asks first.

The rules of one turn, deny first whatever their origin: the settings files (the `PermissionSource` port: the
user's `settings.json`, `./.claude/settings(.local).json`, `./.dos/settings(.local).json`), the command line's
`--allow RULE` and `--permission-mode MODE`, the active skill's `allowed-tools` (pre-approved, its folder readable),
and the MCP servers the turn starts by name (`--tools time`, the skill's `metadata.dos.tools` or `allowed-tools`,
its pack's servers): each such server's tools are allowed (`mcp__time`), since starting a server already runs its
code; deny and ask rules such as `mcp__time__convert_time` still apply to them. DOS's built-in tools (`Read`,
`Bash`...) get no such approval: naming `builtin` offers them, a rule or a person's yes lets each call run.

A PreToolUse hook's `permissionDecision` is one more voice: `deny` blocks (the hook's own refusal), `ask` turns an
allowed call into a question, `allow` answers a question yes; no hook undoes a deny rule.

A `Skill` call activating a skill of the catalog needs no rule (it reads that skill's SKILL.md), though a deny rule
`Skill(NAME)` refuses it; the skill's `allowed-tools` pre-approve from then on.

A call that asks goes to the `Approver` port: on a terminal a person answers allow once / always for this folder /
deny ("always" keeps `suggest_rules`' rules through `PermissionSource.remember`, in `./.dos/settings.local.json`,
as Claude Code keeps its own in `./.claude/settings.local.json`). When nobody can be asked (a pipe, a script,
`dos serve`, the warm kernel) the call is refused with one line naming the `--allow` rule that would let it run.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dos.core.domain import Skill, TurnRequest
from dos.core.errors import DosError, UsageError
from dos.core.permissions import (
    ALLOW,
    ASK,
    DENY,
    MCP_PREFIX,
    Permissions,
    Question,
    Rule,
    Verdict,
    describe_call,
    parse_mode,
    parse_rule,
    suggest_rules,
)
from dos.core.ports import ALWAYS, ONCE, Approver, PermissionSource
from dos.core.turn.disclosure import ACTIVATE

SAVE_HINT = "./.dos/settings.json"  # where a lasting allow rule goes, named in the refusal line


@dataclass(frozen=True)
class Decision:
    """What became of one call: it runs or not, the engine's verdict, one line why, and the person's answer."""

    allowed: bool
    verdict: Verdict
    reason: str
    answer: str | None = None  # once, always, deny; None when nobody was asked
    saved: str = ""  # "always": where the rules went

    def data(self) -> dict[str, Any]:
        """The decision as the memory log keeps it (in the call's `tool_result` event, under `permission`)."""
        rule = self.verdict.rule
        out: dict[str, Any] = {"decision": ALLOW if self.allowed else DENY, "verdict": self.verdict.behavior,
                               "reason": self.reason}
        if rule is not None:
            out |= {"rule": str(rule), "origin": rule.where}
        if self.answer is not None:
            out["answer"] = self.answer
        if self.saved:
            out["saved"] = self.saved
        return out


def flag_rules(allow: Iterable[str], mode: str | None) -> tuple[list[Rule], str | None]:
    """`--allow RULE...` and `--permission-mode MODE` checked: UsageError, one line, for a bad one."""
    return [parse_rule(text, "--allow") for text in allow], parse_mode(mode) if mode else None


def permission_name(qualified: str, builtin: bool) -> str:
    """A tool's name as the rules say it: a built-in tool's bare name, an MCP tool's `mcp__SERVER__TOOL`."""
    return qualified if builtin else MCP_PREFIX + qualified


class ToolGate:
    """The permission check of one turn's tool calls. `check` gives each call's Decision; an "always" answer adds
    its rules for the rest of the turn too."""

    def __init__(self, permissions: Permissions, cwd: str, approver: Approver | None = None,
                 source: PermissionSource | None = None):
        self.permissions, self.cwd, self.approver, self.source = permissions, cwd, approver, source

    @classmethod
    def for_turn(cls, source: PermissionSource | None, approver: Approver | None, skill: Skill,
                 request: TurnRequest, servers: dict[str, str], notify: Callable[[str], None],
                 cwd: str = "") -> ToolGate:
        """The rules of a turn (see the module docstring); `servers`: the MCP servers it started, each with the
        origin of its approval (`--tools`, `skill NAME`); `cwd`: the working folder (default: the source's). A
        settings file's problem is a line on `notify`."""
        permissions, problems = source.load() if source is not None else (Permissions(), [])
        permissions, more = permissions.with_skill(skill.name, skill.metadata.get("allowed-tools"),
                                                   posixpath.dirname(skill.path) if skill.path else "")
        rules, mode = flag_rules(request.allow, request.permission_mode)
        permissions = permissions.with_rules(ALLOW, rules + [Rule(MCP_PREFIX + name, None, origin)
                                                             for name, origin in servers.items()])
        if mode:
            try:
                permissions = permissions.with_mode(mode)
            except UsageError as exc:  # bypassPermissions turned off by a settings file
                more.append(f"--permission-mode: {exc.message}; the mode stays {permissions.mode}")
        for line in problems + more:
            notify(line)
        return cls(permissions, cwd or (source.folder() if source is not None else ""), approver, source)

    def check(self, tool: str, arguments: dict[str, Any], hook: str | None = None) -> Decision:
        """Whether `tool` (its rule name) may run with `arguments`; `hook`: a PreToolUse hook's permissionDecision."""
        verdict = self.permissions.decide(tool, arguments, self.cwd)
        if verdict.behavior == ALLOW and hook == ASK:
            verdict = Verdict(ASK, verdict.rule, f"{verdict.reason}, but a PreToolUse hook asks first")
        if verdict.behavior == ALLOW:
            return Decision(True, verdict, verdict.reason)
        if verdict.behavior == DENY:
            return Decision(False, verdict, verdict.reason)
        if hook == ALLOW:
            return Decision(True, verdict, f"{verdict.reason}; a PreToolUse hook allowed it")
        return self._ask(tool, arguments, verdict)

    def activation(self, name: str) -> Decision:
        """A `Skill` call activating a skill of the catalog: only reads that skill's SKILL.md, so it needs no rule;
        a deny rule such as `Skill(pdf)` still refuses it."""
        verdict = self.permissions.decide(ACTIVATE, {"skill": name}, self.cwd)
        if verdict.behavior == DENY:
            return Decision(False, verdict, verdict.reason)
        return Decision(True, Verdict(ALLOW, None, ""), f"activating skill {name} needs no permission")

    def activate(self, skill: Skill, notify: Callable[[str], None]) -> None:
        """The model activated `skill`: its `allowed-tools` pre-approve from now on, and its folder is readable."""
        self.permissions, problems = self.permissions.with_skill(
            skill.name, skill.metadata.get("allowed-tools"), posixpath.dirname(skill.path) if skill.path else "")
        for line in problems:
            notify(line)

    def _ask(self, tool: str, arguments: dict[str, Any], verdict: Verdict) -> Decision:
        rules = tuple(suggest_rules(tool, arguments, self.cwd))
        why_not = self.approver.unable() if self.approver is not None else "there is no terminal to ask"
        if why_not:
            allow = " ".join(f"--allow '{r}'" for r in rules)
            return Decision(False, verdict, f"{verdict.reason}, and {why_not}; to let it run: {allow} (or "
                                            f"permissions.allow in {SAVE_HINT})")
        where = self.source.saves_to() if self.source is not None else ""
        answer = self.approver.ask(Question(describe_call(tool, arguments, self.cwd), verdict.reason, rules, where))
        if answer == ONCE:
            return Decision(True, verdict, f"{verdict.reason}; you allowed it once", ONCE)
        if answer != ALWAYS:
            return Decision(False, verdict, f"{verdict.reason}; you said no", DENY)
        added = [parse_rule(r, "you, for this folder") for r in rules]
        self.permissions = self.permissions.with_rules(ALLOW, added)
        saved = ""
        if self.source is not None and rules:
            try:
                saved = self.source.remember(list(rules))
            except DosError as exc:  # the yes stands for this turn even if it cannot be kept
                saved = f"not kept: {exc.message}"
        return Decision(True, verdict, f"{verdict.reason}; you allowed {', '.join(rules)} for this folder", ALWAYS,
                        saved)
