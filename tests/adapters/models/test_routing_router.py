"""The router under failure: LiteLLM's Router over a scripted OpenAI-compatible server on 127.0.0.1 (a test double
of a cloud provider), with the embedded model as the real local fallback."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dos.adapters.models.litellm_router import LiteLLMRouteBinder
from dos.core.errors import ModelError
from dos.core.routing import PREFERENCES, ModelEntry, RouteRequest, decide
from tests.support.fake_provider import FakeProvider, closed_port_url
from tests.support.skillfiles import write_skill

FAST = {"num_retries": 0, "timeout": 0.4, "allowed_fails": 3, "cooldown_time": 0}
MESSAGES = [{"role": "user", "content": "hi"}]
LABELS = ["local", "self-hosted", "eu", "us"]


def fake_entry(name: str, url: str, sovereignty: str, quality: int = 2, price: float = 1.0) -> ModelEntry:
    return ModelEntry(name, params={"model": f"openai/{name}", "api_base": url, "api_key": "sk-test-not-a-key"},
                      sovereignty=sovereignty, input_price=price, output_price=price, quality=quality)


def consume(bound) -> str:
    return "".join(c.text for c in bound.stream(bound.decision.chain[0].name, MESSAGES, max_tokens=3, temperature=0))


@pytest.fixture(scope="module")
def fake():
    with FakeProvider(hang_s=1.5) as server:
        yield server


specs = st.lists(
    st.tuples(st.sampled_from(LABELS), st.sampled_from(["ok", "timeout", "429", "500", "badjson", "refused"]),
              st.integers(1, 5), st.floats(0, 10)),
    min_size=1, max_size=6,
)
requests = st.builds(
    RouteRequest,
    sovereignty=st.none() | st.frozensets(st.sampled_from(LABELS), min_size=1),
    max_price=st.none() | st.floats(0, 10),
    prefer=st.sampled_from(PREFERENCES),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs, requests)
def test_no_call_leaves_the_hard_constraints_and_attempts_follow_the_explained_order(fake, spec, request):
    refused = closed_port_url()
    catalog, script = [], {}
    for i, (label, behaviour, quality, price) in enumerate(spec):
        name = f"m{i}-{label}"
        catalog.append(fake_entry(name, refused if behaviour == "refused" else fake.url, label, quality, price))
        script[name] = [behaviour if behaviour != "refused" else "ok"]
    decision = decide(catalog, request)
    explained = decision.describe()["chain"]  # what `dos route explain` prints
    allowed = set(decision.names)
    fake.script, fake.requests = script, []
    bound = LiteLLMRouteBinder(FAST).bind(decision)
    if not decision.chain:
        return
    try:
        text = consume(bound)
        ok = True
    except ModelError:
        ok, text = False, ""
    # 1. nothing outside the hard constraints was ever called
    assert set(fake.requests) <= allowed, (fake.requests, allowed)
    # 2. attempts run down the explained chain in order
    attempted = [a["model"] for a in bound.report()["attempts"]]
    assert set(attempted) <= allowed
    positions = [explained.index(m) for m in attempted]
    assert positions == sorted(positions), (attempted, explained)
    for name in fake.requests:
        assert name in attempted
    # 3. the answer came from the first model of the chain that was scripted to work
    working = [n for n in explained if script[n] == ["ok"] and catalog[int(n[1:].split("-")[0])].params["api_base"] == fake.url]
    if working:
        assert ok and bound.served_by == working[0] and text.strip() == "fake answer"
    else:
        assert not ok


def test_a_pinned_or_constrained_route_never_reaches_a_removed_model(fake):
    fake.script, fake.requests = {"cloud-a": ["500"], "eu-b": ["ok"]}, []
    catalog = [fake_entry("cloud-a", fake.url, "us"), fake_entry("eu-b", fake.url, "eu")]
    decision = decide(catalog, RouteRequest(sovereignty=frozenset({"us"})))
    with pytest.raises(ModelError) as err:
        consume(LiteLLMRouteBinder(FAST).bind(decision))
    assert err.value.message.startswith("cloud-a: ")
    assert fake.requests == ["cloud-a"]  # eu-b would have answered, but the route does not allow it


def write_models_yaml(dos_home, text: str) -> None:
    (dos_home / "config").mkdir(parents=True, exist_ok=True)
    (dos_home / "config" / "models.yaml").write_text(text)


def fake_models_yaml(url: str, extra: str = "") -> str:
    return f"""\
router: {{num_retries: 0, timeout: 2, cooldown_time: 0}}
discover: {{localhost: false, env: false}}
{extra}model_list:
  - model_name: cloud-us
    litellm_params: {{model: openai/cloud-us, api_base: "{url}", api_key: sk-test-not-a-key}}
    sovereignty: us
    quality: 5
    input_price: 1
    output_price: 2
  - model_name: cloud-eu
    litellm_params: {{model: openai/cloud-eu, api_base: "{url}", api_key: sk-test-not-a-key}}
    sovereignty: eu
    quality: 4
    input_price: 1
    output_price: 2
"""


def events(dos_home) -> list[dict]:
    db = sqlite3.connect(dos_home / "data" / "memory.db")
    db.row_factory = sqlite3.Row
    return [dict(r) | {"data": json.loads(r["data"])} for r in db.execute("SELECT * FROM events ORDER BY seq")]


@pytest.mark.model
def test_all_cloud_attempts_failing_fall_back_to_local_and_say_so(dos, dos_home, tmp_path):
    write_skill(tmp_path / ".dos" / "skills", "ask")
    with FakeProvider({"cloud-us": ["429"], "cloud-eu": ["500"]}) as server:
        write_models_yaml(dos_home, fake_models_yaml(server.url))
        explain = dos("route", "explain", "ask", "--prefer", "best", "--json")
        run = dos("run", "ask", "--prefer", "best", "--max-tokens", "4", "--temperature", "0", "--json", "hi")
        assert run.code == 0, run.err
        assert server.requests == ["cloud-us", "cloud-eu"]
    assert "all cloud attempts failed" in run.err and "falling back to local/smollm2" in run.err
    assert "sk-test-not-a-key" not in run.err
    assert json.loads(run.out)["model"] == "local/smollm2"
    route = next(e for e in events(dos_home) if e["kind"] == "route")["data"]
    assert route["chain"] == ["cloud-us", "cloud-eu", "local/smollm2"]
    assert [a["model"] for a in route["attempts"]] == route["chain"]
    assert [a["ok"] for a in route["attempts"]] == [False, False, True]
    assert route["fallback_to_local"] is True and route["chosen"] == "local/smollm2"
    assert explain.code == 0 and json.loads(explain.out)["chain"] == route["chain"]


def test_a_route_that_fails_everywhere_is_one_line_naming_each_model_once(dos, dos_home, tmp_path):
    write_skill(tmp_path / ".dos" / "skills", "ask")
    with FakeProvider({"cloud-us": ["500"], "cloud-eu": ["500"]}) as server:
        write_models_yaml(dos_home, fake_models_yaml(server.url).replace("num_retries: 0", "num_retries: 1"))
        run = dos("run", "ask", "--sovereignty", "us,eu", "--prefer", "best", "--max-tokens", "4", "hi")
        assert sorted(server.requests) == ["cloud-eu", "cloud-eu", "cloud-us", "cloud-us"]  # one retry each
    assert run.code == 4 and run.err.count("\n") == 1, run.err  # LiteLLM's own ERROR logs stay quiet
    assert run.err.startswith("dos: all 2 models of the route failed (cloud-us: ")
    assert run.err.count("cloud-us") == 1 and "(2 attempts)" in run.err and "litellm." not in run.err


def test_a_local_only_skill_with_failing_local_models_never_reaches_the_cloud(dos, dos_home, tmp_path):
    write_skill(tmp_path / ".dos" / "skills", "private", extra="metadata:\n  dos:\n    route:\n"
                "      sovereignty: local\n      tags: [offline]\n")
    with FakeProvider({"cloud-us": ["ok"], "cloud-eu": ["ok"]}) as server:
        write_models_yaml(dos_home, fake_models_yaml(server.url).replace("model_list:\n", """model_list:
  - model_name: broken-local
    litellm_params: {model: local/not-installed}
    sovereignty: local
    tags: [offline]
""", 1))
        run = dos("run", "private", "--sovereignty", "local,us,eu", "hello")
        assert server.requests == []
    assert run.code == 4 and run.err.startswith("dos: broken-local:") and run.err.count("\n") == 1
    route = next(e for e in events(dos_home) if e["kind"] == "route")["data"]
    assert route["chain"] == ["broken-local"] and route["ok"] is False


def test_nothing_satisfies_the_route_exits_9_with_one_line_before_anything_is_written(dos, dos_home, tmp_path):
    write_skill(tmp_path / ".dos" / "skills", "seeing", extra="metadata:\n  dos:\n    route:\n"
                "      sovereignty: [local]\n      capabilities: [vision]\n")
    write_models_yaml(dos_home, "discover: {localhost: false, env: false}\n")
    run = dos("run", "seeing", "what is this?")
    assert run.code == 9
    assert run.err == ("dos: no model satisfies the route for skill 'seeing': "
                       "capabilities vision removed local/smollm2\n")
    assert not (dos_home / "data" / "memory.db").exists() or not events(dos_home)
