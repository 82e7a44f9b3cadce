"""The router under failure: LiteLLM's Router over a scripted OpenAI-compatible server on 127.0.0.1 (a test double
of a cloud provider), with the embedded model as the real local fallback."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dos.adapters.models.litellm_router import LiteLLMRouteBinder
from dos.core.errors import ModelError
from dos.core.routing.policy import PREFERENCES, ModelEntry, RouteRequest, decide
from tests.support.fake_provider import FakeProvider, closed_port_url

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
