"""Project trust: hooks and MCP servers the project folder declares run only once `dos trust` recorded them; a
changed file is untrusted again; the user's own hooks always run; one stderr line per command says what to do.
Real hook scripts and real MCP servers, as subprocesses; in-process, through the kernel, and in `dos chat`."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from tests.support import SUPPORT
from tests.support.hookfiles import script, settings
from tests.support.kernel_on import kernel_on

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell hooks")
NO_MODEL = ["--model", "nowhere/none"]  # hooks fire, then the turn fails before any model call
FIXTURE = str(SUPPORT / "mcp_fixture_server.py")
FAST = ["--temperature", "0", "--max-tokens", "8"]


def marker_hooks(project: Path, log: Path) -> None:
    """./.dos/hooks.yaml and ./.claude/settings.json, each with hooks that append their event to `log`."""
    command = script(project, "log.sh", f'cat >/dev/null; echo "$1" >> {log}\n')
    (project / ".dos").mkdir(exist_ok=True)
    (project / ".dos" / "hooks.yaml").write_text(
        f"hooks:\n  SessionStart:\n    - hooks: [{{type: command, command: '{command} SessionStart'}}]\n"
        f"  UserPromptSubmit:\n    - hooks: [{{type: command, command: '{command} UserPromptSubmit'}}]\n")
    (project / ".claude").mkdir(exist_ok=True)
    (project / ".claude" / "settings.json").write_text(settings(
        {"UserPromptSubmit": [{"hooks": [{"type": "command", "command": f"{command} claude"}]}]}))


def logged(log: Path) -> list[str]:
    """The events the hooks saw, sorted (the hooks of one event run in parallel)."""
    return sorted(log.read_text().split()) if log.exists() else []


def notices(err: str) -> list[str]:
    return [line for line in err.splitlines() if "not been trusted" in line]


def test_untrusted_project_hooks_do_not_run_and_say_so_once(dos, tmp_path):
    log = tmp_path / "events.log"
    marker_hooks(tmp_path, log)
    r = dos("run", "summarize", "notes", *NO_MODEL)
    assert logged(log) == []
    assert notices(r.err) == ["dos: ./.dos/hooks.yaml, ./.claude/settings.json declare hooks that have not been "
                              "trusted; review with `dos hooks list`, then `dos trust`"]
    listed = json.loads(dos("hooks", "list", "--json").out)
    assert [(h["event"], h["trusted"]) for h in listed["hooks"]] == \
        [("SessionStart", False), ("UserPromptSubmit", False), ("UserPromptSubmit", False)]
    text = dos("hooks", "list").out
    assert text.count("\tuntrusted\n") == 3 and "untrusted: " in text


def test_trust_shows_what_it_trusts_then_they_run_until_the_file_changes(dos, dos_home, tmp_path):
    log = tmp_path / "events.log"
    marker_hooks(tmp_path, log)
    r = dos("trust")
    assert r.code == 0, r.err
    assert f"trusting {os.path.realpath(tmp_path)}:" in r.out
    assert "./.dos/hooks.yaml (hooks, sha256 " in r.out and "UserPromptSubmit: command " in r.out
    assert "./.claude/settings.json (hooks" in r.out and "trusted 2 file(s)" in r.out

    r = dos("run", "summarize", "notes", *NO_MODEL)
    assert logged(log) == sorted(["SessionStart", "UserPromptSubmit", "claude"]) and notices(r.err) == []

    log.unlink()
    with open(tmp_path / ".dos" / "hooks.yaml", "a") as f:
        f.write("# one more line\n")
    r = dos("run", "summarize", "notes", *NO_MODEL)
    assert logged(log) == ["claude"]  # the unchanged file stays trusted
    assert notices(r.err) == ["dos: ./.dos/hooks.yaml (changed since trusted) declares hooks that have not been "
                              "trusted; review with `dos hooks list`, then `dos trust`"]
    listed = json.loads(dos("trust", "list", "--json").out)["folders"]
    assert [(f["file"], f["state"]) for f in listed[0]["files"]] == \
        [(".claude/settings.json", "trusted"), (".dos/hooks.yaml", "changed")]

    assert dos("trust").code == 0
    log.unlink()
    dos("run", "summarize", "notes", *NO_MODEL)
    assert logged(log) == sorted(["SessionStart", "UserPromptSubmit", "claude"])
    trusted = dos_home / "config" / "trusted.json"
    assert stat.S_IMODE(trusted.stat().st_mode) == 0o600
    assert list(json.loads(trusted.read_text())["folders"]) == [os.path.realpath(tmp_path)]


def test_a_new_file_is_untrusted_and_revoke_untrusts_the_folder(dos, tmp_path):
    log = tmp_path / "events.log"
    marker_hooks(tmp_path, log)
    (tmp_path / ".claude" / "settings.json").unlink()
    assert dos("trust").code == 0
    marker_hooks(tmp_path, log)  # settings.json is back: new since the folder was trusted
    r = dos("run", "summarize", "notes", *NO_MODEL)
    assert logged(log) == sorted(["SessionStart", "UserPromptSubmit"])
    assert notices(r.err)[0].startswith("dos: ./.claude/settings.json declares hooks")
    assert "./.claude/settings.json\tnew, not trusted: not run" in dos("trust", "list").out

    r = dos("trust", "revoke", str(tmp_path))
    assert r.code == 0 and "revoked" in r.out
    log.unlink()
    dos("run", "summarize", "notes", *NO_MODEL)
    assert logged(log) == []
    r = dos("trust", "revoke")
    assert r.code == 2 and r.err.count("\n") == 1 and "is not trusted" in r.err
    assert dos("trust", "list").out.startswith("no trusted folders")


def test_the_users_own_hooks_run_in_an_untrusted_folder(dos, dos_home, tmp_path):
    log = tmp_path / "events.log"
    marker_hooks(tmp_path, log)
    mine = script(tmp_path, "mine.sh", f"cat >/dev/null; echo user >> {log}\n")
    (dos_home / "config").mkdir()
    (dos_home / "config" / "hooks.yaml").write_text(
        f"hooks:\n  UserPromptSubmit:\n    - hooks: [{{type: command, command: {json.dumps(mine)}}}]\n")
    r = dos("run", "summarize", "notes", *NO_MODEL)
    assert logged(log) == ["user"] and len(notices(r.err)) == 1


def test_dos_trust_project_trusts_one_invocation_and_records_nothing(dos, dos_home, tmp_path):
    log = tmp_path / "events.log"
    marker_hooks(tmp_path, log)
    r = dos("run", "summarize", "notes", *NO_MODEL, env={"DOS_TRUST_PROJECT": "1"})
    assert logged(log) == sorted(["SessionStart", "UserPromptSubmit", "claude"]) and notices(r.err) == []
    assert not (dos_home / "config" / "trusted.json").exists()
    log.unlink()
    dos("run", "summarize", "notes", *NO_MODEL)
    assert logged(log) == []


def test_bad_input_and_nothing_to_trust(dos, tmp_path):
    r = dos("trust", str(tmp_path / "nowhere"))
    assert r.code == 2 and r.err == f"dos: not a folder: {tmp_path / 'nowhere'}\n"
    r = dos("trust")
    assert r.code == 0 and r.out.startswith("nothing to trust in ")
    broken = tmp_path / "home" / "config" / "trusted.json"
    broken.parent.mkdir(parents=True, exist_ok=True)  # dos made config/ already (private)
    broken.write_text("{not json")
    r = dos("trust", "list")
    assert r.code == 5 and r.err.count("\n") == 1 and "trusted.json" in r.err


# ---------------------------------------------------------------------------------------------- MCP servers


def fixture_server(tmp_path: Path) -> Path:
    """./.mcp.json declaring the fixture server through a wrapper that leaves a mark when it starts."""
    started = tmp_path / "started"
    (tmp_path / ".mcp.json").write_text(json.dumps({"mcpServers": {"fixture": {
        "command": "sh", "args": ["-c", f'touch {started}; exec "{sys.executable}" {FIXTURE}']}}}))
    return started


def test_an_untrusted_project_mcp_server_is_listed_but_never_started(dos, tmp_path):
    started = fixture_server(tmp_path)
    r = dos("mcp", "list", "--json")
    assert [(s["name"], s["status"]) for s in json.loads(r.out)["servers"]] == [("fixture", "untrusted")]
    r = dos("mcp", "call", "fixture", "echo", "--args", '{"text": "hi"}')
    assert r.code == 2 and r.err == ("dos: MCP server 'fixture' is declared by this folder, which you have not "
                                     "trusted; review it with `dos mcp list`, then `dos trust`\n")
    r = dos("run", "summarize", "notes", "--tools", "fixture", *NO_MODEL)
    assert notices(r.err) == ["dos: ./.mcp.json declares MCP servers that have not been trusted; review with "
                              "`dos mcp list`, then `dos trust`"]
    assert not started.exists()

    r = dos("mcp", "call", "fixture", "echo", "--args", '{"text": "hi"}', env={"DOS_TRUST_PROJECT": "1"})
    assert r.code == 0 and r.out == "echo: hi\n" and started.exists()
    started.unlink()
    r = dos("trust")
    assert "MCP server fixture: sh -c" in r.out
    r = dos("mcp", "list", "--json")
    [server] = json.loads(r.out)["servers"]
    assert server["status"] == "ok" and started.exists()


# ---------------------------------------------------------------------------------------------- the kernel, chat


def test_the_kernel_checks_trust_for_each_request_and_folder(dos, dos_home, tmp_path):
    trusted, other = tmp_path / "trusted", tmp_path / "other"
    for folder in (trusted, other):
        folder.mkdir()
        marker_hooks(folder, folder / "events.log")
    assert dos("trust", cwd=trusted).code == 0
    with kernel_on(dos, dos_home) as kdos:
        kdos("run", "summarize", "notes", *NO_MODEL, cwd=trusted, timeout=300)
        pid = json.loads(kdos("kernel", "status", "--json").out)["pid"]
        assert logged(trusted / "events.log") == sorted(["SessionStart", "UserPromptSubmit", "claude"])
        r = kdos("run", "summarize", "notes", *NO_MODEL, cwd=other)
        assert logged(other / "events.log") == [] and len(notices(r.err)) == 1
        assert dos("trust", cwd=other).code == 0  # trusted while the kernel runs: its next request sees it
        r = kdos("run", "summarize", "notes", *NO_MODEL, cwd=other)
        assert logged(other / "events.log") == sorted(["SessionStart", "UserPromptSubmit", "claude"])
        assert notices(r.err) == []
        status = json.loads(kdos("kernel", "status", "--json").out)
        assert (status["pid"], status["served"]) == (pid, 3)
        assert dos("trust", "revoke", cwd=other).code == 0
        r = kdos("run", "summarize", "notes", *NO_MODEL, cwd=other, env={"DOS_TRUST_PROJECT": "1"}, timeout=300)
        assert notices(r.err) == [] and len(logged(other / "events.log")) == 6
        r = kdos("run", "summarize", "notes", *NO_MODEL, cwd=other, timeout=300)
        assert len(notices(r.err)) == 1 and len(logged(other / "events.log")) == 6


@pytest.mark.model
@pytest.mark.parametrize("where", ["in-process", "kernel"])
def test_chat_respects_trust(dos, dos_home, tmp_path, where):
    log = tmp_path / "events.log"
    marker_hooks(tmp_path, log)
    with kernel_on(dos, dos_home) as kdos:
        chat = kdos if where == "kernel" else dos
        r = chat("chat", *FAST, input="one\ntwo\n", timeout=300)
        assert r.code == 0, r.err
        assert logged(log) == [] and notices(r.err)
        assert dos("trust").code == 0
        r = chat("chat", *FAST, input="one\ntwo\n")
        assert r.code == 0, r.err
        assert logged(log) == sorted(["SessionStart", "UserPromptSubmit", "claude", "UserPromptSubmit", "claude"])
        assert notices(r.err) == []


def test_trust_commands_import_no_model_library(dos_home, tmp_path):
    from tests.architecture.test_architecture import HEAVY, modules_loaded_by

    for args in (["trust"], ["trust", "list"], ["mcp", "list", "--no-connect"]):
        loaded = modules_loaded_by(args, dos_home, tmp_path)
        assert "dos" in loaded and not loaded & set(HEAVY), args
