"""The routing policy, pure: which catalog models a turn may use, and in what order.

Hard constraints (sovereignty classes, capabilities, price, tags, a pinned model) filter the catalog and record
why each removed model was removed; a preference orders what is left. The ordered list is the fallback chain:
the adapter builds the LiteLLM Router from it and from nothing else, so a fallback can never leave it.

No I/O and no provider library here (an import-linter contract keeps it so); `route explain` runs this alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dos.core.errors import NoRoute, UsageError

PREFERENCES = ("local-first", "cheapest", "best", "fastest")
DEFAULT_PREFERENCE = "local-first"
LOCAL = "local"
_INF = float("inf")


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
        }


@dataclass(frozen=True)
class RouteRequest:
    """What a turn asks of its model. None / empty means 'no constraint'."""

    sovereignty: frozenset[str] | None = None  # allowed classes
    capabilities: frozenset[str] = frozenset()  # all required
    tags: frozenset[str] = frozenset()  # all required
    max_price: float | None = None  # USD per million tokens, input and output each
    min_context: int | None = None
    prefer: str = DEFAULT_PREFERENCE
    pin: str | None = None  # exactly this model, no fallback
    sources: tuple[str, ...] = ()  # where the constraints came from, for explanations

    def describe(self) -> dict[str, Any]:
        return {
            "sovereignty": None if self.sovereignty is None else sorted(self.sovereignty),
            "capabilities": sorted(self.capabilities),
            "tags": sorted(self.tags),
            "max_price": self.max_price,
            "min_context": self.min_context,
            "prefer": self.prefer,
            "pin": self.pin,
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


def constraints_from(mapping: Mapping[str, Any] | None, origin: str) -> dict[str, Any]:
    """One source's route settings (a skill's `metadata.dos.route`, the config's `route:`, the command line),
    checked and normalised. Unknown keys are refused so a typo never silently widens a route."""
    if not mapping:
        return {}
    if not isinstance(mapping, Mapping):
        raise UsageError(f"{origin}: the route must be a mapping, not {mapping!r}")
    known = {"sovereignty", "capabilities", "tags", "max_price", "min_context", "prefer", "model"}
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise UsageError(f"{origin}: unknown route key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
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
    line says. Preference and pinned model: the most specific source that sets one wins."""
    sovereignty: frozenset[str] | None = None
    capabilities: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    max_price: float | None = None
    min_context: int | None = None
    prefer, pin = DEFAULT_PREFERENCE, None
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
        pin = layer.get("model") or pin
    return RouteRequest(sovereignty, capabilities, tags, max_price, min_context, prefer, pin, tuple(sources))


# -- deciding ------------------------------------------------------------------------------------------


def _check(entry: ModelEntry, request: RouteRequest) -> tuple[str, str] | None:
    """(constraint, reason) that removes `entry`, or None if it satisfies every hard constraint."""
    if request.pin is not None and entry.name != request.pin:
        return "pin", f"not the pinned model {request.pin}"
    if request.sovereignty is not None and entry.sovereignty not in request.sovereignty:
        allowed = ", ".join(sorted(request.sovereignty)) or "none"
        return "sovereignty", f"sovereignty {entry.sovereignty} not allowed (allowed: {allowed})"
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
    for position, entry in enumerate(kept, 1):
        verdicts[entry.name] = Verdict(entry.name, True, f"#{position}: {why}")
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
