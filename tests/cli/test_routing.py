"""`dos models list|test`, `dos route explain`, `dos stats` as subprocesses on a real DOS_HOME."""

from __future__ import annotations

import json

import pytest

from tests.architecture.test_architecture import HEAVY, modules_loaded_by
from tests.cli.test_routing_router import events
from tests.support.fake_provider import FakeProvider
from tests.support.models_yaml import write_models_yaml
from tests.support.skillfiles import write_skill

SECRET = "sk-proj-" + "k" * 40


def cloud_yaml(url: str) -> str:
    return f"""\
router: {{num_retries: 0, timeout: 2, cooldown_time: 0}}
discover: {{localhost: false}}
model_list:
  - model_name: cloud-eu
    litellm_params: {{model: openai/cloud-eu, api_base: "{url}", api_key: {SECRET}}}
    sovereignty: eu
    quality: 4
    input_price: 1
    output_price: 3
"""


def test_models_list_shows_attributes_reachability_and_provider_names_only(dos, dos_home):
    with FakeProvider() as server:
        write_models_yaml(dos_home, cloud_yaml(server.url))
        listed = dos("models", "list", "--json", env={"MISTRAL_API_KEY": SECRET})
        plain = dos("models", "list", env={"MISTRAL_API_KEY": SECRET})
    assert listed.code == 0, listed.err
    info = json.loads(listed.out)
    rows = {r["name"]: r for r in info["models"]}
    assert rows["cloud-eu"]["reachable"] is True and rows["cloud-eu"]["sovereignty"] == "eu"
    assert rows["cloud-eu"]["api_base"] == server.url
    assert rows["local/smollm2"]["reachable"] is True and rows["local/smollm2"]["source"] == "embedded"
    assert rows["mistral/mistral-small-latest"]["source"] == "env"
    assert info["providers_from_env"] == ["mistral"]
    for out in (listed.out, listed.err, plain.out, plain.err):
        assert SECRET not in out
    assert "cloud-eu\teu\tchat\t1/3\t4" in plain.out
    assert "mistral" in plain.err


def test_route_explain_prints_the_order_and_reasons_without_importing_litellm(dos, dos_home, tmp_path):
    write_skill(tmp_path / ".dos" / "skills", "ask", extra="metadata:\n  dos:\n    route:\n      sovereignty: [eu, local]\n")
    with FakeProvider() as server:
        write_models_yaml(dos_home, cloud_yaml(server.url) + """\
  - model_name: cloud-us
    litellm_params: {model: openai/cloud-us, api_base: "http://127.0.0.1:9/v1"}
    sovereignty: us
""")
        out = dos("route", "explain", "ask", "--prefer", "best")
        data = json.loads(dos("route", "explain", "ask", "--prefer", "best", "--json").out)
        loaded = modules_loaded_by(["route", "explain", "ask"], dos_home, tmp_path)
    assert out.code == 0, out.err
    assert out.out.splitlines() == [
        "kept\tcloud-eu\t#1: highest quality first",
        "kept\tlocal/smollm2\t#2: highest quality first",
        "removed\tcloud-us\tsovereignty us not allowed (allowed: eu, local)",
        "chain\tcloud-eu -> local/smollm2",
    ]
    assert data["chain"] == ["cloud-eu", "local/smollm2"] and data["request"]["sources"] == ["skill", "command line"]  # config.yaml at its defaults adds nothing
    assert not loaded & set(HEAVY)


def test_route_explain_shows_the_models_a_budget_removes(dos, dos_home, tmp_path):
    write_skill(tmp_path / ".dos" / "skills", "ask", extra="metadata:\n  dos:\n    route:\n      prefer: best\n")
    with FakeProvider() as server:
        write_models_yaml(dos_home, cloud_yaml(server.url))
        assert dos("trust").code == 0  # a project skill that prefers the best model may leave the machine
        assert dos("budget", "set", "--skill", "ask", "--period", "day", "0.05").code == 0
        out = dos("route", "explain", "ask", "--max-tokens", "100")
        capped = dos("route", "explain", "ask", "--max-tokens", "100000")
        assert dos("budget", "set", "--skill", "ask", "--period", "day", "0").code == 0
        none_left = dos("route", "explain", "ask", "--model", "cloud-eu", "--max-tokens", "100")
    assert out.code == 0 and "chain\tcloud-eu -> local/smollm2" in out.out  # recall's bound and 100 tokens fit in 0.05
    assert capped.code == 0 and "chain\tlocal/smollm2" in capped.out
    assert "removed\tcloud-eu\tmay cost 0.31" in capped.out and "skill 'ask' daily budget 0.05" in capped.out
    assert none_left.code == 14 and "over budget" in none_left.err and none_left.err.count("\n") == 1
    assert server.requests == []  # explaining never calls a model


@pytest.mark.parametrize("args", [["models", "list"], ["stats"], ["route", "explain", "summarize"]])
def test_router_commands_that_call_no_model_import_no_heavy_library(args, dos_home, tmp_path):
    write_models_yaml(dos_home, "discover: {localhost: false, env: false}\n")
    loaded = modules_loaded_by(args, dos_home, tmp_path)
    assert "dos" in loaded and not loaded & set(HEAVY)


def test_stats_per_model_and_skill_from_route_events(dos, dos_home, tmp_path):
    write_skill(tmp_path / ".dos" / "skills", "ask", extra="metadata:\n  dos:\n    route:\n      sovereignty: [eu]\n")
    with FakeProvider({"cloud-eu": ["ok", "500", "ok"]}) as server:
        write_models_yaml(dos_home, cloud_yaml(server.url))
        assert dos("trust").code == 0  # a project skill whose route allows only eu leaves the machine
        runs = [dos("run", "ask", "hello") for _ in range(3)]
    assert [r.code for r in runs] == [0, 4, 0]
    assert runs[0].out.strip() == "fake answer"
    stats = dos("stats", "--since", "1h", "--json")
    assert stats.code == 0, stats.err
    info = json.loads(stats.out)
    model = info["models"][0]
    assert model["name"] == "cloud-eu" and model["calls"] == 3
    assert model["success_rate"] == pytest.approx(2 / 3, abs=1e-3) and model["fallback_rate"] == 0
    assert model["prompt_tokens"] == 10 and model["completion_tokens"] == 4
    assert model["cost"] == pytest.approx(2 * (5 * 1 + 2 * 3) / 1e6)
    assert info["skills"][0]["name"] == "ask"
    plain = dos("stats")
    assert plain.out.splitlines()[1].startswith("cloud-eu\t3\t67%\t0%\t")
    routes = [e for e in events(dos_home) if e["kind"] == "route"]
    assert len(routes) == 3 and SECRET not in json.dumps(routes)
    assert dos("stats", "--since", "soon").code == 2


@pytest.mark.model
def test_models_test_makes_one_tiny_call_and_fails_with_one_line(dos, dos_home):
    write_models_yaml(dos_home, "discover: {localhost: false, env: false}\n")
    ok = dos("models", "test", "local/smollm2", "--json")
    assert ok.code == 0, ok.err
    result = json.loads(ok.out)
    assert result["ok"] and result["text"] and result["completion_tokens"] <= 5
    assert ok.err == ""  # no llama.cpp teardown noise
    bad = dos("models", "test", "local/nope")
    assert bad.code == 4 and bad.err.startswith("dos: local/nope:") and bad.err.count("\n") == 1
    assert not (dos_home / "data" / "memory.db").exists()  # a test call is not recorded
