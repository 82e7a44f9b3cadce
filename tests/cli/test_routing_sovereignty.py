"""Sovereignty through `dos run` and `dos route explain`: a local-only skill is refused when OLLAMA_API_BASE or
OPENAI_BASE_URL sends its requests off the machine, and runs when they stay on loopback. Nothing here ever connects
off the machine: a sitecustomize in the `dos` subprocesses refuses and records any connection to a host that is
not loopback."""

from __future__ import annotations

import os
import textwrap

import pytest

from tests.adapters.models.test_routing_sovereignty import NO_DISCOVERY, OFF_MACHINE
from tests.support.fake_provider import FakeProvider
from tests.support.models_yaml import write_models_yaml
from tests.support.skillfiles import write_skill

LOCAL_ONLY = "metadata:\n  dos:\n    route:\n      sovereignty: [local]\n"

GUARD = textwrap.dedent("""\
    import ipaddress, os, socket

    _log = os.environ.get("SOVEREIGNTY_GUARD_LOG")
    _connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex

    def _off_machine(sock, address):
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return False
        try:
            return not ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
        except ValueError:
            return str(address[0]) != "localhost"

    def connect(self, address):
        if _log and _off_machine(self, address):
            with open(_log, "a") as f:
                f.write(f"{address[0]}\\n")
            raise OSError(101, "connection off the machine refused by the test guard")
        return _connect(self, address)

    def connect_ex(self, address):
        try:
            connect(self, address)
        except OSError as exc:
            return exc.errno or 1
        return 0

    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
""")


@pytest.fixture
def guarded(tmp_path):
    """Environment for `dos` subprocesses: a sitecustomize that refuses and logs off-machine connections."""
    folder = tmp_path / "guard"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(GUARD)
    log = tmp_path / "off-machine.log"
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    env = {"PYTHONPATH": path, "SOVEREIGNTY_GUARD_LOG": str(log)}
    return env, log


# -- the regression: `--model ollama/x` with OLLAMA_API_BASE elsewhere ------------------------------------


def test_a_local_skill_is_refused_when_ollama_api_base_points_off_the_machine(dos, dos_home, tmp_path, guarded):
    env, log = guarded
    write_skill(tmp_path / ".dos" / "skills", "secret", extra=LOCAL_ONLY)
    write_models_yaml(dos_home, NO_DISCOVERY)
    env |= {"OLLAMA_API_BASE": OFF_MACHINE}
    assert dos("memory", "remember", "my bank PIN is 4921").code == 0  # something recall could add to the prompt
    run = dos("run", "secret", "--model", "ollama/x", "what is my PIN?", env=env)
    assert run.code == 9, run.err
    assert "192.0.2.1" in run.err and "OLLAMA_API_BASE" in run.err and run.err.count("\n") == 1
    assert not log.exists(), log.read_text()  # no connection was even attempted
    explained = dos("route", "explain", "secret", "--model", "ollama/x", env=env)
    assert explained.code == 9
    assert "removed\tollama/x\tsovereignty unknown not allowed (allowed: local): requests go to 192.0.2.1, " \
           "set by OLLAMA_API_BASE" in explained.out
    # a cloud provider's base redirected off the machine is no longer that provider's class either
    redirected = dos("route", "explain", "secret", "--model", "gpt-4o-mini", "--sovereignty", "local,us",
                     env=env | {"OPENAI_BASE_URL": "http://192.0.2.1/v1"})
    assert redirected.code == 9 and "requests go to 192.0.2.1, set by OPENAI_BASE_URL" in redirected.out
    assert not log.exists()


def test_a_local_skill_runs_when_the_base_url_is_loopback(dos, dos_home, tmp_path, guarded):
    env, log = guarded
    write_skill(tmp_path / ".dos" / "skills", "secret", extra=LOCAL_ONLY)
    write_models_yaml(dos_home, NO_DISCOVERY)
    with FakeProvider({"x": ["ok"]}) as server:
        ollama = dos("run", "secret", "--model", "ollama/x", "hello",
                     env=env | {"OLLAMA_API_BASE": server.url.removesuffix("/v1")})
        openai = dos("run", "secret", "--model", "openai/x", "hello",
                     env=env | {"OPENAI_BASE_URL": server.url, "OPENAI_API_KEY": "sk-test-not-a-key"})
        assert server.requests == ["x", "x"]
    assert ollama.code == 0, ollama.err
    assert openai.code == 0, openai.err
    assert ollama.out.strip() == openai.out.strip() == "fake answer"
    assert not log.exists()
