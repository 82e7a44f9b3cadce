"""`dos credits`, `dos budget`, `dos ledger` and `dos run` under budgets, through the real CLI."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.architecture.test_architecture import HEAVY, modules_loaded_by
from tests.support.fake_provider import FakeProvider
from tests.support.models_yaml import fake_models_yaml, write_models_yaml
from tests.support.skillfiles import write_skill


def test_credits_grant_budget_and_ledger_commands(dos):
    assert dos("credits", "grant", "10", "--note", "March", "--key", "inv-1").code == 0
    again = dos("credits", "grant", "10", "--key", "inv-1")
    assert again.code == 0 and "not added again" in again.out
    bad = dos("credits", "grant", "1.0000001")
    assert bad.code == 2 and bad.err.count("\n") == 1 and "6 decimals" in bad.err
    assert dos("budget", "set", "--period", "day", "2.50").code == 0
    assert dos("budget", "set", "--skill", "summarize", "--period", "week", "1").code == 0
    assert dos("budget", "set", "--period", "year", "1").code == 2
    budgets = json.loads(dos("budget", "list", "--json").out)
    assert [(b["scope"], b["period"], b["limit"]) for b in budgets] == [("all", "day", "2.50"), ("skill", "week", "1.00")]
    info = json.loads(dos("credits", "--json").out)
    assert info["balance"] == 10_000_000 and info["balance_credits"] == "10.00" and info["granted"]
    assert "balance\t10.00" in dos("credits").out  # plain text on a pipe
    rows = list(csv.DictReader(io.StringIO(dos("ledger", "--csv").out)))
    assert [(r["kind"], r["credits"], r["key"], r["note"]) for r in rows] == [("grant", "+10.00", "inv-1", "March")]
    assert dos("budget", "clear", "--skill", "summarize").out.startswith("cleared 1")
    assert len(json.loads(dos("budget", "list", "--json").out)) == 1


@pytest.mark.parametrize("args", [["credits"], ["budget", "list"], ["ledger", "--json"], ["credits", "grant", "1"]])
def test_credit_commands_import_no_model_library(args, dos_home, tmp_path):
    loaded = modules_loaded_by(args, dos_home, tmp_path)
    assert "dos" in loaded and not loaded & set(HEAVY)


def test_a_refused_call_says_which_budget_what_is_left_and_exits_14(dos, dos_home, tmp_path):
    write_skill(tmp_path / ".dos" / "skills", "ask")
    with FakeProvider({"cloud-us": ["ok"]}) as server:
        write_models_yaml(dos_home, fake_models_yaml(server.url))
        assert dos("budget", "set", "--period", "day", "0.000010").code == 0
        refused = dos("run", "ask", "--model", "cloud-us", "--max-tokens", "100", "hello")
        assert server.requests == []  # nothing was sent
    assert refused.code == 14, refused.err
    line = refused.err.strip()
    assert "\n" not in line and "Traceback" not in refused.err
    assert "daily budget 0.00001" in line and "0.00001 left" in line and "dos budget set --period day" in line


def test_a_routed_cloud_call_is_debited_at_the_catalog_price(dos, dos_home, tmp_path):
    write_skill(tmp_path / ".dos" / "skills", "ask")
    with FakeProvider({"cloud-us": ["ok"]}) as server:
        write_models_yaml(dos_home, fake_models_yaml(server.url))
        assert dos("credits", "grant", "1").code == 0
        result = dos("run", "ask", "--model", "cloud-us", "--max-tokens", "50", "--json", "hello")
    assert result.code == 0, result.err
    turn = json.loads(result.out)["turn_id"]
    debits = [e for e in json.loads(dos("ledger", "--json").out) if e["kind"] == "debit"]
    assert len(debits) == 1
    debit = debits[0]
    # the fake provider reports 5 prompt and 2 completion tokens; models.yaml prices them at $1/M and $2/M
    assert (debit["amount"], debit["prompt_tokens"], debit["completion_tokens"]) == (-9, 5, 2)
    assert debit["turn_id"] == turn and debit["model"] == "cloud-us" and debit["cost_source"] == "catalog"
    assert json.loads(dos("credits", "--json").out)["balance"] == 1_000_000 - 9


@pytest.mark.model
def test_the_embedded_model_is_debited_zero_with_its_tokens(dos):
    result = dos("run", "summarize", "--temperature", "0", "--max-tokens", "8", "--json", "The cat sat on the mat.")
    assert result.code == 0, result.err
    debits = [e for e in json.loads(dos("ledger", "--json").out) if e["kind"] == "debit"]
    assert len(debits) == 1
    debit = debits[0]
    assert debit["amount"] == 0 and debit["model"] == "local/smollm2" and debit["cost_source"] == "free"
    assert debit["prompt_tokens"] > 0 and 0 < debit["completion_tokens"] <= 8
    assert debit["turn_id"] == json.loads(result.out)["turn_id"]
