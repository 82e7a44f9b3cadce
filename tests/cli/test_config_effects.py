"""Each setting in config.yaml changes what DOS does, not only what `dos config show` prints."""

from __future__ import annotations

import json

import pytest

FAST = ["--temperature", "0", "--max-tokens", "4"]


def test_default_model_goes_first_for_skills_without_their_own(dos):
    before = json.loads(dos("route", "explain", "summarize", "--json").out)
    assert dos("config", "set", "default_model", "openai/gpt-4o-mini").code == 0
    after = json.loads(dos("route", "explain", "summarize", "--json").out)
    assert before["chain"][0] == "local/smollm2"
    assert after["chain"][:2] == ["openai/gpt-4o-mini", "local/smollm2"]


@pytest.mark.model
@pytest.mark.parametrize("setting", [("recall", "false"), ("recall_tokens", "0")])
def test_recall_settings_turn_recall_off(dos, setting):
    assert dos("memory", "remember", "harbour towns traded wool and salt").code == 0
    on = dos("run", "explain", "--show-context", *FAST, "harbour towns")
    assert on.code == 0 and "related event(s)" in on.err
    assert dos("config", "set", *setting).code == 0
    off = dos("run", "explain", "--show-context", *FAST, "harbour towns")
    assert off.code == 0 and "related event(s)" not in off.err


def test_output_setting_chooses_plain_or_rich(dos):
    plain = dos("doctor", "--quick")
    assert plain.code == 0 and "✓" not in plain.out
    assert dos("config", "set", "output", "rich").code == 0
    rich = dos("doctor", "--quick")
    assert rich.code == 0 and "✓" in rich.out


def test_chat_keys_setting_picks_vi_or_emacs(monkeypatch, tmp_path):
    from dos.cli.repl.terminal import wants_vi

    monkeypatch.setenv("DOS_CHAT_KEYS", "vi")
    monkeypatch.setenv("INPUTRC", str(tmp_path / "no-inputrc"))
    assert wants_vi(False, {"chat_keys": "emacs"}) is False  # the config file wins over the environment
    assert wants_vi(False, {"chat_keys": "vi"}) is True
    assert wants_vi(False, {"chat_keys": ""}) is True  # empty: the environment decides
