"""Recall policy: which past events a turn is offered as context, within a token budget.

Earlier turns of the same conversation come first (as chat messages, newest kept first), then events
related to the prompt (full-text matches, best first) as a note in the system prompt. Which events match is
the memory adapter's business; what fits and how it is shown is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dos.core.domain import Event, TurnSummary
from dos.core.ports import MemoryRecall

CHARS_PER_TOKEN = 4
BUDGET_TOKENS = 600
HISTORY_SHARE = 0.6  # of the budget, at most, for the conversation so far
HISTORY_TURNS = 8
RELATED_EVENTS = 12
EXCERPT_CHARS = 400


def estimate_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


@dataclass(frozen=True)
class Recalled:
    """What recall adds to a turn: the conversation so far and related events."""

    history: list[TurnSummary] = field(default_factory=list)
    related: list[Event] = field(default_factory=list)

    @property
    def messages(self) -> list[dict[str, str]]:
        out = []
        for turn in self.history:
            out.append({"role": "user", "content": turn.prompt})
            if turn.response:
                out.append({"role": "assistant", "content": turn.response})
        return out

    @property
    def note(self) -> str:
        """The related events, as a block for the system prompt ('' when there are none)."""
        if not self.related:
            return ""
        lines = [f"- [{e.ts[:10]} {e.kind}] {_excerpt(e.text)}" for e in self.related]
        return "Possibly relevant memory from earlier conversations (may be outdated):\n" + "\n".join(lines)

    @property
    def tokens(self) -> int:
        return sum(estimate_tokens(m["content"]) for m in self.messages) + estimate_tokens(self.note)

    @property
    def summary(self) -> str:
        """What was recalled, in lines for the user (`dos run --show-context`)."""
        lines = [f"context: {len(self.history)} earlier turn(s), {len(self.related)} related event(s), "
                 f"~{self.tokens} tokens"]
        lines += [f"  turn {t.turn_id}: {' '.join(t.prompt.split())[:100]}" for t in self.history]
        lines += [f"  {e.kind} {e.id}: {' '.join(e.text.split())[:100]}" for e in self.related]
        return "\n".join(lines) + "\n"


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def recall(memory: MemoryRecall, text: str, session_id: str, turn_id: str, budget: int = BUDGET_TOKENS) -> Recalled:
    """The context for a turn: this session's latest turns, then related events, as many as fit `budget`."""
    history: list[TurnSummary] = []
    used = 0
    for turn in reversed(memory.session_turns(session_id, HISTORY_TURNS, exclude_turn=turn_id)):
        cost = estimate_tokens(turn.prompt) + estimate_tokens(turn.response or "")
        if used + cost > budget * HISTORY_SHARE:
            break
        history.insert(0, turn)
        used += cost
    seen = {t.turn_id for t in history}
    related: list[Event] = []
    for event in memory.related(text, RELATED_EVENTS, exclude_turn=turn_id):
        cost = estimate_tokens(_excerpt(event.text)) + 8  # the line's date and kind
        if event.turn_id in seen or not event.text.strip() or used + cost > budget:
            continue
        related.append(event)
        used += cost
    return Recalled(history, related)
