"""16 processes spending at once against a budget that covers only part of their calls: reserve-then-settle
inside BEGIN IMMEDIATE keeps the total under the budget, loses and doubles no debit, and the balance is the sum
of the entries."""

from __future__ import annotations

import multiprocessing
from collections import Counter

from dos.adapters.store.sqlite_ledger import SqliteLedger
from dos.adapters.store.sqlite_memory import SqliteMemory
from dos.core.domain import TurnRequest, Usage
from dos.core.errors import BudgetExceeded
from tests.adapters.store.test_ledger_store import CHEAP, PricedBinder, runner

PROCESSES, CALLS = 16, 4
BUDGET = 2_000  # µ: each call may cost up to ~211 µ and costs 140 µ, so about 14 of the 64 calls fit


def spend(path: str, start, out) -> None:  # noqa: ANN001 - multiprocessing objects
    memory = SqliteMemory(__import__("pathlib").Path(path))
    ledger = SqliteLedger(memory)
    run = runner(ledger, CHEAP, binder=PricedBinder(usage=Usage(100, 20)), memory=memory)
    start.wait()
    ok, refused = [], 0
    for _ in range(CALLS):
        try:
            ok.append(run.run(TurnRequest("ask", "hi", max_tokens=100, recall=False)).turn_id)
        except BudgetExceeded:
            refused += 1
    memory.close()
    out.put((ok, refused))


def test_sixteen_processes_never_overspend_a_partial_budget(tmp_path):
    path = tmp_path / "memory.db"
    setup = SqliteLedger(SqliteMemory(path))
    setup.set_budget("all", "", "day", BUDGET)
    setup.grant(10_000, key="start")
    setup.memory.close()

    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=spend, args=(str(path), start, out)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    start.set()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    served = [t for ok, _ in results for t in ok]
    refused = sum(r for _, r in results)
    assert len(served) + refused == PROCESSES * CALLS
    assert served and refused  # the budget covered part of the calls, not all, not none

    ledger = SqliteLedger(SqliteMemory(path))
    debits = ledger.entries(kinds=("debit",))
    spent = -sum(d["amount"] for d in debits)
    assert spent <= BUDGET
    assert Counter(d["turn_id"] for d in debits) == Counter(served)  # one debit per served call: none lost or doubled
    assert all(d["amount"] == -140 for d in debits)
    rows = ledger.db.execute("SELECT amount FROM ledger").fetchall()
    assert ledger.balance() == sum(r[0] for r in rows) == 10_000 - spent
    assert ledger.held() == 0  # every hold settled
    holds = ledger.entries(kinds=("hold",))
    assert {d["ref"] for d in debits} == {h["id"] for h in holds}
