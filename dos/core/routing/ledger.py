"""The credit ledger's rules, pure: exact amounts, worst-case bounds, which budget binds, and the guard a
routed call runs under (check before, hold the worst case, cut a stream the provider counts over it, settle after,
never above the hold).

Amounts are integers of micro-credits (1 credit = 1,000,000 µ). A credit is one US dollar of provider cost (the
catalog's prices are USD per million tokens), so a price in $/M tokens times a token count is micro-credits,
exactly. Balances and spend are sums of ledger entries, computed by the adapter; nothing here stores a counter.

Token counts for a hold are never guessed low: the model's own tokenizer where there is one (a `TokenCounter`,
see dos/adapters/models/litellm_tokens.py), else the text's UTF-8 bytes, which no tokenizer in use exceeds (a token is at
least one byte), plus a generous allowance for each message's framing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from dos.core.domain import skill_pack
from dos.core.errors import BudgetCut, BudgetExceeded, InvalidConfig, UsageError

if TYPE_CHECKING:
    from dos.core.ports import CreditBook, Ledger
    from dos.core.routing.policy import ModelEntry, RouteDecision

MICRO = 1_000_000
KINDS = ("grant", "debit", "refund", "adjust", "hold", "release")
MONEY_KINDS = ("grant", "debit", "refund", "adjust")  # the entries that move credits; a hold only reserves them
PERIODS = ("day", "week", "month", "total")
SCOPES = ("all", "skill", "pack", "token")
DEFAULT_MAX_OUTPUT = 4096  # output tokens held (and asked of the provider) when nothing else caps them
MESSAGE_OVERHEAD_TOKENS = 8  # role and framing per message (OpenAI counts 3 or 4, chat templates about 5)
REPLY_PRIMING_TOKENS = 8  # what a provider adds to prime the answer (OpenAI: 3), and a BOS token
TOOLS_ALLOWANCE_TOKENS = 1024  # the system prompt some providers add when tools are offered (Anthropic: ~350)
RECALL_BYTES_PER_TOKEN = 16  # recall counts 4 characters a token; a character is at most 4 UTF-8 bytes
RECALL_FRAMING_TOKENS = 512  # the recalled note's heading, and the framing of up to 16 history messages
MAX_TOKEN_BYTES = 256  # no tokenizer in use has a longer token: more output than allowed x this is a runaway
_ADJECTIVE = {"day": "daily", "week": "weekly", "month": "monthly", "total": "total"}

TokenCounter = Callable[["ModelEntry", str], "int | None"]  # the model's tokenizer's count; None: it has none


# -- amounts ------------------------------------------------------------------------------------------


def parse_amount(value: object, *, negative: bool = False, what: str = "amount") -> int:
    """Credits as given by a person or a file ("2.50", 2.5, "$3") → micro-credits, exactly; UsageError if
    it is not a number, has more than 6 decimals, or is negative (unless `negative`)."""
    text = str(value).strip().lstrip("$").replace("_", "")
    if isinstance(value, bool) or not text:
        raise UsageError(f"{what} must be a number of credits (1 credit = 1 USD), not {value!r}")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise UsageError(f"{what} must be a number of credits (1 credit = 1 USD), not {value!r}") from None
    if not amount.is_finite():
        raise UsageError(f"{what} must be a finite number, not {value!r}")
    micro = amount * MICRO
    if micro != micro.to_integral_value():
        raise UsageError(f"{what} {value!r} has more than 6 decimals (the ledger counts micro-credits)")
    if micro < 0 and not negative:
        raise UsageError(f"{what} must not be negative")
    if abs(micro) >= 1 << 62:
        raise UsageError(f"{what} {value!r} is too large")
    return int(micro)


def format_amount(micro: int, sign: bool = False) -> str:
    """Micro-credits → "12.50", "0.000123", "-1.25": at least 2 decimals, at most 6, exact."""
    text = f"{abs(micro) // MICRO}.{abs(micro) % MICRO:06d}".rstrip("0")
    whole, _, frac = text.partition(".")
    text = f"{whole}.{frac.ljust(2, '0')}"
    if micro < 0:
        return f"-{text}"
    return f"+{text}" if sign and micro > 0 else text


def cost_to_micro(cost: float | Decimal | None) -> int:
    """A provider cost in USD (LiteLLM's float) → micro-credits, rounded up (a cost is never under-charged)."""
    if not cost or cost < 0:
        return 0
    return int((Decimal(repr(cost)) * MICRO).to_integral_value(ROUND_CEILING))


def price_micro(input_price: float | None, output_price: float | None, prompt_tokens: int,
                completion_tokens: int) -> int:
    """Cost in micro-credits of tokens at prices in USD per million tokens: exact, rounded up."""
    total = Decimal(repr(input_price or 0.0)) * prompt_tokens + Decimal(repr(output_price or 0.0)) * completion_tokens
    return int(total.to_integral_value(ROUND_CEILING))


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _json_bytes(value: object) -> int:
    return utf8_len(json.dumps(value, ensure_ascii=False, default=str))


def text_tokens(entry: ModelEntry, text: str, counter: TokenCounter | None = None) -> int:
    """Tokens of `text` for `entry`'s model: its tokenizer's count where `counter` has one, else the UTF-8 bytes,
    an upper bound for any byte-level or byte-fallback tokenizer (never characters / 4: CJK text is 1-3 tokens a
    character, an emoji up to 7)."""
    if not text:
        return 0
    counted = counter(entry, text) if counter is not None else None
    return counted if counted is not None and counted >= 0 else utf8_len(text)


def prompt_tokens(entry: ModelEntry, messages: Sequence[Mapping[str, Any]], counter: TokenCounter | None = None,
                  tools: object = None) -> int:
    """An upper bound on the prompt tokens a provider counts for `messages` (and `tools`) on `entry`'s model: each
    message's text, its framing, and whatever else it carries (tool calls, names) at its JSON's bytes."""
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        content = message.get("content")
        total += MESSAGE_OVERHEAD_TOKENS
        if isinstance(content, str):
            total += text_tokens(entry, content, counter)
        elif content:  # a list of parts (images, files): its JSON's bytes
            total += _json_bytes(content)
        rest = {k: v for k, v in message.items() if k not in ("role", "content") and v not in (None, "", [])}
        total += _json_bytes(rest) if rest else 0
    if tools:
        total += _json_bytes(tools) + TOOLS_ALLOWANCE_TOKENS
    return total


def is_free(entry: ModelEntry) -> bool:
    return entry.sovereignty == "local" and not entry.input_price and not entry.output_price


def worst_case(entry: ModelEntry, prompt_tokens: int, max_tokens: int | None) -> int | None:
    """The most a call can cost in micro-credits: the prompt at the input price, every allowed output token at
    the output price. None if the model's price is unknown (it cannot be bounded)."""
    if is_free(entry):
        return 0
    if entry.input_price is None and entry.output_price is None:
        return None
    return price_micro(entry.input_price, entry.output_price, prompt_tokens, max_tokens or DEFAULT_MAX_OUTPUT)


# -- budgets ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """A limit on spend: everything (`all`), one skill or one pack; per day, week, month, or in total."""

    scope: str
    name: str
    period: str
    limit: int  # micro-credits
    source: str = "dos budget set"  # or "skill NAME", "pack NAME"

    def label(self) -> str:
        what = {"all": "", "skill": f"skill '{self.name}' ", "pack": f"pack '{self.name}' ",
                "token": f"token '{self.name}' "}[self.scope]
        return f"{what}{_ADJECTIVE[self.period]} budget {format_amount(self.limit)}"

    def hint(self) -> str:
        if self.source != "dos budget set":
            where = "metadata.dos.budget" if self.scope == "skill" else "budget: in pack.yaml"
            return f"raise it in {self.source}'s {where}"
        option = {"all": "", "skill": f" --skill {self.name}", "pack": f" --pack {self.name}",
                  "token": f" --token {self.name}"}[self.scope]
        return f"raise it with `dos budget set --period {self.period}{option} AMOUNT`"

    def describe(self) -> dict[str, Any]:
        return {"scope": self.scope, "name": self.name or None, "period": self.period,
                "limit": format_amount(self.limit), "limit_micro": self.limit, "source": self.source}


@dataclass(frozen=True)
class Standing:
    """A budget (None: the credit balance) and what is spent and held against it now."""

    budget: Budget | None
    limit: int  # the budget's limit, or the balance
    spent: int = 0
    held: int = 0

    @property
    def left(self) -> int:
        return self.limit - self.spent - self.held

    def label(self) -> str:
        return self.budget.label() if self.budget else "credit balance"

    def hint(self) -> str:
        return self.budget.hint() if self.budget else "add credits with `dos credits grant AMOUNT`"


def budgets_from(mapping: object, scope: str, name: str, source: str) -> list[Budget]:
    """A skill's `metadata.dos.budget` or a pack's `budget:` ({day: 0.50, month: 5}) as budgets."""
    if not mapping:
        return []
    if not isinstance(mapping, Mapping):
        raise InvalidConfig(f"{source}: the budget must be a mapping such as {{day: 0.50}}, not {mapping!r}")
    out = []
    for period, amount in mapping.items():
        if period not in PERIODS:
            raise InvalidConfig(f"{source}: unknown budget period {period!r} (use {', '.join(PERIODS)})")
        try:
            out.append(Budget(scope, name, str(period), parse_amount(amount, what=f"budget {period}"), source))
        except UsageError as exc:
            raise InvalidConfig(f"{source}: {exc.message}") from None
    return out


def applicable(configured: Sequence[Budget], skill: str | None, pack: str | None,
               token: str | None = None) -> list[Budget]:
    """The configured budgets that bound a call of this skill (and pack, and gateway token)."""
    names = {"skill": skill, "pack": pack, "token": token}
    return [b for b in configured if b.scope == "all" or (names.get(b.scope) is not None and b.name == names[b.scope])]


def binding(standings: Sequence[Standing]) -> Standing | None:
    """The budget that binds: the one with least left."""
    return min(standings, key=lambda s: s.left, default=None)


def refusal(standing: Standing, amount: int, model: str | None = None) -> str:
    """One line: which budget, how much is left, what the call may cost, how to raise it."""
    on = f" on {model}" if model else ""
    return (f"over budget: {standing.label()} has {format_amount(max(standing.left, 0))} left, this call may cost "
            f"up to {format_amount(amount)}{on}; {standing.hint()}")


def period_start(period: str, now: datetime) -> datetime | None:
    """Start of the current day (UTC midnight), week (Monday), month (the 1st); None for `total`."""
    now = now.astimezone(timezone.utc)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return None


def iso(moment: datetime) -> str:
    """The timestamp form the memory log and the ledger store (UTC, milliseconds, Z): sortable as text."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- what a person writes by hand: grants, refunds, adjustments, budget settings ---------------------------


def budget_target(skill: str | None, pack: str | None, token: str | None = None) -> tuple[str, str]:
    """(scope, name) of a budget setting: one skill, one pack, one `dos serve` token, or everything."""
    given = [(scope, name) for scope, name in (("skill", skill), ("pack", pack), ("token", token)) if name]
    if len(given) > 1:
        raise UsageError("give one of --skill, --pack or --token, not several")
    return given[0] if given else ("all", "")


def check_period(period: str | None) -> str | None:
    """A budget period as given (None: every period, where that means something); UsageError if unknown."""
    if period is not None and period not in PERIODS:
        raise UsageError(f"--period must be one of {', '.join(PERIODS)}, not {period!r}")
    return period


class Credits:
    """The use cases of `dos credits grant|refund|adjust` and `dos budget set|clear`: amounts as a person gives
    them (see `parse_amount`), checked, then written through the ledger. A written entry comes back with the
    balance after it (`written` is False when its key was used already: nothing was added)."""

    def __init__(self, book: CreditBook):
        self.book = book

    def grant(self, amount: object, note: str = "", key: str | None = None) -> dict[str, Any]:
        micro = parse_amount(amount)
        if micro == 0:
            raise UsageError("a grant must be more than 0 credits")
        return self._with_balance(self.book.record("grant", micro, key, note=note))

    def refund(self, turn_id: str, amount: object = None, note: str = "", key: str | None = None) -> dict[str, Any]:
        """Give back a turn's cost: all of what is left of it, or `amount`."""
        micro = parse_amount(amount) if amount is not None else None
        return self._with_balance(self.book.refund(turn_id, micro, note=note, key=key))

    def adjust(self, amount: object, note: str, key: str | None = None) -> dict[str, Any]:
        """Correct the balance up or down; an adjustment must say why."""
        micro = parse_amount(amount, negative=True)
        if micro == 0 or not note.strip():
            raise UsageError("an adjustment must be a non-zero amount with a --note saying why")
        return self._with_balance(self.book.record("adjust", micro, key, note=note))

    def set_budget(self, amount: object, period: str | None, skill: str | None = None, pack: str | None = None,
                   token: str | None = None) -> Budget:
        """Sets the target's limit for `period` (None: a month); returns the budget."""
        scope, name = budget_target(skill, pack, token)
        return self.book.set_budget(scope, name, check_period(period) or "month", parse_amount(amount))

    def clear_budget(self, period: str | None = None, skill: str | None = None, pack: str | None = None,
                     token: str | None = None) -> int:
        """Removes the target's budget of `period` (None: of every period); returns how many."""
        scope, name = budget_target(skill, pack, token)
        return self.book.clear_budget(scope, name, check_period(period))

    def _with_balance(self, entry: dict[str, Any]) -> dict[str, Any]:
        return entry | {"balance": self.book.balance()}


# -- the guard a routed call runs under ---------------------------------------------------------------


@dataclass(frozen=True)
class Charge:
    """Who a call is charged to."""

    skill: str | None = None
    pack: str | None = None
    budgets: tuple[Budget, ...] = ()  # from the skill's and the pack's files
    token: str | None = None  # the `dos serve` token the call came in with


class Spending:
    """Builds a Guard for each routed call: the ledger port, where file budgets come from, and the models'
    tokenizers (`counter`; None: every prompt is bounded by its UTF-8 bytes)."""

    def __init__(self, ledger: Ledger, pack_budget: Callable[[str], object] = lambda _: None,
                 counter: TokenCounter | None = None):
        self.ledger = ledger
        self.pack_budget = pack_budget
        self.counter = counter

    def guard(self, skill: Any, token: str | None = None) -> Guard:
        pack = skill_pack(skill.source)
        budgets = budgets_from(skill.dos.get("budget"), "skill", skill.name, f"skill {skill.name}")
        if pack:
            budgets += budgets_from(self.pack_budget(pack), "pack", pack, f"pack {pack}")
        return Guard(self.ledger, Charge(skill.name, pack, tuple(budgets), token), self.counter)


class Guard:
    """One call's budget: narrow the chain to what is affordable, hold the worst case, cut, settle.

    The settled charge never exceeds the hold: the hold was admitted under the ledger's write lock against what
    every other call had spent and held, and others were admitted against what it left, so an overage could only
    be taken from them (or refused after the provider already charged it). A call whose provider reports more
    than its hold is debited the hold, and the debit's note gives the provider's figure."""

    def __init__(self, ledger: Ledger, charge: Charge, counter: TokenCounter | None = None):
        self.ledger, self.charge, self.counter = ledger, charge, counter
        self.hold_id: str | None = None
        self.cap: int | None = None  # the hold, when a budget binds: nothing is charged above it
        self.prompt_tokens: dict[str, int] = {}  # per model of the chain: the bound the hold priced
        self.max_output = DEFAULT_MAX_OUTPUT  # output tokens the hold priced
        self.turn: dict[str, Any] = {}

    def standings(self) -> list[Standing]:
        return self.ledger.standings(self.charge)

    def fit_turn(self, decision: RouteDecision, skill: Any, request: Any) -> RouteDecision:
        """`fit` for a turn before its prompt is built: the skill's body, the text, what recall may add."""
        said = list(request.conversation) or [{"role": "user", "content": request.text}]
        messages = [{"role": "system", "content": skill.body}, *said]
        extra = RECALL_BYTES_PER_TOKEN * request.recall_tokens + RECALL_FRAMING_TOKENS if request.recall else 0
        cap = skill.dos.get("max_tokens")
        max_tokens = request.max_tokens or (cap if isinstance(cap, int) and not isinstance(cap, bool) else None)
        return self.fit(decision, messages, max_tokens, extra)

    def fit(self, decision: RouteDecision, messages: Sequence[Mapping[str, Any]], max_tokens: int | None,
            extra_tokens: int = 0) -> RouteDecision:
        """Drop the chain's models whose worst case exceeds what the binding budget has left; BudgetExceeded
        (one line, before anything is written or sent) if none is left."""
        from dos.core.routing.policy import Verdict

        tight = binding(self.standings())
        if tight is None:
            return decision
        kept, dropped = [], []
        for entry in decision.chain:
            tokens = 0 if is_free(entry) else prompt_tokens(entry, messages, self.counter) + extra_tokens
            worst = worst_case(entry, tokens, max_tokens)
            (kept if worst is not None and worst <= tight.left else dropped).append((entry, worst))
        if not dropped:
            return decision
        if not kept:
            entry, worst = min(dropped, key=lambda d: math.inf if d[1] is None else d[1])
            if worst is None:
                raise BudgetExceeded(unbounded(tight, entry.name))
            raise BudgetExceeded(refusal(tight, worst, entry.name))
        verdicts = {v.name: v for v in decision.verdicts}
        for entry, worst in dropped:
            why = "price unknown" if worst is None else f"may cost {format_amount(worst)}"
            verdicts[entry.name] = Verdict(entry.name, False, f"{why}, over the {format_amount(max(tight.left, 0))} "
                                           f"left of the {tight.label()}", "budget")
        names = {e.name for e, _ in kept}
        ordered = [verdicts[e.name] for e, _ in kept] + [v for v in verdicts.values() if v.name not in names]
        return replace(decision, chain=tuple(e for e, _ in kept), verdicts=tuple(ordered))

    def reserve(self, chain: Sequence[ModelEntry], messages: Sequence[Mapping[str, Any]], max_tokens: int | None,
                key: str, tools: object = None) -> int | None:
        """Before the call: hold the chain's worst case (the prompt's token bound, every allowed output token),
        atomically against every budget; BudgetExceeded if another process spent what was left since the route
        was planned. Returns the max_tokens to ask of the provider: the output the hold priced, whenever a
        budget binds, so a provider never streams past what was held."""
        self.max_output = max_tokens or DEFAULT_MAX_OUTPUT
        self.prompt_tokens = {e.name: prompt_tokens(e, messages, self.counter, tools) for e in chain if not is_free(e)}
        worsts = [worst_case(e, self.prompt_tokens.get(e.name, 0), max_tokens) for e in chain]
        if all(w == 0 for w in worsts):
            return max_tokens  # the embedded model and other free local models need no hold
        amount = max((w for w in worsts if w is not None), default=0)
        unknown = next((e.name for e, w in zip(chain, worsts) if w is None), None)
        bounded: list[bool] = []

        def decide(standings: list[Standing]) -> str | None:
            """Runs inside the ledger's write lock: the standings are current."""
            tight = binding(standings)
            bounded.append(tight is not None)
            if tight is None:
                return None
            if unknown is not None:  # a budget was set since the route was planned: this model cannot be held
                return unbounded(tight, unknown)
            return None if amount <= tight.left else refusal(tight, amount, chain[0].name if chain else None)

        refused, hold_id = self.ledger.hold(self.charge, amount, key, decide, self.fields(chain[0].name))
        if refused:
            raise BudgetExceeded(refused)
        self.hold_id = hold_id
        self.cap = amount if bounded and bounded[-1] else None
        return max_tokens if max_tokens is not None or self.cap is None else self.max_output

    def check(self, entry: ModelEntry | None, usage: Any, output_bytes: int) -> None:
        """During the stream: cut it (BudgetCut) once the provider's own count (usage, where it reports one as
        it goes) prices above the hold, or once it streams more than its allowed output could ever be."""
        if self.cap is None or entry is None or is_free(entry):
            return
        if usage is not None and (usage.prompt_tokens or usage.completion_tokens):
            counted = price_micro(entry.input_price, entry.output_price, usage.prompt_tokens, usage.completion_tokens)
            if counted > self.cap:
                raise BudgetCut(f"stopped at the budget limit: the provider counts {format_amount(counted)} so far, "
                                f"more than the {format_amount(self.cap)} held for it; the partial answer is kept")
        if output_bytes > self.max_output * MAX_TOKEN_BYTES:
            raise BudgetCut(f"stopped at the budget limit: {entry.name} went on past the {self.max_output} output "
                            f"tokens held for it; the partial answer is kept")

    def settle(self, key: str, model: str | None, cost: float | None, entry: ModelEntry | None, usage: Any,
               output: str, complete: bool, cost_source: str | None, route_event_id: str) -> None:
        """After the call (whole, cut or failed): the debit, which also closes the hold, never above the hold.
        Idempotent on `key`."""
        bound = self.prompt_tokens.get(entry.name, 0) if entry is not None else 0
        reported = usage is not None and bool(usage.prompt_tokens or usage.completion_tokens)
        out_tokens = (usage.completion_tokens if reported else 0) or (
            text_tokens(entry, output, self.counter) if entry is not None else 0)
        notes, source = [], cost_source if complete else "estimate"
        amount = cost_to_micro(cost) if complete else 0
        if entry is not None and is_free(entry):
            amount = 0
        elif not complete or (not amount and not reported and output):
            # cut, failed, or a whole answer with no usage: the provider's count if it gave one, else the bound
            notes.append("partial" if not complete else "no usage reported")
            source = "estimate"
            prompt = usage.prompt_tokens if reported and usage.prompt_tokens else (bound if output else 0)
            amount = 0 if entry is None or not (prompt or out_tokens) else price_micro(
                entry.input_price, entry.output_price, prompt, out_tokens)
        if self.cap is not None and amount > self.cap:
            notes.append(f"capped at the hold; the provider's cost was {format_amount(amount)}")
            amount = self.cap
        prompt_count = usage.prompt_tokens if reported and usage.prompt_tokens else (bound if output else 0)
        self.ledger.debit(key, -amount, self.hold_id, self.fields(model) | {
            "route_event_id": route_event_id, "prompt_tokens": prompt_count, "completion_tokens": out_tokens,
            "cost_source": source, "note": "; ".join(notes),
        })

    def fields(self, model: str | None) -> dict[str, Any]:
        return {"skill": self.charge.skill, "pack": self.charge.pack, "token": self.charge.token, "model": model,
                "turn_id": self.turn.get("turn_id"), "session_id": self.turn.get("session_id")}


def unbounded(standing: Standing, model: str) -> str:
    return (f"over budget: {standing.label()} binds and the price of {model} is unknown, so its cost cannot be "
            f"bounded; give it a price in models.yaml or {standing.hint()}")
