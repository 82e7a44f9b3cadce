"""The credit ledger on real SQLite: idempotent entries, append-only triggers, exact arithmetic, derived balances,
budgets, the guard (fit, hold, cut, settle) on a fake priced model."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dos.adapters.store.sqlite_ledger import SqliteLedger
from dos.adapters.store.sqlite_memory import SqliteMemory
from dos.core.domain import Chunk, Skill, TurnRequest, Usage
from dos.core.errors import BudgetCut, BudgetExceeded, StorageError, UsageError
from dos.core.routing.ledger import (
    MAX_TOKEN_BYTES,
    MICRO,
    Budget,
    Charge,
    Credits,
    Spending,
    cost_to_micro,
    format_amount,
    parse_amount,
    price_micro,
    worst_case,
)
from dos.core.routing.policy import ModelEntry, RouteDecision, RouteRequest, Routing, decide
from dos.core.turn.runner import TurnRunner
from tests.support.fakes import FakeCatalog, FakeSkills, TickClock

CHEAP = ModelEntry("cheap", sovereignty="us", input_price=1.0, output_price=2.0, quality=1)
DEAR = ModelEntry("dear", sovereignty="us", input_price=10.0, output_price=30.0, quality=9)
LOCAL = ModelEntry("local/smollm2", sovereignty="local", input_price=0.0, output_price=0.0, source="embedded")


def open_ledger(path) -> SqliteLedger:
    return SqliteLedger(SqliteMemory(path))


@pytest.fixture
def ledger(tmp_path) -> SqliteLedger:
    return open_ledger(tmp_path / "memory.db")


# -- amounts -----------------------------------------------------------------------------------------------


def test_amounts_are_exact_micro_credits():
    assert parse_amount("2.50") == 2_500_000
    assert parse_amount("$0.000001") == 1
    assert parse_amount(3) == 3 * MICRO
    assert parse_amount("-1.5", negative=True) == -1_500_000
    for bad in ("1.0000001", "abc", "", "nan", "inf", "-1", True):
        with pytest.raises(UsageError):
            parse_amount(bad)
    assert format_amount(2_500_000) == "2.50"
    assert format_amount(123) == "0.000123"
    assert format_amount(-1_250_000) == "-1.25"
    assert format_amount(10 * MICRO, sign=True) == "+10.00"
    # $/M tokens x tokens = micro-credits, exactly: 0.1 + 0.2 never drifts
    assert price_micro(0.1, 0.2, 1, 1) == 1  # 0.3 µ rounds up to 1 µ: never under-charged
    assert price_micro(0.15, 0.6, 1_000_000, 1_000_000) == 750_000
    assert cost_to_micro(0.1 + 0.2) == 300_001  # the float's excess is rounded up, not lost
    assert cost_to_micro(0.000_003) == 3
    assert cost_to_micro(None) == 0


@given(st.integers(0, 10**12).map(lambda m: Decimal(m) / MICRO))
def test_parse_and_format_round_trip(credits):
    micro = parse_amount(str(credits))
    assert Decimal(micro) / MICRO == credits
    assert parse_amount(format_amount(micro)) == micro


def test_worst_case_prices_every_allowed_output_token():
    assert worst_case(CHEAP, 1000, 500) == 1000 * 1 + 500 * 2
    assert worst_case(DEAR, 1000, None) == 1000 * 10 + 4096 * 30  # no cap: DEFAULT_MAX_OUTPUT
    assert worst_case(LOCAL, 10**6, 10**6) == 0
    assert worst_case(ModelEntry("mystery", sovereignty="us"), 10, 10) is None


# -- the store ---------------------------------------------------------------------------------------------


def test_a_retried_write_never_charges_twice(ledger):
    first = ledger.grant(5 * MICRO, key="invoice-1")
    again = ledger.grant(5 * MICRO, key="invoice-1")
    assert first["written"] and not again["written"] and first["id"] == again["id"]
    ledger.debit("debit:E1", -1234, None, {"model": "cheap"})
    ledger.debit("debit:E1", -1234, None, {"model": "cheap"})
    assert ledger.balance() == 5 * MICRO - 1234
    assert [e["kind"] for e in ledger.entries()] == ["grant", "debit"]


def test_credits_check_what_a_person_writes_by_hand_before_the_ledger_sees_it(ledger):
    credits = Credits(ledger)
    granted = credits.grant("2.50", note="March", key="inv-1")
    assert granted["written"] and granted["amount"] == 2_500_000 and granted["balance"] == 2_500_000
    assert not credits.grant("2.50", key="inv-1")["written"]  # the same key adds nothing
    for bad, why in [(lambda: credits.grant("0"), "more than 0"), (lambda: credits.grant("-1"), "negative"),
                     (lambda: credits.adjust("-1", "  "), "--note"), (lambda: credits.adjust("0", "why"), "non-zero"),
                     (lambda: credits.set_budget("1", "year"), "--period"),
                     (lambda: credits.set_budget("1", "day", skill="a", pack="b"), "not several"),
                     (lambda: credits.clear_budget("year"), "--period")]:
        with pytest.raises(UsageError, match=why):
            bad()
    assert credits.adjust("-1.25", "invoice")["balance"] == 1_250_000
    assert credits.set_budget("1", "week", pack="writing") == Budget("pack", "writing", "week", MICRO)
    assert credits.set_budget("2", None) == Budget("all", "", "month", 2 * MICRO)  # a month unless told
    assert credits.clear_budget(None, pack="writing") == 1 and [b.scope for b in ledger.budgets()] == ["all"]
    assert len(ledger.entries(kinds=("grant", "adjust"))) == 2


def test_triggers_and_checks_keep_the_ledger_append_only_and_signed(ledger):
    ledger.grant(MICRO)
    db = ledger.db
    for sql in ("UPDATE ledger SET amount = 99", "DELETE FROM ledger", "UPDATE ledger SET note = 'x'"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql)
    with pytest.raises(StorageError, match="CHECK constraint"):  # a debit that adds credit
        ledger.debit("debit:bad", 5, None, {})
    with pytest.raises(UsageError):  # a negative grant
        ledger.record("grant", -5)
    with pytest.raises(sqlite3.IntegrityError):  # a float amount
        db.execute("INSERT INTO ledger (id, ts, kind, amount, key) VALUES ('x', 't', 'adjust', 1.5, 'k')")
    assert ledger.balance() == MICRO


ENTRY = st.one_of(
    st.tuples(st.just("grant"), st.integers(0, 10**9)),
    st.tuples(st.just("refund"), st.integers(0, 10**7)),
    st.tuples(st.just("adjust"), st.integers(-10**8, 10**8)),
    st.tuples(st.just("debit"), st.integers(-10**7, 0)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(ENTRY, st.booleans()), max_size=30))
def test_the_balance_always_equals_the_sum_of_entries(tmp_path_factory, entries):
    ledger = open_ledger(tmp_path_factory.mktemp("l") / "memory.db")
    expected = Decimal(0)
    for n, ((kind, amount), retry) in enumerate(entries):
        for _ in range(2 if retry else 1):  # a retry with the same key changes nothing
            if kind == "debit":
                ledger.debit(f"debit:{n}", amount, None, {})
            else:
                ledger.record(kind, amount, key=f"{kind}:{n}")
        expected += Decimal(amount) / MICRO
    rows = ledger.db.execute("SELECT amount FROM ledger").fetchall()
    assert ledger.balance() == sum(r[0] for r in rows) == int(expected * MICRO)
    assert len(rows) == len(entries)
    ledger.memory.close()


def test_spend_is_derived_per_period_skill_and_pack(ledger):
    ledger.set_budget("all", "", "day", 2 * MICRO)
    ledger.set_budget("skill", "ask", "month", MICRO)
    ledger.debit("d1", -300_000, None, {"skill": "ask", "pack": "dev", "model": "cheap"})
    ledger.debit("d2", -200_000, None, {"skill": "other", "pack": "dev", "model": "dear"})
    standings = {(s.budget.scope, s.budget.period): s for s in ledger.standings(Charge("ask", "dev"))}
    assert standings[("all", "day")].spent == 500_000
    assert standings[("skill", "month")].spent == 300_000 and standings[("skill", "month")].left == 700_000
    summary = ledger.summary()
    assert summary["spend"] == {"day": 500_000, "week": 500_000, "month": 500_000}
    assert [m["name"] for m in summary["top_models"]] == ["cheap", "dear"]
    assert summary["daily"][-1]["spent"] == 500_000
    assert not summary["granted"]  # no grant yet: the balance does not bind
    assert all(s.budget is not None for s in ledger.standings(Charge("ask")))


# -- the guard on a routed call ------------------------------------------------------------------------------


class PricedStream:
    """A bound route: streams `pieces`, then usage and the catalog price's cost (as litellm_router does)."""

    def __init__(self, decision: RouteDecision, pieces: list[str], usage: Usage):
        self.decision, self.pieces, self.usage = decision, pieces, usage

    def stream(self, model, messages, *, max_tokens, temperature) -> Iterator[Chunk]:
        entry = self.decision.chain[0]
        for piece in self.pieces:
            yield Chunk(text=piece, model=entry.name)
        cost = (entry.input_price * self.usage.prompt_tokens + entry.output_price * self.usage.completion_tokens) / 1e6
        yield Chunk(finish_reason="stop", usage=self.usage, cost=cost, model=entry.name)

    def report(self):
        return {"attempts": [], "cost_source": "catalog"}


class PricedBinder:
    def __init__(self, pieces=("hello ", "world"), usage=Usage(100, 20)):
        self.pieces, self.usage = list(pieces), usage

    def bind(self, decision):
        return PricedStream(decision, self.pieces, self.usage)


def skill(name="ask", **dos) -> Skill:
    return Skill(name, "d", "Be brief.", f"/x/{name}/SKILL.md", "user", {"dos": dos} if dos else {})


def runner(ledger, *entries, binder=None, skills=None, memory=None):
    routing = Routing(FakeCatalog(*entries), binder or PricedBinder(), TickClock(),
                      {"prefer": "best"}, spending=Spending(ledger))
    return TurnRunner(skills or FakeSkills(skill()), routing, memory, TickClock())


def test_a_routed_call_debits_its_catalog_cost_linked_to_turn_and_route_event(tmp_path):
    memory = SqliteMemory(tmp_path / "memory.db")
    ledger = SqliteLedger(memory)
    result = runner(ledger, CHEAP, memory=memory).run(TurnRequest("ask", "hi", max_tokens=50))
    debit = ledger.entries(kinds=("debit",))[0]
    assert debit["amount"] == -(100 * 1 + 20 * 2)  # µ: 100 tokens at $1/M, 20 at $2/M
    assert (debit["prompt_tokens"], debit["completion_tokens"], debit["cost_source"]) == (100, 20, "catalog")
    assert debit["turn_id"] == result.turn_id and debit["skill"] == "ask" and debit["model"] == "cheap"
    route = memory.db.execute("SELECT id, turn_id FROM events WHERE kind = 'route'").fetchone()
    assert debit["route_event_id"] == route["id"] and route["turn_id"] == result.turn_id
    hold = ledger.entries(kinds=("hold",))[0]
    assert debit["ref"] == hold["id"] and ledger.held() == 0


def test_a_budget_routes_to_a_cheaper_model_or_refuses_in_one_line(ledger):
    ledger.set_budget("all", "", "day", 20_000)  # 0.02 credits a day
    run = runner(ledger, DEAR, CHEAP)
    result = run.run(TurnRequest("ask", "hi", max_tokens=1000, recall=False))
    assert result.model == "cheap"  # dear's worst case (≥ 30,000 µ) is over what is left
    ledger.set_budget("all", "", "day", 1_000)
    with pytest.raises(BudgetExceeded) as caught:
        run.run(TurnRequest("ask", "hi", max_tokens=1000, recall=False))
    message = caught.value.message
    assert caught.value.exit_code == 14 and "\n" not in message
    assert "daily budget 0.001" in message and "left" in message and "dos budget set --period day" in message
    assert len(ledger.entries(kinds=("debit",))) == 1  # the refused call wrote nothing


def test_the_balance_binds_once_credits_are_granted(ledger):
    ledger.grant(1_000, key="g")
    with pytest.raises(BudgetExceeded, match=r"credit balance has 0.001 left.*dos credits grant"):
        runner(ledger, CHEAP).run(TurnRequest("ask", "hi", max_tokens=1000, recall=False))


def test_skill_and_pack_file_budgets_bind(ledger):
    strict = skill("ask", budget={"day": 0.000001})
    with pytest.raises(BudgetExceeded, match=r"skill 'ask' daily budget 0.000001.*metadata.dos.budget"):
        runner(ledger, CHEAP, skills=FakeSkills(strict)).run(TurnRequest("ask", "hi", recall=False))
    packed = Skill("ask", "d", "b", "/p/ask/SKILL.md", "pack:dev")
    spending = Spending(ledger, lambda name: {"week": "0.000002"} if name == "dev" else None)
    guard = spending.guard(packed)
    assert guard.charge.budgets == (Budget("pack", "dev", "week", 2, "pack dev"),)


def test_a_free_local_model_is_debited_zero_with_its_tokens(ledger):
    ledger.grant(1, key="g")  # even a near-empty balance lets the embedded model run
    binder = PricedBinder(usage=Usage(57, 8))
    runner(ledger, LOCAL, binder=binder).run(TurnRequest("ask", "hi", recall=False))
    debit = ledger.entries(kinds=("debit",))[0]
    assert (debit["amount"], debit["prompt_tokens"], debit["completion_tokens"]) == (0, 57, 8)
    assert not ledger.entries(kinds=("hold",))  # nothing to reserve


class CountingStream(PricedStream):
    """A provider that reports its running count with every piece (usage as it goes), and ignores max_tokens."""

    def stream(self, model, messages, *, max_tokens, temperature) -> Iterator[Chunk]:
        entry = self.decision.chain[0]
        for n, piece in enumerate(self.pieces, 1):
            yield Chunk(text=piece, usage=Usage(self.usage.prompt_tokens, 200 * n), model=entry.name)


def test_a_stream_the_provider_counts_over_the_hold_is_cut_and_keeps_the_partial_answer(tmp_path):
    memory = SqliteMemory(tmp_path / "memory.db")
    ledger = SqliteLedger(memory)
    ledger.set_budget("all", "", "total", MICRO)
    binder = PricedBinder(pieces=["word " * 200] * 400, usage=Usage(20, 0))
    binder.bind = lambda decision: CountingStream(decision, binder.pieces, binder.usage)
    run = runner(ledger, DEAR, binder=binder, memory=memory)
    seen: list[str] = []
    with pytest.raises(BudgetCut, match="stopped at the budget limit: the provider counts"):
        run.run(TurnRequest("ask", "hi", max_tokens=1000, recall=False), on_text=seen.append)
    assert len(seen) == 5  # the 6th piece brings the provider's count to 1,200 output tokens: over the 1,000 held
    response = memory.db.execute("SELECT text, data FROM events WHERE kind = 'response'").fetchone()
    assert response["text"] == "".join(seen) and '"complete":false' in response["data"]
    debit = ledger.entries(kinds=("debit",))[0]
    hold = ledger.entries(kinds=("hold",))[0]
    assert -debit["amount"] == hold["reserved"] < 20 * 10 + 1200 * 30  # charged the hold, not the overage
    assert debit["note"].startswith("partial; capped at the hold") and debit["completion_tokens"] == 1200
    assert ledger.held() == 0 and ledger.balance() == debit["amount"]


def test_a_runaway_stream_with_no_usage_is_cut_far_past_its_allowance_never_before(tmp_path):
    memory = SqliteMemory(tmp_path / "memory.db")
    ledger = SqliteLedger(memory)
    ledger.set_budget("all", "", "total", MICRO)
    piece = "x" * 4096
    run = runner(ledger, DEAR, binder=PricedBinder(pieces=[piece] * 300), memory=memory)
    seen: list[str] = []
    with pytest.raises(BudgetCut, match="went on past the 16 output tokens"):
        run.run(TurnRequest("ask", "hi", max_tokens=16, recall=False), on_text=seen.append)
    assert len("".join(seen)) == 16 * MAX_TOKEN_BYTES  # all that fits 16 tokens of the longest kind; the next is cut
    debit = ledger.entries(kinds=("debit",))[0]
    assert -debit["amount"] == ledger.entries(kinds=("hold",))[0]["reserved"] and "capped" in debit["note"]


def test_stale_holds_of_dead_processes_are_released(tmp_path):
    ledger = open_ledger(tmp_path / "memory.db")
    ledger.set_budget("all", "", "total", 10_000)
    with ledger.memory.write() as db:
        ledger._insert(db, "hold", 0, "hold:dead", {}, reserved=9_000)
    # a hold written by a pid that no longer exists
    with ledger.memory.write() as db:
        db.execute("INSERT INTO ledger (id, ts, kind, amount, reserved, key, pid) "
                   "VALUES ('H2', '2020-01-01T00:00:00.000Z', 'hold', 0, 500, 'hold:dead2', 2147480000)")
    assert ledger.memory.db.execute("SELECT SUM(reserved) FROM ledger_open_holds").fetchone()[0] == 9_500
    reopened = open_ledger(tmp_path / "memory.db")
    assert reopened.held() == 9_000  # the dead one released; ours (this pid) still held
    assert [e["ref"] for e in reopened.entries(kinds=("release",))] == ["H2"]


def test_route_decision_keeps_its_constraints_when_narrowed(ledger):
    ledger.set_budget("all", "", "day", 20_000)
    decision = decide([DEAR, CHEAP], RouteRequest(prefer="best"))
    narrowed = Spending(ledger).guard(skill()).fit(decision, [{"role": "user", "content": "hi"}], 1000)
    assert narrowed.names == ["cheap"]
    dropped = next(v for v in narrowed.verdicts if v.name == "dear")
    assert not dropped.kept and dropped.constraint == "budget" and "daily budget" in dropped.reason
