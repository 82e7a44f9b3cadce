"""The budget attacks of issue 25, replayed: parallel calls on CJK text (a prompt that is many more tokens than
characters / 4) against a total budget, and the model's own tokenizer where LiteLLM ships one. Real LiteLLM Router,
a scripted OpenAI-compatible server on 127.0.0.1 that reports its own usage, real SQLite. (The priced stream of
long words through `dos run`: tests/cli/test_ledger_attack.py.)"""

from __future__ import annotations

import threading

from dos.adapters.models.litellm_router import LiteLLMRouteBinder
from dos.adapters.store.sqlite_ledger import SqliteLedger
from dos.adapters.store.sqlite_memory import SqliteMemory
from dos.core.domain import TurnRequest
from dos.core.errors import BudgetExceeded
from dos.core.routing.ledger import MICRO, price_micro
from dos.core.routing.policy import ModelEntry
from tests.adapters.store.test_ledger_store import runner
from tests.support.fake_provider import FakeProvider

CJK = "敏捷的棕色狐狸跳过了懒狗。我们在东京和北京之间旅行，讨论语言模型的预算。"
PRICE = 100.0  # USD per million tokens, input and output: 100 µ a token


def chars_as_tokens(body: dict) -> tuple[int, int]:
    """A provider that counts one token per character (what real tokenizers give CJK text, or more) plus its
    framing, and 16 output tokens."""
    return sum(len(str(m.get("content") or "")) + 4 for m in body["messages"]) + 3, 16


def test_sixteen_parallel_cjk_calls_never_overspend_a_total_budget(tmp_path):
    path = tmp_path / "memory.db"
    setup = SqliteLedger(SqliteMemory(path))
    setup.set_budget("all", "", "total", 3 * MICRO)
    setup.memory.close()
    text = (CJK * 200)[:6000]  # 6,000 characters: 1,500 tokens at characters / 4, 6,000 and more in truth
    results: list[object] = []
    with FakeProvider({"cloud-cjk": ["ok"]}, reply="好的", usage=chars_as_tokens) as server:
        entry = ModelEntry("cloud-cjk", params={"model": "openai/cloud-cjk", "api_base": server.url,
                                                "api_key": "sk-test-not-a-key"},
                           sovereignty="us", input_price=PRICE, output_price=PRICE)
        start = threading.Barrier(16)

        def call() -> None:
            memory = SqliteMemory(path)
            run = runner(SqliteLedger(memory), entry, memory=memory,
                         binder=LiteLLMRouteBinder({"num_retries": 0, "timeout": 30}))
            start.wait()
            try:
                results.append(run.run(TurnRequest("ask", text, max_tokens=16, recall=False)).turn_id)
            except BudgetExceeded:
                results.append(None)
            finally:
                memory.close()

        threads = [threading.Thread(target=call) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        sent = len(server.requests)
    ledger = SqliteLedger(SqliteMemory(path))
    debits = ledger.entries(kinds=("debit",))
    spent = -sum(d["amount"] for d in debits)
    served = [r for r in results if r]
    assert len(results) == 16 and served and len(debits) == len(served) == sent
    assert spent <= 3 * MICRO, f"spent {spent / MICRO:.3f} of a total budget of 3.00"
    for debit in debits:  # the ledger charged what the provider counted: nothing was capped or estimated
        assert debit["amount"] == -price_micro(PRICE, PRICE, debit["prompt_tokens"], debit["completion_tokens"])
        assert debit["cost_source"] == "catalog" and debit["prompt_tokens"] > 6000
    assert ledger.held() == 0


def test_the_models_own_tokenizer_counts_where_litellm_ships_one_and_bytes_bound_the_rest():
    from dos.adapters.models.litellm_tokens import count_tokens
    from dos.core.routing.ledger import text_tokens, utf8_len

    text = CJK * 20
    gpt = ModelEntry("gpt-4o", params={"model": "openai/gpt-4o"}, sovereignty="us", input_price=2.5)
    counted = count_tokens(gpt, text)
    assert counted is not None and len(text) / 4 < counted < utf8_len(text)
    own_server = ModelEntry("mine", params={"model": "openai/gpt-4o", "api_base": "http://127.0.0.1:9/v1"})
    claude = ModelEntry("claude", params={"model": "anthropic/claude-sonnet-4"})
    assert count_tokens(own_server, text) is None and count_tokens(claude, text) is None
    assert text_tokens(claude, text, count_tokens) == utf8_len(text)
