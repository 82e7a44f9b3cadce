"""`dos stats`, pure: what actually routed where, per model and per skill, from route (and older response) events."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dos.core.errors import UsageError

_SPAN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str) -> float:
    """'7d', '12h', '30m', '2w' as seconds."""
    match = _SPAN.match(text or "")
    if not match:
        raise UsageError(f"--since must be a number and a unit (s, m, h, d, w), e.g. 7d; not {text!r}")
    return int(match.group(1)) * _SECONDS[match.group(2)]


@dataclass(frozen=True)
class Call:
    """One model call as the log recorded it."""

    model: str
    skill: str
    ok: bool
    fell_back: bool
    latency_s: float | None
    prompt_tokens: int
    completion_tokens: int
    cost: float


def call_from_route(data: dict[str, Any], skill: str | None, model: str | None) -> Call:
    usage = data.get("usage") or {}
    return Call(
        model=str(data.get("chosen") or model or (data.get("chain") or ["?"])[0]),
        skill=skill or "-",
        ok=bool(data.get("ok")),
        fell_back=bool(data.get("fell_back")),
        latency_s=data.get("latency_s"),
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        cost=float(data.get("cost") or 0.0),
    )


def call_from_response(data: dict[str, Any], skill: str | None, model: str | None) -> Call:
    """A response recorded before the router (no route event in its turn)."""
    usage = data.get("usage") or {}
    return Call(
        model=str(data.get("served_by") or model or "?"),
        skill=skill or "-",
        ok=bool(data.get("complete")),
        fell_back=False,
        latency_s=data.get("duration_s"),
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        cost=float(data.get("cost") or 0.0),
    )


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return round(ordered[rank], 4)


@dataclass
class Row:
    key: str
    calls: int = 0
    ok: int = 0
    fell_back: int = 0
    latencies: list[float] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    def add(self, call: Call) -> None:
        self.calls += 1
        self.ok += call.ok
        self.fell_back += call.fell_back
        if call.latency_s is not None and call.ok:
            self.latencies.append(float(call.latency_s))
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.cost += call.cost

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.key,
            "calls": self.calls,
            "success_rate": round(self.ok / self.calls, 4) if self.calls else None,
            "fallback_rate": round(self.fell_back / self.calls, 4) if self.calls else None,
            "p50_s": _percentile(self.latencies, 0.5),
            "p95_s": _percentile(self.latencies, 0.95),
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost": round(self.cost, 6),
        }


def summarize(calls: Iterable[Call]) -> dict[str, Any]:
    by_model: dict[str, Row] = {}
    by_skill: dict[str, Row] = {}
    total = Row("all")
    for call in calls:
        by_model.setdefault(call.model, Row(call.model)).add(call)
        by_skill.setdefault(call.skill, Row(call.skill)).add(call)
        total.add(call)

    def ordered(rows: dict[str, Row]) -> list[dict[str, Any]]:
        return [r.describe() for r in sorted(rows.values(), key=lambda r: (-r.calls, r.key))]

    return {"total": total.describe(), "models": ordered(by_model), "skills": ordered(by_skill)}
