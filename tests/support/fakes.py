"""In-memory fakes of the core's ports, for testing use cases without any adapter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dos.core.domain import DEFAULT_MODEL, Chunk, Event, Skill, SkillInfo, TurnSummary, Usage
from dos.core.errors import UnknownSkill
from dos.core.routing.policy import ModelEntry, RouteDecision, Routing


class FakeSkills:
    def __init__(self, *skills: Skill):
        self.skills = {s.name: s for s in skills}

    def get(self, name: str) -> Skill:
        if name not in self.skills:
            raise UnknownSkill(name, [])
        return self.skills[name]

    def list(self) -> list[SkillInfo]:
        return [SkillInfo(s.name, s.description, s.path, s.source) for s in self.skills.values()]


class FakeMemory:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def append(self, event: Event) -> Event:
        self.events.append(event)
        return event

    def recent_turns(self, limit: int) -> list[TurnSummary]:
        return []


class ScriptedModel:
    """Streams the given pieces; raises `fail_with` after `fail_after` pieces if set."""

    def __init__(self, pieces: list[str], fail_after: int | None = None, fail_with: BaseException | None = None,
                 memory: FakeMemory | None = None):
        self.pieces, self.fail_after, self.fail_with, self.memory = pieces, fail_after, fail_with, memory
        self.calls: list[dict] = []
        self.events_seen_at_call: list[str] = []

    def stream(self, model, messages, *, max_tokens, temperature) -> Iterator[Chunk]:
        self.calls.append({"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": temperature})
        if self.memory is not None:
            self.events_seen_at_call = [e.kind for e in self.memory.events]
        for i, piece in enumerate(self.pieces):
            if self.fail_after is not None and i == self.fail_after:
                raise self.fail_with  # type: ignore[misc]
            yield Chunk(text=piece)
        yield Chunk(finish_reason="stop", usage=Usage(7, len(self.pieces)), cost=0.0, model=model)

    def report(self) -> dict[str, Any]:
        """What a bound route reports after a call (dos.core.routing.policy.BoundRoute): no fallback attempts."""
        return {"attempts": [], "cost_source": None}


class TickClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return 1_700_000_000.0 + self.t

    def monotonic(self) -> float:
        self.t += 0.5
        return self.t


class FakeCatalog:
    """A model catalog (dos.core.routing.policy.ModelCatalog) of `entries`; a model it lacks is taken as given (adhoc)."""

    def __init__(self, *entries: ModelEntry):
        self._entries = list(entries)

    def entries(self) -> list[ModelEntry]:
        return self._entries

    def route_settings(self) -> dict[str, Any]:
        return {}

    def adhoc(self, name: str) -> ModelEntry:
        return ModelEntry(name)


class ScriptedBinder:
    """A route binder (dos.core.routing.policy.RouteBinder) that binds every route to the same scripted model."""

    def __init__(self, model: Any):
        self.model = model

    def bind(self, decision: RouteDecision) -> Any:
        return self.model


def routed(model: Any, *entries: ModelEntry) -> Routing:
    """The routing a TurnRunner gets, over a fake catalog (the embedded default model unless `entries` are given)
    whose every route streams from `model` (a ScriptedModel, or anything with `stream` and `report`)."""
    catalog = FakeCatalog(*(entries or (ModelEntry(DEFAULT_MODEL, sovereignty="local", source="embedded"),)))
    return Routing(catalog, ScriptedBinder(model), TickClock())
