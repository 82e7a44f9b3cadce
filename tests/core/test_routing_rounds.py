"""A turn with tools streams once per round through the same routed call: each round is held and debited on
its own key, and the route event adds the rounds up."""

from __future__ import annotations

from dos.core.domain import Chunk, Usage
from dos.core.routing.policy import ModelEntry, RouteRequest, RoutedCall, decide
from tests.support.fakes import TickClock

PRICED = ModelEntry("cloud-m", sovereignty="us", input_price=1.0, output_price=2.0)


class OneAnswerPerRound:
    def __init__(self):
        self.calls = 0

    def stream(self, model, messages, *, max_tokens, temperature, **options):
        self.calls += 1
        yield Chunk(text=f"round {self.calls}", model=model)
        yield Chunk(usage=Usage(10 * self.calls, 2), cost=0.001 * self.calls, model=model)

    def report(self):
        return {"attempts": [], "cost_source": "catalog"}


class RecordingGuard:
    def __init__(self):
        self.holds, self.debits = [], []
        self.turn = None

    def reserve(self, chain, messages, max_tokens, key, tools=None):
        self.holds.append(key)
        return max_tokens

    def check(self, entry, usage, output_bytes):
        pass

    def settle(self, key, model, cost, entry, usage, output, complete, source, event_id):
        self.debits.append((key, cost, usage.prompt_tokens, event_id))


def test_each_round_is_debited_once_and_the_event_sums_them():
    guard = RecordingGuard()
    call = RoutedCall(decide([PRICED], RouteRequest()), OneAnswerPerRound(), TickClock(), guard=guard)
    for _ in range(3):
        list(call.stream("cloud-m", [{"role": "user", "content": "hi"}], max_tokens=5, temperature=0))
    keys = [k for k, *_ in guard.debits]
    assert len(set(keys)) == 3 and len(set(guard.holds)) == 3  # no round collapses into another's key
    assert [cost for _, cost, _, _ in guard.debits] == [0.001, 0.002, 0.003]
    assert {event_id for *_, event_id in guard.debits} == {call.event_id}  # all name the one route event
    event = call.event()
    assert event.data["usage"] == {"prompt_tokens": 60, "completion_tokens": 6}
    assert abs(event.data["cost"] - 0.006) < 1e-12
