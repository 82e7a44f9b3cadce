"""A budget attack of issue 25 through `dos run`: a priced stream of long words whose characters / 4 pass
`--max-tokens` while the provider counts it within them is not cut, and a held call tells the provider the output
it was held for. Real LiteLLM Router, a scripted OpenAI-compatible server on 127.0.0.1 that reports its own usage,
real SQLite."""

from __future__ import annotations

import json

from tests.support.fake_provider import FakeProvider
from tests.support.models_yaml import fake_models_yaml, write_models_yaml
from tests.support.skillfiles import write_skill

LONG_WORDS = " ".join(["Pneumonoultramicroscopicsilicovolcanoconiosis"] * 12)  # 563 characters, 140 at chars / 4


def test_a_priced_stream_within_max_tokens_is_not_cut_while_budget_is_left(dos, dos_home, tmp_path):
    write_skill(tmp_path / ".dos" / "skills", "ask")
    # the provider counts the 12 long words as 20 tokens, within --max-tokens 20
    with FakeProvider({"cloud-us": ["ok"]}, reply=LONG_WORDS, usage=lambda body: (30, 20)) as server:
        write_models_yaml(dos_home, fake_models_yaml(server.url))
        assert dos("budget", "set", "--period", "total", "1").code == 0
        run = dos("run", "ask", "--model", "cloud-us", "--max-tokens", "20", "--json", "hello")
        assert server.bodies[0]["max_tokens"] == 20
    assert run.code == 0, run.err
    assert json.loads(run.out)["text"].split() == LONG_WORDS.split()
    [debit] = [e for e in json.loads(dos("ledger", "--json").out) if e["kind"] == "debit"]
    assert (debit["amount"], debit["note"], debit["cost_source"]) == (-(30 * 1 + 20 * 2), "", "catalog")


def test_a_held_call_tells_the_provider_the_output_it_was_held_for(dos, dos_home, tmp_path):
    """No --max-tokens: the hold assumes 4,096 output tokens, so the provider is told to stop there."""
    write_skill(tmp_path / ".dos" / "skills", "ask")
    with FakeProvider({"cloud-us": ["ok"]}) as server:
        write_models_yaml(dos_home, fake_models_yaml(server.url))
        assert dos("budget", "set", "--period", "day", "1").code == 0
        assert dos("run", "ask", "--model", "cloud-us", "hello").code == 0
        assert dos("budget", "clear").code == 0
        assert dos("run", "ask", "--model", "cloud-us", "hello").code == 0
        assert server.bodies[0]["max_tokens"] == 4096
        assert "max_tokens" not in server.bodies[1]  # no budget binds: the provider's own default
