"""In-memory fakes of the core's ports, for testing use cases without any adapter."""

from __future__ import annotations

from collections.abc import Iterator

from dos.core.domain import Chunk, Event, Skill, SkillInfo, TurnSummary, Usage
from dos.core.errors import UnknownSkill


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


class TickClock:
    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return 1_700_000_000.0 + self.t

    def monotonic(self) -> float:
        self.t += 0.5
        return self.t
