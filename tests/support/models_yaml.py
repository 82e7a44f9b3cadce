"""A DOS_HOME's models.yaml for the routing and ledger tests: two priced cloud models on a scripted provider."""

from __future__ import annotations


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
