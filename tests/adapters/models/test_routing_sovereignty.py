"""Sovereignty is decided by where a request goes, not by a provider's name: the host it resolves to (an
`api_base`, OLLAMA_API_BASE, OPENAI_BASE_URL, ...) is local only on loopback or in-process; any other host is
`unknown` unless models.yaml declares it; and the router adapter checks again, against the api_base it hands to
LiteLLM, before anything leaves. Nothing here ever connects off the machine: a guard refuses and records any
connection to a host that is not loopback (the `dos` subprocesses: tests/cli/test_routing_sovereignty.py)."""

from __future__ import annotations

import os
import socket

import pytest

from dos.adapters.models import catalog
from dos.adapters.models.litellm_router import LiteLLMRouteBinder
from dos.core.errors import NoRoute
from dos.core.routing.policy import ModelEntry, RouteRequest, decide
from tests.adapters.models.test_routing_router import FAST, MESSAGES, fake_entry
from tests.support.fake_provider import FakeProvider

OFF_MACHINE = "http://192.0.2.1:11434"  # TEST-NET-1 (RFC 5737): reserved for documentation, never routed
NO_DISCOVERY = "discover: {localhost: false, env: false}\n"


@pytest.fixture
def no_off_machine(monkeypatch):
    """In this process: any connection to a host that is not loopback is recorded and refused."""
    tried: list[str] = []
    real = socket.socket.connect

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not catalog.is_loopback(str(address[0])):
            tried.append(str(address[0]))
            raise OSError(101, "connection off the machine refused by the test guard")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return tried


# -- the catalog: the class follows the host ---------------------------------------------------------------


@pytest.mark.parametrize("model, params, environ, expected", [
    ("ollama/x", {}, {}, "local"),  # LiteLLM's default for Ollama is localhost
    ("ollama/x", {}, {"OLLAMA_API_BASE": OFF_MACHINE}, "unknown"),
    ("ollama_chat/x", {}, {"OLLAMA_API_BASE": "http://127.0.0.5:11434"}, "local"),
    ("ollama/x", {}, {"OLLAMA_API_BASE": "http://[::1]:11434"}, "local"),
    ("ollama/x", {}, {"OLLAMA_API_BASE": "http://localhost:11434"}, "local"),
    ("ollama/x", {}, {"OLLAMA_API_BASE": "192.0.2.1:11434"}, "unknown"),  # no scheme: still that host
    ("ollama/x", {}, {"OLLAMA_API_BASE": "http://127.0.0.1.nip.io:11434"}, "unknown"),  # a name, not loopback
    ("ollama/x", {}, {"OLLAMA_API_BASE": "http://0.0.0.0:11434"}, "unknown"),
    ("ollama/x", {"api_base": "http://192.0.2.1:11434"}, {}, "unknown"),
    ("ollama/x", {"api_base": "os.environ/MY_BASE"}, {"MY_BASE": OFF_MACHINE}, "unknown"),
    ("ollama/x", {"base_url": OFF_MACHINE, "api_base": "http://127.0.0.1:11434"}, {}, "unknown"),
    ("openai/x", {}, {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, "local"),
    ("openai/x", {}, {"OPENAI_API_BASE": "http://192.0.2.1/v1"}, "unknown"),
    ("gpt-4o-mini", {}, {}, "us"),
    ("gpt-4o-mini", {}, {"OPENAI_BASE_URL": "http://192.0.2.1/v1"}, "unknown"),
    ("mistral/mistral-small-latest", {}, {}, "eu"),
    ("mistral/mistral-small-latest", {}, {"MISTRAL_API_BASE": "http://192.0.2.1/v1"}, "unknown"),
    ("groq/llama", {}, {"GROQ_API_BASE": "http://localhost:8000/v1"}, "local"),
    ("weird/thing", {}, {"WEIRD_API_BASE": "http://127.0.0.1:1/v1"}, "local"),
    ("weird/thing", {}, {}, "unknown"),
    ("local/smollm2", {}, {"OLLAMA_API_BASE": OFF_MACHINE, "OPENAI_BASE_URL": OFF_MACHINE}, "local"),
])
def test_the_class_is_decided_by_the_host_requests_go_to(model, params, environ, expected):
    if not params:  # a model named on the command line
        assert catalog.adhoc(model, environ).sovereignty == expected
    entry = catalog._make(model, {"model": model} | params, {}, "config", environ)
    assert entry.sovereignty == expected


def test_a_declared_class_holds_for_the_host_models_yaml_names_not_one_the_environment_sets(tmp_path):
    (tmp_path / "models.yaml").write_text(NO_DISCOVERY + """model_list:
  - model_name: lan-box
    litellm_params: {model: ollama/llama3, api_base: "http://192.0.2.1:11434"}
    sovereignty: local
  - model_name: home-ollama
    litellm_params: {model: ollama/llama3}
    sovereignty: local
  - model_name: eu-proxy
    litellm_params: {model: mistral/mistral-small-latest}
    sovereignty: eu
""")
    environ = {"OLLAMA_API_BASE": "http://198.51.100.7:11434", "MISTRAL_API_BASE": "http://198.51.100.8/v1"}
    cat = catalog.load(tmp_path, tmp_path / "state", environ=environ)
    assert cat.get("lan-box").sovereignty == "local"  # the user named that host and declared it
    assert cat.get("home-ollama").sovereignty == "unknown"  # declared for localhost, sent elsewhere by the env
    assert cat.get("eu-proxy").sovereignty == "unknown"
    assert cat.get("home-ollama").host == "198.51.100.7"
    cat = catalog.load(tmp_path, tmp_path / "state", environ={})
    assert [cat.get(n).sovereignty for n in ("lan-box", "home-ollama", "eu-proxy")] == ["local", "local", "eu"]


def test_cloud_defaults_found_by_key_follow_a_redirected_base_and_localhost_listed_elsewhere_is_not_local(tmp_path):
    cat = catalog.load(tmp_path, tmp_path / "state",
                       environ={"OPENAI_API_KEY": "sk-" + "x" * 40, "OPENAI_BASE_URL": "http://192.0.2.1/v1"})
    assert cat.get("gpt-4o-mini").sovereignty == "unknown"
    entry = catalog._make("ollama/x", {"model": "ollama_chat/x", "api_base": OFF_MACHINE}, {}, "localhost", {})
    assert entry.sovereignty == "unknown"  # `discover: {localhost: [url]}` listing another host declares nothing


# -- the adapter: checked again right before the request leaves ---------------------------------------------


def test_the_adapter_refuses_a_local_entry_whose_requests_would_leave_the_machine(monkeypatch, no_off_machine):
    monkeypatch.setenv("OLLAMA_API_BASE", OFF_MACHINE)
    claimed = ModelEntry("ollama/x", params={"model": "ollama/x"}, sovereignty="local")  # built by hand, as if local
    decision = decide([claimed], RouteRequest(sovereignty=frozenset({"local"})))
    assert decision.names == ["ollama/x"]  # the policy alone trusts the entry's class
    with pytest.raises(NoRoute) as refused:
        LiteLLMRouteBinder(FAST).bind(decision)
    assert "ollama/x" in refused.value.message and "192.0.2.1" in refused.value.message
    assert "OLLAMA_API_BASE" in refused.value.message and refused.value.exit_code == 9
    assert no_off_machine == []


def test_not_even_a_fallback_leaves_the_machine(monkeypatch, no_off_machine):
    monkeypatch.setenv("OLLAMA_API_BASE", OFF_MACHINE)
    with FakeProvider({"head": ["500"]}) as fake:
        chain = [fake_entry("head", fake.url, "local", quality=5),
                 ModelEntry("ollama/x", params={"model": "ollama/x"}, sovereignty="local")]
        decision = decide(chain, RouteRequest(sovereignty=frozenset({"local"}), prefer="best"))
        assert decision.names == ["head", "ollama/x"]
        with pytest.raises(NoRoute):
            bound = LiteLLMRouteBinder(FAST).bind(decision)
            list(bound.stream("head", MESSAGES, max_tokens=3, temperature=0))
        assert fake.requests == []  # refused before the first model was called, not when falling back
    assert no_off_machine == []


def test_the_adapter_refuses_a_route_decided_for_one_host_and_sent_to_another(monkeypatch, tmp_path):
    monkeypatch.delenv("OLLAMA_API_BASE", raising=False)
    entry = catalog.adhoc("ollama/x", {})
    assert (entry.sovereignty, entry.host) == ("local", "localhost")
    monkeypatch.setenv("OLLAMA_API_BASE", "http://198.51.100.7:11434")  # changed after the route was decided
    with pytest.raises(NoRoute) as refused:
        LiteLLMRouteBinder(FAST).bind(decide([entry], RouteRequest()))
    assert "198.51.100.7" in refused.value.message


def test_the_api_base_checked_is_the_one_handed_to_litellm(monkeypatch):
    monkeypatch.setenv("OLLAMA_API_BASE", "http://127.0.0.1:11434")
    entry = catalog.adhoc("ollama/x", dict(os.environ))
    bound = LiteLLMRouteBinder(FAST).bind(decide([entry], RouteRequest(sovereignty=frozenset({"local"}))))
    [deployment] = bound.deployments
    assert deployment["litellm_params"]["api_base"] == "http://127.0.0.1:11434"
