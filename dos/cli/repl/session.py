"""One chat session of many turns: which skill and model are active, what the turns cost, what was said.

Shared by the terminal REPL and the piped mode. It reaches the world only through `dos.bootstrap` (the Dos
object) and, when the kernel is on, the warm kernel (dos.cli.repl.kernel), which then runs the turns; no UI here
beyond the callbacks it is given.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dos.bootstrap import Dos, build
from dos.context import scope as conversation_scope
from dos.core.domain import Skill, TurnRequest, TurnResult
from dos.core.errors import UnknownSkill
from dos.core.turn.hooks import Conversation
from dos.core.ids import new_id
from dos.core.routing.policy import RouteDecision, explain_turn
from dos.core.turn.disclosure import ASSISTANT as CHAT_SKILL  # the plain assistant: a chat's default skill

from dos.cli.repl.kernel import KernelGone, KernelTurns


@dataclass
class Options:
    """What `dos chat` was started with."""

    skill: str | None = None
    model: str | None = None
    prefer: str | None = None
    sovereignty: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    recall: bool = True
    log: bool = True
    resume: bool = False  # -c: the last session of this terminal or folder
    session: str | None = None  # --session NAME
    kernel: bool = False  # run the turns in the warm kernel
    allow: tuple[str, ...] = ()  # --allow RULE: tool calls that run without asking (a chat never prompts)
    permission_mode: str | None = None  # --permission-mode


@dataclass
class Said:
    """One entry of the transcript."""

    role: str  # "user" or "assistant"
    text: str
    skill: str = ""
    model: str = ""
    partial: bool = False


@dataclass
class Totals:
    turns: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    by_model: dict[str, list[float]] = field(default_factory=dict)  # model -> [turns, tokens, cost]

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, result: TurnResult) -> None:
        self.turns += 1
        self.prompt_tokens += result.usage.prompt_tokens
        self.completion_tokens += result.usage.completion_tokens
        self.cost += result.cost or 0.0
        row = self.by_model.setdefault(result.model, [0, 0, 0.0])
        row[0] += 1
        row[1] += result.usage.total_tokens
        row[2] += result.cost or 0.0


class WarmUp:
    """LiteLLM imported and the embedded model loaded (or the kernel started) in a background thread, started
    with the REPL, so the first turn finds them ready. A failure here is left for the turn itself to report."""

    def __init__(self, target: Callable[[], None] | None = None):
        self._target = target
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> WarmUp:
        if self.thread is None:
            from dos.bootstrap import warm_up

            self.thread = threading.Thread(target=self._run, args=(self._target or warm_up,), name="dos-warm-up",
                                           daemon=True)
            self.thread.start()
        return self

    def _run(self, target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - the turn reports model problems itself
            self.error = exc

    def wait(self) -> None:
        """Until the warm-up is done; short joins so Ctrl-C still lands."""
        while self.thread is not None and self.thread.is_alive():
            self.thread.join(0.05)

    @property
    def done(self) -> bool:
        return self.thread is not None and not self.thread.is_alive()


class ChatSession:
    """State of one `dos chat`: the Dos object (rebuilt when skills, packs or hooks change), the session id,
    the active skill, pack and model, the totals and the transcript."""

    def __init__(self, options: Options, notice: Callable[[str], None] = lambda _: None,
                 dos: Dos | None = None):
        self.options = options
        self.notice = notice
        self.dos = dos or build()
        self.scope = conversation_scope()
        self.skill = options.skill or CHAT_SKILL
        self.pack: str | None = None
        self.model = options.model
        self.totals = Totals()
        self.transcript: list[Said] = []
        self.last_model: str | None = None  # the model that served the last turn
        self.kernel: KernelTurns | None = None  # while turns go to the kernel
        if options.kernel:
            self.kernel = KernelTurns(self.dos.paths.state)
        self._unsaid = ""  # why turns left the kernel, for the next turn to say
        self.warm = WarmUp(self._warm_up)
        self._runner: Any = None
        self.conversation = Conversation()  # SessionStart/SessionEnd once per chat session, not per turn
        self._stale: list[str] = []  # what changed on disk since the Dos object was built
        self._lock = threading.Lock()
        self.session_id, resumed = self._pick_session()
        self.resumed = resumed
        self.started = False

    # -- the session

    def _pick_session(self) -> tuple[str, bool]:
        if self.options.session:
            return self.options.session, True
        if self.options.resume:
            last = self.dos.memory.last_session(self.scope) if self.dos.paths.memory_db.exists() else None
            if last:
                return last, True
            self.notice("no earlier conversation here: starting a new one")
        return new_id(), False

    def start(self) -> None:
        """SessionStart hooks, once for this session."""
        self.started = True
        self._open("resume" if self.resumed else "startup")

    def end(self, reason: str = "other") -> None:
        """SessionEnd hooks (once); safe to call more than once."""
        self.conversation.close(reason)

    def clear(self) -> str:
        """A new session: SessionEnd for this one, SessionStart (source `clear`) for the next."""
        self.end("clear")
        self.session_id, self.resumed = new_id(), False
        self.transcript.clear()
        self.totals = Totals()
        self._open("clear")
        return self.session_id

    def _open(self, source: str) -> None:
        self.conversation.open(self.dos.hooks, session_id=self.session_id, skill=self.skill, pack=self.pack,
                               model=self.model, memory=self.dos.memory if self.options.log else None,
                               source=source)

    # -- skills and models

    def resolve(self, name: str) -> str:
        """A skill name as the active pack sees it: `PACK:NAME` first, then NAME. UnknownSkill if neither."""
        if self.pack and ":" not in name:
            try:
                self.dos.skills.find(f"{self.pack}:{name}")
                return f"{self.pack}:{name}"
            except UnknownSkill:
                pass
        if name == CHAT_SKILL:
            return name
        self.dos.skills.find(name)
        return name

    def skill_object(self, name: str | None = None) -> Skill:
        return self.dos.chat_skill(name or self.skill)

    def route(self, name: str | None = None) -> tuple[Skill, RouteDecision]:
        """The route the next turn would take, budgets included, as `dos route explain` gives it (no model call).
        BudgetExceeded if budgets leave no model. Call it on the main thread: the budgets read the ledger through
        the memory database's connection."""
        skill = self.skill_object(name)
        request = TurnRequest(skill=skill.name, text="", model=self.model, max_tokens=self.options.max_tokens,
                              recall=self.options.recall)
        decision, _ = explain_turn(skill, self.dos.catalog, request, self.command_line(), self.dos.route_budgets)
        return skill, decision

    def command_line(self) -> dict[str, Any]:
        return {"model": self.model, "prefer": self.options.prefer, "sovereignty": self.options.sovereignty}

    def sovereignty_of(self, model: str) -> str | None:
        try:
            entries = self.dos.catalog.entries()
        except Exception:  # noqa: BLE001 - a toolbar never fails
            return None
        return next((e.sovereignty for e in entries if e.name == model), None)

    def _warm_up(self) -> None:
        """The kernel started (or found running); without it, `warm_up()` here: LiteLLM imported, the embedded
        model loaded and primed with one token through the router (its first call does a lazy set-up: 2.5 s of
        the first turn, measured; docs/benchmarks.md)."""
        from dos.bootstrap import warm_up

        if self.kernel is not None:
            if self.kernel.start():
                return
            self._unsaid = f"{self.kernel.problem}; running in this process"
            self.kernel = None
        warm_up()

    # -- reload

    def changed(self, what: str) -> None:
        """A skill, pack or hooks file changed on disk (from the watcher's thread)."""
        with self._lock:
            if what not in self._stale:
                self._stale.append(what)

    def reload_if_stale(self) -> list[str]:
        """Rebuild the Dos object if something changed; returns what changed (for a one-line notice)."""
        with self._lock:
            stale, self._stale = self._stale, []
        if stale:
            self.dos = self.dos.reloaded()
            self._runner = None
        return stale

    # -- a turn

    def runner(self) -> Any:
        if self._runner is None:
            self._runner = self.dos.chat_runner(self.conversation, self.options.prefer, self.options.sovereignty)
        return self._runner

    def turn(self, text: str, skill: str | None = None, on_text: Callable[[str], None] = lambda _: None) -> TurnResult:
        """One turn of this session. The prompt is on record before the model is called; on Ctrl-C the
        partial answer is on record (TurnRunner does both) and KeyboardInterrupt propagates."""
        if not self.started:
            self.start()
        name = skill or self.skill
        request = dict(skill=name, text=text, model=self.model, max_tokens=self.options.max_tokens,
                       temperature=self.options.temperature, log=self.options.log, session_id=self.session_id,
                       recall=self.options.recall, scope=self.scope, turn_id=new_id(), skill_catalog=True,
                       allow=self.options.allow, permission_mode=self.options.permission_mode)
        self.warm.wait()
        if self._unsaid:
            self.notice(self._unsaid)
            self._unsaid = ""
        self.transcript.append(Said("user", text, name))
        parts: list[str] = []

        def collect(piece: str) -> None:
            parts.append(piece)
            on_text(piece)

        def again() -> None:  # the kernel died mid-answer: the answer starts over, in this process
            if parts:
                parts.clear()
                on_text("\n\n")

        try:
            result = self._run(request, collect, again)
        except BaseException:
            if parts:
                self.transcript.append(Said("assistant", "".join(parts), name, self.model or "", partial=True))
            raise
        self.totals.add(result)
        self.last_model = result.model
        self.transcript.append(Said("assistant", result.text, result.skill, result.model))
        return result

    def _run(self, request: dict[str, Any], on_text: Callable[[str], None], again: Callable[[], None]) -> TurnResult:
        """The turn in the kernel if it is on; else, or if the kernel is lost, in this process."""
        if self.kernel is not None:
            said = self.conversation
            payload = {"request": request, "prefer": self.options.prefer, "sovereignty": self.options.sovereignty,
                       "context": said.context, "stopped": said.stopped, "stop_reason": said.stop_reason}
            try:
                return self.kernel.turn(payload, self.scope, on_text)
            except KernelGone as gone:
                self.notice(f"{gone}; running in this process")
                self.kernel = None
                again()
                self.warm = WarmUp(self._warm_up).start()
                self.warm.wait()
        return self.runner().run(TurnRequest(**request), on_text=on_text)

    @property
    def last_answer(self) -> str | None:
        return next((s.text for s in reversed(self.transcript) if s.role == "assistant"), None)
