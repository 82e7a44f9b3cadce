"""`dos credits refund` gives back a turn's cost (never more than it was debited) and the skill's budget counts
it; `dos credits adjust` corrects the balance either way, with a reason."""

from __future__ import annotations

import json

from tests.support.fake_provider import FakeProvider
from tests.support.models_yaml import fake_models_yaml, write_models_yaml
from tests.support.skillfiles import write_skill


def test_a_refund_gives_back_a_turns_cost_once_and_the_budget_counts_it(dos, dos_home, tmp_path):
    write_skill(tmp_path / ".dos" / "skills", "ask")
    with FakeProvider({"cloud-us": ["ok"]}) as server:
        write_models_yaml(dos_home, fake_models_yaml(server.url))
        assert dos("credits", "grant", "1").code == 0
        assert dos("budget", "set", "--skill", "ask", "--period", "day", "0.5").code == 0
        turn = json.loads(dos("run", "ask", "--model", "cloud-us", "--json", "hello").out)["turn_id"]
    assert json.loads(dos("credits", "--json").out)["balance"] == 1_000_000 - 9  # 5 + 2 tokens at $1/M, $2/M

    partial = dos("credits", "refund", turn, "0.000004", "--key", "r-1", "--note", "bad answer")
    assert partial.code == 0 and "refunded 0.000004" in partial.out
    assert "already refunded" in dos("credits", "refund", turn, "0.000004", "--key", "r-1").out
    assert dos("credits", "refund", turn, "0.000006").code == 2  # only 0.000005 is left
    rest = json.loads(dos("credits", "refund", turn, "--json").out)
    assert rest["amount"] == 5 and rest["skill"] == "ask" and rest["turn_id"] == turn and rest["balance"] == 1_000_000
    nothing = dos("credits", "refund", turn)
    assert nothing.code == 2 and "0.00 left to refund" in nothing.err
    [budget] = json.loads(dos("budget", "list", "--json").out)
    assert budget["spent"] == "0.00"  # the debit and its refunds cancel out
    assert dos("credits", "refund", "01NOSUCHTURN").code == 2


def test_an_adjustment_moves_the_balance_either_way_and_must_say_why(dos):
    assert dos("credits", "grant", "2").code == 0
    down = dos("credits", "adjust", "-0.75", "--note", "provider invoice")
    assert down.code == 0 and "-0.75" in down.out and "balance 1.25" in down.out
    assert dos("credits", "adjust", "0.5", "--note", "goodwill").code == 0
    assert json.loads(dos("credits", "--json").out)["balance_credits"] == "1.75"
    assert dos("credits", "adjust", "1").code == 2  # no --note
    assert dos("credits", "adjust", "0", "--note", "x").code == 2
    kinds = [e["kind"] for e in json.loads(dos("ledger", "--json").out)]
    assert kinds == ["grant", "adjust", "adjust"]
