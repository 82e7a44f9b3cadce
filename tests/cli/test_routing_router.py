"""The router under failure through `dos run`: every cloud attempt failing falls back to the embedded model and says
so, a route that fails everywhere or that nothing satisfies is one line. The cloud is a scripted OpenAI-compatible
server on 127.0.0.1 (tests/support/fake_provider.py)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.support.fake_provider import FakeProvider
from tests.support.models_yaml import fake_models_yaml, write_models_yaml
from tests.support.skillfiles import write_skill


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
