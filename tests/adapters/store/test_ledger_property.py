"""The ledger's promise under attack: concurrent spenders (threads, and once processes, on one real SQLite file)
with adversarial prompts (CJK, emoji, long words) and adversarial providers (counting one token a byte, reporting
nothing, reporting more than they were allowed, streaming past max_tokens) never take a budget or the credit
balance past its limit. Honest providers are charged exactly what they counted."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dos.adapters.store.sqlite_ledger import SqliteLedger
from dos.adapters.store.sqlite_memory import SqliteMemory
from dos.core.domain import Chunk, TurnRequest, Usage
from dos.core.errors import BudgetCut, BudgetExceeded
from dos.core.routing.ledger import MICRO, price_micro, utf8_len
from dos.core.routing.policy import ModelEntry
from tests.adapters.store.test_ledger_store import runner

PRICED = ModelEntry("priced", sovereignty="us", input_price=40.0, output_price=120.0)
WORDS = st.sampled_from(["敏捷的棕色狐狸", "東京都の天気は晴れ", "안녕하세요 세계", "😀🎉👩‍👩‍👧‍👦🏳️‍🌈",
                         "Pneumonoultramicroscopicsilicovolcanoconiosis", "a" * 300, "ــــــ", "\u200b\u200d",
                         "plain words here"])
PROMPTS = st.lists(WORDS, min_size=1, max_size=60).map(" ".join)
MODES = ("bytes", "chars", "silent", "liar", "runaway")


class Adversary:
    """A provider: streams `output`, then reports usage by `mode` — `bytes` (one token per UTF-8 byte of every
    message plus framing: the most a byte-level tokenizer can count), `chars`, `silent` (no usage at all),
    `liar` (10x the bytes, and output past max_tokens), `runaway` (ignores max_tokens, streams on, no usage)."""

    def __init__(self, mode: str, output: str):
        self.mode, self.output = mode, output

    def bind(self, decision):
        return self

    def stream(self, model, messages, *, max_tokens, temperature) -> Iterator[Chunk]:
        sent = [str(m.get("content") or "") for m in messages]
        prompt = {"bytes": sum(utf8_len(t) + 4 for t in sent) + 3, "chars": sum(len(t) for t in sent),
                  "liar": 10 * sum(utf8_len(t) for t in sent)}.get(self.mode, 0)
        pieces = [self.output] * (400 if self.mode == "runaway" else 1)
        for piece in pieces:
            yield Chunk(text=piece, model=PRICED.name)
        completion = {"bytes": min(utf8_len(self.output), max_tokens), "chars": min(len(self.output), max_tokens),
                      "liar": 5 * max_tokens}.get(self.mode, 0)
        usage = Usage(prompt, completion)
        cost = (PRICED.input_price * prompt + PRICED.output_price * completion) / 1e6
        yield Chunk(finish_reason="stop", usage=usage, cost=cost, model=PRICED.name)

    def report(self):
        return {"attempts": [], "cost_source": "catalog"}


def spend(path: Path, calls: list[tuple[str, str, str, int]], start: threading.Barrier | None = None) -> None:
    memory = SqliteMemory(path)
    ledger = SqliteLedger(memory)
    if start is not None:
        start.wait()
    for text, mode, output, max_tokens in calls:
        run = runner(ledger, PRICED, binder=Adversary(mode, output), memory=memory)
        try:
            run.run(TurnRequest("ask", text, max_tokens=max_tokens, recall=False))
        except (BudgetExceeded, BudgetCut):
            pass
    memory.close()


def overspend(path: Path) -> int:
    """Micro-credits past any limit (a budget's or the balance): the measure whose goal is 0."""
    ledger = SqliteLedger(SqliteMemory(path))
    over = sum(max(0, -s["left_micro"]) for s in ledger.budget_list())
    over += max(0, -ledger.balance()) if ledger.summary()["granted"] else 0
    assert ledger.held() == 0  # every hold settled
    holds = {h["id"]: h["reserved"] for h in ledger.entries(kinds=("hold",))}
    for debit in ledger.entries(kinds=("debit",)):
        assert -debit["amount"] <= holds[debit["ref"]]  # never charged above the hold
        honest = debit["note"] == "" and debit["cost_source"] == "catalog"
        if honest:  # what an honest provider counted is what the ledger charged
            assert -debit["amount"] == price_micro(40.0, 120.0, debit["prompt_tokens"], debit["completion_tokens"])
    ledger.memory.close()
    return over


CALL = st.tuples(PROMPTS, st.sampled_from(MODES), PROMPTS, st.integers(1, 400))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.lists(CALL, min_size=1, max_size=3), min_size=2, max_size=6),
       st.integers(1_000, 400_000), st.integers(1_000, 400_000), st.none() | st.integers(0, 600_000))
def test_concurrent_adversarial_spenders_never_pass_a_limit(tmp_path_factory, spenders, total, daily, grant):
    path = tmp_path_factory.mktemp("ledger") / "memory.db"
    setup = SqliteLedger(SqliteMemory(path))
    setup.set_budget("all", "", "total", total)
    setup.set_budget("skill", "ask", "day", daily)
    if grant is not None:
        setup.grant(grant, key="start")
    setup.memory.close()
    start = threading.Barrier(len(spenders))
    threads = [threading.Thread(target=spend, args=(path, calls, start)) for calls in spenders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert overspend(path) == 0


def test_processes_spending_adversarially_at_once_never_pass_a_limit(tmp_path):
    path = tmp_path / "memory.db"
    setup = SqliteLedger(SqliteMemory(path))
    setup.set_budget("all", "", "total", MICRO // 2)
    setup.grant(MICRO // 3, key="start")
    setup.memory.close()
    texts = ["敏捷的棕色狐狸跳过了懒狗" * 40, "😀🎉👩‍👩‍👧‍👦" * 60, "Pneumonoultramicroscopicsilicovolcanoconiosis " * 30]
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=spend, args=(path, [(texts[(i + k) % 3], MODES[(i + k) % len(MODES)], texts[k % 3],
                                                      50 + 40 * k) for k in range(4)]))
             for i in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=180)
        assert p.exitcode == 0
    ledger = SqliteLedger(SqliteMemory(path))
    assert ledger.entries(kinds=("debit",))  # some calls were served: the limits were reached, not avoided
    ledger.memory.close()
    assert overspend(path) == 0
