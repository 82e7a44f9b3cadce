"""The routing policy, pure: which catalog models a turn may use, and in what order.

Hard constraints (sovereignty classes, capabilities, price, tags, a pinned model) filter the catalog and record
why each removed model was removed; a preference orders what is left. The ordered list is the fallback chain:
the adapter builds the LiteLLM Router from it and from nothing else, so a fallback can never leave it.

No I/O and no provider library here (an import-linter contract keeps it so); budgets reach it through the
ledger port (dos.core.routing.ledger). `explain_turn` is the one explanation of a route: `dos run`, `dos route explain` and
the chat all take it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from dos.core.domain import Chunk, Event, Skill, TurnRequest, Usage
from dos.core.errors import NoRoute, UsageError
from dos.core.ids import new_id
from dos.core.ports import Clock, Closeable

PREFERENCES = ("local-first", "cheapest", "best", "fastest")
DEFAULT_PREFERENCE = "local-first"
LOCAL = "local"
IN_PROCESS = "in-process"  # the host of a model that runs inside DOS (the embedded one): nothing is sent
_INF = float("inf")


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 (also IPv4-mapped) or the name `localhost`: a request to it never leaves the machine.
    Any other name is not loopback, whatever it resolves to today."""
    if not host:
        return False
    host = host.strip("[]").split("%", 1)[0].lower()
    if host in ("localhost", "localhost.", "ip6-localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def stays_local(host: str | None) -> bool:
    return host == IN_PROCESS or is_loopback(host)


@dataclass(frozen=True)
class ModelEntry:
    """One deployment of the catalog: LiteLLM's `model_name` / `litellm_params` plus DOS's attributes.

    Prices are USD per million tokens (None: unknown). `quality` is a tier, higher is better. `latency_s` is
    a typical time to answer, if known. `params` is opaque to the core: it may name secrets by reference
    (`os.environ/KEY`) and is never shown."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    sovereignty: str = "unknown"
    capabilities: frozenset[str] = frozenset({"chat"})
    input_price: float | None = None
    output_price: float | None = None
    quality: int = 1
    tags: frozenset[str] = frozenset()
    context_window: int | None = None
    latency_s: float | None = None
    source: str = "config"  # config, embedded, localhost, env, adhoc
    # where its requests go: a host name, IN_PROCESS, or None (not known); and what set it: `api_base`, the
    # environment variable LiteLLM reads (OLLAMA_API_BASE, ...), or `default` (the provider's own endpoint)
    host: str | None = None
    host_from: str = ""
    declared: bool = False  # the sovereignty was declared in models.yaml (for that host), not derived from it

    @property
    def price(self) -> float:
        """The dearer of the two prices; unknown is infinite (a local model with no price costs nothing)."""
        if self.input_price is None and self.output_price is None:
            return 0.0 if self.sovereignty == LOCAL else _INF
        return max(self.input_price or 0.0, self.output_price or 0.0)

    def describe(self) -> dict[str, Any]:
        """The attributes a listing shows; never the params (they may hold keys or key references)."""
        return {
            "name": self.name,
            "sovereignty": self.sovereignty,
            "capabilities": sorted(self.capabilities),
            "input_price": self.input_price,
            "output_price": self.output_price,
            "quality": self.quality,
            "tags": sorted(self.tags),
            "context_window": self.context_window,
            "latency_s": self.latency_s,
            "source": self.source,
            "host": self.host,
            "host_from": self.host_from or None,
        }

    def destination(self) -> str:
        """Where its requests go, when the class was derived from that ('' otherwise): for a refusal's reason."""
        if self.declared or self.host_from in ("", "default", IN_PROCESS):
            return ""
        return f"requests go to {self.host or 'a host not known'}, set by {self.host_from}"


@dataclass(frozen=True)
class RouteRequest:
    """What a turn asks of its model. None / empty means 'no constraint'."""

    sovereignty: frozenset[str] | None = None  # allowed classes
    capabilities: frozenset[str] = frozenset()  # all required
    tags: frozenset[str] = frozenset()  # all required
    max_price: float | None = None  # USD per million tokens, input and output each
    min_context: int | None = None
    prefer: str = DEFAULT_PREFERENCE
    pin: str | None = None  # exactly this model, no fallback (the command line's --model)
    sources: tuple[str, ...] = ()  # where the constraints came from, for explanations
    first: str | None = None  # tried first if it passes, the rest still follow (a skill's or pack's model)

    def describe(self) -> dict[str, Any]:
        return {
            "sovereignty": None if self.sovereignty is None else sorted(self.sovereignty),
            "capabilities": sorted(self.capabilities),
            "tags": sorted(self.tags),
            "max_price": self.max_price,
            "min_context": self.min_context,
            "prefer": self.prefer,
            "pin": self.pin,
            "first": self.first,
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class Verdict:
    name: str
    kept: bool
    reason: str  # why removed, or why kept where it is
    constraint: str = ""  # the constraint that removed it: pin, sovereignty, capabilities, tags, price, context


@dataclass(frozen=True)
class RouteDecision:
    request: RouteRequest
    verdicts: tuple[Verdict, ...]
    chain: tuple[ModelEntry, ...]  # the fallback chain, first is tried first

    @property
    def names(self) -> list[str]:
        return [e.name for e in self.chain]

    def removed(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.kept]

    def describe(self) -> dict[str, Any]:
        return {
            "request": self.request.describe(),
            "candidates": [
                {"name": v.name, "kept": v.kept, "reason": v.reason, "constraint": v.constraint or None}
                for v in self.verdicts
            ],
            "chain": self.names,
        }


# -- building a request --------------------------------------------------------------------------------


def _as_set(value: Any, what: str, origin: str) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        items = [p.strip() for p in value.split(",")]
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = [str(p).strip() for p in value]
    else:
        raise UsageError(f"{origin}: '{what}' must be a name or a list of names, not {value!r}")
    return frozenset(p for p in items if p)


def _as_price(value: Any, origin: str) -> float | None:
    if value is None:
        return None
    try:
        price = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{origin}: 'max_price' must be a number (USD per million tokens), not {value!r}") from None
    if price < 0:
        raise UsageError(f"{origin}: 'max_price' must not be negative")
    return price


def _as_prefer(value: Any, origin: str) -> str | None:
    if value is None or value == "":
        return None
    if value not in PREFERENCES:
        raise UsageError(f"{origin}: 'prefer' must be one of {', '.join(PREFERENCES)}, not {value!r}")
    return str(value)


ROUTE_KEYS = frozenset({"sovereignty", "capabilities", "tags", "max_price", "min_context", "prefer", "model"})


def constraints_from(mapping: Mapping[str, Any] | None, origin: str) -> dict[str, Any]:
    """One source's route settings (a skill's `metadata.dos.route`, the config's `route:`, the command line),
    checked and normalised. Unknown keys are refused so a typo never silently widens a route."""
    if not mapping:
        return {}
    if not isinstance(mapping, Mapping):
        raise UsageError(f"{origin}: the route must be a mapping, not {mapping!r}")
    unknown = sorted(set(map(str, mapping)) - ROUTE_KEYS)
    if unknown:
        raise UsageError(f"{origin}: unknown route key(s) {', '.join(unknown)} (known: {', '.join(sorted(ROUTE_KEYS))})")
    out: dict[str, Any] = {}
    for key in ("sovereignty", "capabilities", "tags"):
        if mapping.get(key) is not None:
            out[key] = _as_set(mapping[key], key, origin)
    if mapping.get("max_price") is not None:
        out["max_price"] = _as_price(mapping["max_price"], origin)
    if mapping.get("min_context") is not None:
        try:
            out["min_context"] = int(mapping["min_context"])
        except (TypeError, ValueError):
            raise UsageError(f"{origin}: 'min_context' must be a whole number of tokens") from None
    prefer = _as_prefer(mapping.get("prefer"), origin)
    if prefer:
        out["prefer"] = prefer
    if mapping.get("model"):
        out["model"] = str(mapping["model"])
    return out


def merge(layers: Iterable[tuple[str, dict[str, Any]]]) -> RouteRequest:
    """Combine sources, most general first (config, skill, command line).

    Hard constraints only ever narrow: allowed sovereignty classes intersect, required capabilities and tags
    add up, the lowest max price wins. So a skill that allows only `local` stays local whatever the command
    line says. Preference: the most specific source that sets one wins. A model named by the command line is a
    pin (exactly that model); named by a skill, its pack or the config it is only tried first."""
    sovereignty: frozenset[str] | None = None
    capabilities: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    max_price: float | None = None
    min_context: int | None = None
    prefer, pin, first = DEFAULT_PREFERENCE, None, None
    sources: list[str] = []
    for origin, layer in layers:
        if not layer:
            continue
        sources.append(origin)
        if layer.get("sovereignty") is not None:
            allowed = layer["sovereignty"]
            sovereignty = allowed if sovereignty is None else sovereignty & allowed
        capabilities |= layer.get("capabilities") or frozenset()
        tags |= layer.get("tags") or frozenset()
        if layer.get("max_price") is not None:
            max_price = layer["max_price"] if max_price is None else min(max_price, layer["max_price"])
        if layer.get("min_context") is not None:
            min_context = max(min_context or 0, layer["min_context"])
        prefer = layer.get("prefer") or prefer
        if origin == "command line":
            pin = layer.get("model") or pin
        else:
            first = layer.get("model") or first
    return RouteRequest(sovereignty, capabilities, tags, max_price, min_context, prefer, pin, tuple(sources), first)


# -- deciding ------------------------------------------------------------------------------------------


def _check(entry: ModelEntry, request: RouteRequest) -> tuple[str, str] | None:
    """(constraint, reason) that removes `entry`, or None if it satisfies every hard constraint."""
    if request.pin is not None and entry.name != request.pin:
        return "pin", f"not the pinned model {request.pin}"
    if request.sovereignty is not None and entry.sovereignty not in request.sovereignty:
        allowed = ", ".join(sorted(request.sovereignty)) or "none"
        where = entry.destination()
        return "sovereignty", f"sovereignty {entry.sovereignty} not allowed (allowed: {allowed})" + (
            f": {where}" if where else "")
    missing = request.capabilities - entry.capabilities
    if missing:
        return "capabilities", f"lacks {', '.join(sorted(missing))}"
    missing = request.tags - entry.tags
    if missing:
        return "tags", f"lacks tag {', '.join(sorted(missing))}"
    if request.max_price is not None and entry.price > request.max_price:
        shown = "unknown" if entry.price == _INF else f"${entry.price:g}/M"
        return "price", f"price {shown} above ${request.max_price:g}/M"
    if request.min_context is not None and (entry.context_window or 0) < request.min_context:
        return "context", f"context {entry.context_window or 'unknown'} below {request.min_context}"
    return None


def _is_local(entry: ModelEntry) -> int:
    return 0 if entry.sovereignty == LOCAL else 1


def _sort_key(prefer: str):  # noqa: ANN202 - a key function
    if prefer == "cheapest":
        return lambda e: (e.price, _is_local(e), -e.quality, e.name)
    if prefer == "best":
        return lambda e: (-e.quality, e.price, _is_local(e), e.name)
    if prefer == "fastest":
        return lambda e: (e.latency_s if e.latency_s is not None else _INF, _is_local(e), -e.quality, e.name)
    return lambda e: (_is_local(e), e.price, -e.quality, e.name)  # local-first


_WHY = {
    "local-first": "local first, then cheapest",
    "cheapest": "cheapest first",
    "best": "highest quality first",
    "fastest": "fastest known first",
}


def decide(catalog: Iterable[ModelEntry], request: RouteRequest) -> RouteDecision:
    """Filter by the hard constraints (recording why), order by preference. Never raises: see `require`."""
    kept: list[ModelEntry] = []
    verdicts: dict[str, Verdict] = {}
    seen: set[str] = set()
    for entry in catalog:
        if entry.name in seen:  # the first entry of a name wins (config over discovery)
            continue
        seen.add(entry.name)
        removed = _check(entry, request)
        if removed:
            verdicts[entry.name] = Verdict(entry.name, False, removed[1], removed[0])
        else:
            kept.append(entry)
    kept.sort(key=_sort_key(request.prefer))
    why = "pinned" if request.pin else _WHY.get(request.prefer, request.prefer)
    if request.first and not request.pin and any(e.name == request.first for e in kept):
        kept.sort(key=lambda e: e.name != request.first)  # stable: the rest keep the preference's order
    for position, entry in enumerate(kept, 1):
        reason = "the skill's model, first" if entry.name == request.first and position == 1 and not request.pin else why
        verdicts[entry.name] = Verdict(entry.name, True, f"#{position}: {reason}")
    ordered = [verdicts[e.name] for e in kept] + [v for v in verdicts.values() if not v.kept]
    return RouteDecision(request, tuple(ordered), tuple(kept))


def explain_empty(decision: RouteDecision, skill: str | None = None) -> str:
    """One line: which constraint removed which models."""
    by_constraint: dict[str, list[Verdict]] = {}
    for verdict in decision.removed():
        by_constraint.setdefault(verdict.constraint, []).append(verdict)
    request = decision.request
    labels = {
        "pin": f"pinned model {request.pin}",
        "sovereignty": f"sovereignty {','.join(sorted(request.sovereignty or ())) or 'none'}",
        "capabilities": f"capabilities {','.join(sorted(request.capabilities))}",
        "tags": f"tags {','.join(sorted(request.tags))}",
        "price": f"max_price {request.max_price:g}" if request.max_price is not None else "max_price",
        "context": f"min_context {request.min_context}",
    }
    parts = []
    for constraint, verdicts in by_constraint.items():
        names = [v.name for v in verdicts]
        if constraint == "sovereignty":  # say where a model's requests would have gone, when that decided it
            names = [v.name + (f" ({where})" if (where := v.reason.partition("): ")[2]) else "") for v in verdicts]
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        parts.append(f"{labels.get(constraint, constraint)} removed {shown}")
    what = f"skill '{skill}'" if skill else "this request"
    if request.pin and "pin" in by_constraint and not any(v.name == request.pin for v in decision.verdicts):
        parts.insert(0, f"no model named {request.pin} in the catalog (see `dos models list`)")
    detail = "; ".join(parts) if parts else "the catalog is empty"
    return f"no model satisfies the route for {what}: {detail}"


def require(decision: RouteDecision, skill: str | None = None) -> RouteDecision:
    """The decision, or NoRoute (one line) if no model is left."""
    if not decision.chain:
        raise NoRoute(explain_empty(decision, skill))
    return decision


# -- the turn's side: plan a route, call it, record it ---------------------------------------------------


class ModelCatalog(Protocol):
    """The catalog port: entries, the config's route constraints, and an entry for a model it does not hold."""

    def entries(self) -> list[ModelEntry]: ...

    def route_settings(self) -> Mapping[str, Any]: ...

    def adhoc(self, name: str) -> ModelEntry: ...


class BoundRoute(Protocol):
    """A ModelStream bound to one decision's chain, reporting its attempts afterwards."""

    def stream(
        self, model: str, messages: list[dict[str, str]], *, max_tokens: int | None, temperature: float | None,
        **options: Any,  # tools=[...], tool_choice=... (function calling), when the turn has tools
    ) -> Iterator[Chunk]: ...

    def report(self) -> dict[str, Any]: ...


class RouteBinder(Protocol):
    """Binds a route decision to a callable model (dos.adapters.models.litellm_router)."""

    def bind(self, decision: RouteDecision) -> BoundRoute: ...


def request_for(skill: Skill, catalog: ModelCatalog, command_line: Mapping[str, Any] | None = None) -> RouteRequest:
    """The route of a turn: models.yaml `route:`, then the skill (`metadata.dos.route`, `metadata.dos.model`),
    then the command line (`--model`, `--prefer`, `--sovereignty`)."""
    skill_layer = constraints_from(skill.dos.get("route"), f"{skill.path}: metadata.dos.route")
    if skill.dos.get("model") and "model" not in skill_layer:
        skill_layer["model"] = str(skill.dos["model"])
    return merge([
        ("config", dict(catalog.route_settings())),
        ("skill", skill_layer),
        ("command line", constraints_from({k: v for k, v in (command_line or {}).items() if v}, "command line")),
    ])


def explain(skill: Skill, catalog: ModelCatalog, command_line: Mapping[str, Any] | None = None) -> RouteDecision:
    """Decide a turn's route (no model call), even an empty one. A pinned model the catalog lacks is taken as
    given (adhoc), still subject to every hard constraint."""
    request = request_for(skill, catalog, command_line)
    entries = list(catalog.entries())
    for name in (request.pin, request.first):
        if name and not any(e.name == name for e in entries):
            entries.append(catalog.adhoc(name))
    return decide(entries, request)


def explain_turn(skill: Skill, catalog: ModelCatalog, request: TurnRequest,
                 command_line: Mapping[str, Any] | None = None,
                 spending: Any = None) -> tuple[RouteDecision, Any]:
    """The one explanation of a turn's route, budgets included: every candidate kept or removed with its reason
    (the hard constraints, then the budgets: a model whose worst case for `request` is over what the binding
    budget has left is removed, constraint `budget`), and the order the kept ones are tried. `dos run`
    (Routing.plan), `dos route explain` and the chat's `/route`, `/model` and toolbar all call this, so the route
    explained is the route run. No model is called.

    An empty chain is returned as it is (`require` refuses it); BudgetExceeded (one line) if budgets leave no
    model. `spending` is a dos.core.routing.ledger.Spending (None: no ledger, no budgets); the
    Guard that fitted the chain comes back too (None without `spending` or with an empty chain): a turn's call
    runs under it."""
    command_line = dict(command_line or {}) | ({"model": request.model} if request.model else {})
    decision = explain(skill, catalog, command_line)
    if spending is None or not decision.chain:
        return decision, None
    guard = spending.guard(skill, request.client)
    return guard.fit_turn(decision, skill, request), guard


class RoutedCall:
    """One turn's routed model call: streams through the bound route, then describes itself as a `route` event."""

    def __init__(self, decision: RouteDecision, bound: BoundRoute, clock: Clock,
                 notice: Callable[[str], None] = lambda _: None, guard: Any = None):
        self.decision, self.bound, self.clock, self.notice = decision, bound, clock, notice
        self.model = decision.chain[0].name
        self.usage, self.cost, self.served = Usage(), 0.0, None
        self.latency_s: float | None = None
        self.guard = guard  # dos.core.routing.ledger.Guard: hold before, cut during, debit after (None: no ledger)
        self.event_id = new_id()  # the route event's id, known before it is written so the debit can name it
        self.rounds = 0  # a turn with tools streams once per round; usage and cost add up over the rounds

    def attach(self, **turn: Any) -> None:
        """The turn this call belongs to (its ledger entries name it)."""
        if self.guard is not None:
            self.guard.turn = turn

    def stream(
        self, model: str, messages: list[dict[str, str]], *, max_tokens: int | None, temperature: float | None,
        **options: Any,
    ) -> Iterator[Chunk]:
        guard, parts, out_bytes, complete = self.guard, [], 0, False
        self.rounds += 1
        key = self.event_id if self.rounds == 1 else f"{self.event_id}:{self.rounds}"  # one hold/debit per round
        usage, cost = Usage(), 0.0
        if guard is not None:  # BudgetExceeded if others spent what was left since the route was planned
            # a held call asks the provider for no more output than the hold priced
            max_tokens = guard.reserve(self.decision.chain, messages, max_tokens, f"hold:{key}", options.get("tools"))
        started = self.clock.monotonic()
        inner = self.bound.stream(self.model, messages, max_tokens=max_tokens, temperature=temperature, **options)
        try:
            for chunk in inner:
                if chunk.model and self.served is None:
                    self.served = chunk.model
                    if self.served != self.model:
                        self.notice(self._fallback_notice())
                usage = chunk.usage or usage
                cost = chunk.cost if chunk.cost is not None else cost
                if chunk.text:
                    parts.append(chunk.text)
                    out_bytes += len(chunk.text.encode("utf-8", "surrogatepass"))
                if guard is not None:  # BudgetCut once the provider's count passes the hold
                    guard.check(self._entry(self.served or self.model), chunk.usage, out_bytes)
                yield chunk
            complete = True
        finally:
            self.latency_s = round(self.clock.monotonic() - started, 4)
            self.usage = Usage(self.usage.prompt_tokens + usage.prompt_tokens,
                               self.usage.completion_tokens + usage.completion_tokens)
            self.cost += cost
            if guard is not None:
                if isinstance(inner, Closeable):  # a stream cut by the guard lets go of its provider first
                    inner.close()
                served = self.served or self.model
                guard.settle(f"debit:{key}", served, cost, self._entry(served), usage, "".join(parts),
                             complete, self.bound.report().get("cost_source"), self.event_id)

    def _entry(self, name: str | None) -> ModelEntry | None:
        return next((e for e in self.decision.chain if e.name == name), None)

    def _fallback_notice(self) -> str:
        failed = [a for a in self.bound.report().get("attempts", []) if a.get("ok") is False]
        why = "; ".join(f"{a['model']}: {a.get('error') or 'failed'}" for a in failed[-3:]) or f"{self.model} failed"
        served = self._entry(self.served)
        if served is not None and served.sovereignty == LOCAL and all(
            (self._entry(a["model"]) or served).sovereignty != LOCAL for a in failed
        ):
            return f"all cloud attempts failed ({why}); falling back to {self.served} (the route allows local)"
        return f"fell back to {self.served} ({why})"

    def event(self, error: str | None = None, **common: Any) -> Event:
        """The `route` event: request, candidates and reasons, chain, attempts, chosen, latency, usage, cost."""
        report = self.bound.report()
        attempts = report.get("attempts", [])
        served = self._entry(self.served)
        failed_remote = any(a.get("ok") is False and (self._entry(a["model"]) or served or self.decision.chain[0])
                            .sovereignty != LOCAL for a in attempts)
        data = self.decision.describe() | {
            "chosen": self.served,
            "attempts": attempts,
            "fell_back": self.served is not None and self.served != self.model,
            "fallback_to_local": bool(self.served != self.model and served and served.sovereignty == LOCAL
                                      and failed_remote),
            "ok": error is None and self.served is not None,
            "error": error,
            "latency_s": self.latency_s,
            "usage": {"prompt_tokens": self.usage.prompt_tokens, "completion_tokens": self.usage.completion_tokens},
            "cost": self.cost,
            "cost_source": report.get("cost_source"),
            "price": None if served is None else {"input": served.input_price, "output": served.output_price},
            "sovereignty": None if served is None else served.sovereignty,
        }
        common = dict(common) | {"model": self.served or self.model}
        return Event(kind="route", actor="dos", data=data, id=self.event_id, **common)


class Routing:
    """What a TurnRunner needs to route: plan a skill's route, bind it to a callable model."""

    def __init__(self, catalog: ModelCatalog, binder: RouteBinder, clock: Clock,
                 command_line: Mapping[str, Any] | None = None, notice: Callable[[str], None] = lambda _: None,
                 spending: Any = None):
        self.catalog, self.binder, self.clock = catalog, binder, clock
        self.command_line = dict(command_line or {})
        self.notice = notice
        self.spending = spending  # dos.core.routing.ledger.Spending: budgets narrow the chain (None: no ledger)

    def plan(self, skill: Skill, request: TurnRequest) -> RoutedCall:
        """The route `explain_turn` gives, bound to the binder. Raises NoRoute (before anything is written or
        sent) when no model satisfies the constraints, BudgetExceeded when budgets leave none."""
        decision, guard = explain_turn(skill, self.catalog, request, self.command_line, self.spending)
        require(decision, skill.name)
        return RoutedCall(decision, self.binder.bind(decision), self.clock, self.notice, guard)
