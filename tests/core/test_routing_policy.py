"""The pure routing policy: hard constraints filter with a reason, preferences order, nothing left is NoRoute."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dos.core.errors import NoRoute, UsageError
from dos.core.routing.policy import PREFERENCES, ModelEntry, RouteRequest, constraints_from, decide, merge, require

SMOL = ModelEntry("local/smollm2", sovereignty="local", quality=1, source="embedded")
GPT = ModelEntry("gpt-4o-mini", sovereignty="us", capabilities=frozenset({"chat", "tools", "vision"}),
                 input_price=0.15, output_price=0.6, quality=3)
MISTRAL = ModelEntry("mistral-small", sovereignty="eu", capabilities=frozenset({"chat", "tools"}),
                     input_price=0.1, output_price=0.3, quality=2)
OPUS = ModelEntry("claude-opus", sovereignty="us", capabilities=frozenset({"chat", "tools", "vision"}),
                  input_price=15, output_price=75, quality=5, latency_s=3.0)
CATALOG = [SMOL, GPT, MISTRAL, OPUS]


def test_preferences_order_the_kept_models():
    assert decide(CATALOG, RouteRequest(prefer="local-first")).names == [
        "local/smollm2", "mistral-small", "gpt-4o-mini", "claude-opus"]
    assert decide(CATALOG, RouteRequest(prefer="cheapest")).names[:2] == ["local/smollm2", "mistral-small"]
    assert decide(CATALOG, RouteRequest(prefer="best")).names == [
        "claude-opus", "gpt-4o-mini", "mistral-small", "local/smollm2"]
    assert decide(CATALOG, RouteRequest(prefer="fastest")).names[0] == "claude-opus"  # the only known latency


def test_hard_constraints_remove_with_a_reason():
    decision = decide(CATALOG, RouteRequest(sovereignty=frozenset({"local", "eu"}), capabilities=frozenset({"tools"})))
    assert decision.names == ["mistral-small"]
    reasons = {v.name: (v.constraint, v.reason) for v in decision.removed()}
    assert reasons["gpt-4o-mini"][0] == "sovereignty"
    assert reasons["local/smollm2"] == ("capabilities", "lacks tools")


def test_pin_is_exact_and_still_bound_by_the_constraints():
    assert decide(CATALOG, RouteRequest(pin="gpt-4o-mini")).names == ["gpt-4o-mini"]
    decision = decide(CATALOG, RouteRequest(pin="gpt-4o-mini", sovereignty=frozenset({"local"})))
    assert decision.names == []
    with pytest.raises(NoRoute) as err:
        require(decision, "summarize")
    assert "\n" not in err.value.message
    assert "sovereignty local removed gpt-4o-mini" in err.value.message
    assert err.value.exit_code == 9


def test_nothing_left_names_each_constraint_and_its_models():
    decision = decide(CATALOG, RouteRequest(sovereignty=frozenset({"local"}), capabilities=frozenset({"vision"})))
    with pytest.raises(NoRoute) as err:
        require(decision, "look")
    message = err.value.message
    assert message.startswith("no model satisfies the route for skill 'look':")
    assert "sovereignty local removed gpt-4o-mini, mistral-small, claude-opus" in message
    assert "capabilities vision removed local/smollm2" in message


def test_unknown_price_is_removed_by_a_price_cap_but_local_is_free():
    mystery = ModelEntry("mystery", sovereignty="us")
    decision = decide([SMOL, mystery], RouteRequest(max_price=1.0))
    assert decision.names == ["local/smollm2"]
    assert decision.removed()[0].reason == "price unknown above $1/M"


def test_layers_only_narrow_hard_constraints():
    request = merge([
        ("config", constraints_from({"sovereignty": ["local", "eu", "us"], "prefer": "best"}, "models.yaml")),
        ("skill", constraints_from({"sovereignty": "local", "max_price": 2}, "SKILL.md")),
        ("command line", constraints_from({"sovereignty": "us,local", "max_price": 5, "prefer": "cheapest"}, "cli")),
    ])
    assert request.sovereignty == frozenset({"local"})
    assert request.max_price == 2
    assert request.prefer == "cheapest"
    assert request.sources == ("config", "skill", "command line")


def test_bad_route_settings_are_usage_errors():
    for bad in ({"prefer": "fast"}, {"max_price": "cheap"}, {"sovreignty": "local"}, {"sovereignty": 3}):
        with pytest.raises(UsageError):
            constraints_from(bad, "SKILL.md")


entries = st.builds(
    ModelEntry,
    name=st.text("abcdefgh/", min_size=1, max_size=8),
    sovereignty=st.sampled_from(["local", "self-hosted", "eu", "us", "cn"]),
    capabilities=st.frozensets(st.sampled_from(["chat", "tools", "vision", "json"])),
    input_price=st.none() | st.floats(0, 100),
    output_price=st.none() | st.floats(0, 100),
    quality=st.integers(0, 5),
    latency_s=st.none() | st.floats(0.01, 10),
)
requests = st.builds(
    RouteRequest,
    sovereignty=st.none() | st.frozensets(st.sampled_from(["local", "self-hosted", "eu", "us", "cn"])),
    capabilities=st.frozensets(st.sampled_from(["chat", "tools", "vision", "json"]), max_size=2),
    max_price=st.none() | st.floats(0, 100),
    prefer=st.sampled_from(PREFERENCES),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(entries, max_size=20), requests)
def test_every_model_is_either_in_the_chain_satisfying_all_constraints_or_removed_with_a_reason(catalog, request):
    decision = decide(catalog, request)
    names = {e.name for e in catalog}
    assert {v.name for v in decision.verdicts} == names
    for entry in decision.chain:
        assert request.sovereignty is None or entry.sovereignty in request.sovereignty
        assert request.capabilities <= entry.capabilities
        assert request.max_price is None or entry.price <= request.max_price
    for verdict in decision.removed():
        assert verdict.reason and verdict.constraint
    assert decide(catalog, request).names == decision.names  # deterministic


def test_a_skill_model_goes_first_but_the_command_line_model_is_exact():
    request = merge([("skill", {"model": "gpt-4o-mini"}), ("command line", {"prefer": "best"})])
    assert request.pin is None and request.first == "gpt-4o-mini"
    assert decide(CATALOG, request).names == ["gpt-4o-mini", "claude-opus", "mistral-small", "local/smollm2"]
    request = merge([("skill", {"model": "gpt-4o-mini"}), ("command line", {"model": "mistral-small"})])
    assert decide(CATALOG, request).names == ["mistral-small"]
