"""The catalog: models.yaml in LiteLLM's model_list shape plus DOS attributes, and discovery without config."""

from __future__ import annotations

import json

import pytest

from dos.adapters.models import catalog
from dos.core.errors import InvalidConfig
from tests.support.fake_provider import FakeProvider, closed_port_url

MODELS_YAML = """\
route:
  sovereignty: [local, eu]
  prefer: cheapest
router: {num_retries: 0, timeout: 5}
discover: {localhost: false, env: false}
model_list:
  - model_name: mistral-small
    litellm_params: {model: mistral/mistral-small-latest, api_key: os.environ/MISTRAL_API_KEY}
    sovereignty: eu
    quality: 2
    tags: [work]
  - model_name: box
    litellm_params: {model: openai/qwen, api_base: "http://127.0.0.1:9/v1"}
    model_info: {capabilities: [chat, json], input_price: 0, output_price: 0}
"""


def test_models_yaml_entries_and_settings(tmp_path):
    (tmp_path / "models.yaml").write_text(MODELS_YAML)
    cat = catalog.load(tmp_path, tmp_path / "state", environ={})
    names = [e.name for e in cat.entries]
    assert names == ["mistral-small", "box", "local/smollm2"]
    mistral = cat.get("mistral-small")
    assert mistral.sovereignty == "eu" and mistral.tags == {"work"}
    assert mistral.input_price == pytest.approx(0.15)  # filled from LiteLLM's cost map, read as a file
    assert "tools" in mistral.capabilities
    box = cat.get("box")
    assert box.sovereignty == "local"  # an api_base on 127.0.0.1 is local unless said otherwise
    assert box.capabilities == {"chat", "json"}
    assert cat.route["sovereignty"] == {"local", "eu"} and cat.route["prefer"] == "cheapest"
    assert cat.router["num_retries"] == 0 and cat.router["timeout"] == 5.0
    assert cat.reachable["local/smollm2"] is True


@pytest.mark.parametrize(
    "text, where",
    [
        ("model_list:\n  - model_name: x\n", ":2: litellm_params.model is missing"),
        ("model_list:\n  - {model_name: x, litellm_params: {model: a/b}, sovereignity: eu}\n", ":2: unknown key"),
        ("modl_list: []\n", ":1: unknown key 'modl_list'"),
        ("route: {prefer: fast}\n", ":1: route: 'prefer' must be one of"),
        ("model_list: [\n", "not valid YAML"),
        # the line of the offending key, not of its parent (route:, router:, the model_list item)
        ("route:\n  sovereignty: [local]\n  prefer: fast\n", ":3: route: 'prefer' must be one of"),
        ("router:\n  timeout: 5\n  retries: 2\n", ":3: unknown router key 'retries'"),
        ("router:\n  timeout: soon\n", ":2: router timeout must be a number, not 'soon'"),
        ("router: [1]\n", ":1: router must be a mapping"),
        ("model_list:\n  - model_name: a\n    litellm_params:\n      api_base: x\n", ":3: litellm_params.model is missing"),
        ("model_list:\n  - model_name: a\n    litellm_params: {model: x/y}\n    input_price: -1\n",
         ":4: a: 'input_price' must not be negative"),
        ("model_list:\n  - model_name: a\n    litellm_params: {model: x/y}\n    model_info:\n      quality: best\n",
         ":5: a: 'quality' must be a whole number (1 small ... 5 best), not 'best'"),
        ("model_list:\n  - model_name: a\n    litellm_params: {model: x/y}\n    colour: red\n", ":4: unknown key(s) colour"),
        ("model_list:\n  - model_name: a\n    litellm_params: {model: x/y}\n  - nope\n", ":4: each model_list item"),
        ("model_list:\n  - model_name: a\n    litellm_params: {model: x/y}\n    added: 2025-13-45\n",
         ":4: unusable YAML value: month must be in 1..12"),
    ],
)
def test_bad_models_yaml_names_file_and_line(tmp_path, text, where):
    (tmp_path / "models.yaml").write_text(text)
    with pytest.raises(InvalidConfig) as err:
        catalog.load(tmp_path, tmp_path / "state", environ={})
    assert "models.yaml" in err.value.message and where in err.value.message
    assert "\n" not in err.value.message


def test_cloud_providers_found_by_key_name_only(tmp_path):
    secret = "sk-proj-" + "x" * 40
    cat = catalog.load(tmp_path, tmp_path / "state", environ={"OPENAI_API_KEY": secret, "MISTRAL_API_KEY": "m" * 32})
    assert cat.providers == ["openai", "mistral"]
    gpt = cat.get("gpt-4o-mini")
    assert gpt.sovereignty == "us" and gpt.output_price == pytest.approx(0.6)
    assert cat.get("mistral/mistral-small-latest").sovereignty == "eu"
    assert secret not in json.dumps([e.describe() | catalog.public_params(e) for e in cat.entries])
    assert all("api_key" not in e.params for e in cat.entries if e.source == "env")


def test_localhost_server_is_discovered_and_the_probe_is_cached(tmp_path):
    (tmp_path / "models.yaml").write_text("discover: {env: false}\n")
    with FakeProvider({"qwen-0.5b": ["ok"]}) as fake:
        servers = [("openai", fake.url), ("ollama", closed_port_url().removesuffix("/v1"))]
        cache = tmp_path / "state" / "cache" / "localhost-models.json"
        found = catalog.probe_localhost(cache, servers)
        assert [f["name"] for f in found] == [f"localhost-{fake.port}/qwen-0.5b"]
        assert found[0]["params"]["api_base"] == fake.url
    # the server is gone, but the cached answer holds for a few minutes
    assert catalog.probe_localhost(cache, servers) == found
    assert catalog.probe_localhost(cache, servers, now=json.loads(cache.read_text())["ts"] + 301) == []


def test_adhoc_model_sovereignty_is_that_of_its_providers_endpoint():
    assert catalog.adhoc("ollama/llama3", {}).sovereignty == "local"  # Ollama's default is localhost
    assert catalog.adhoc("mistral/mistral-small-latest", {}).sovereignty == "eu"
    assert catalog.adhoc("weird/thing", {}).sovereignty == "unknown"
