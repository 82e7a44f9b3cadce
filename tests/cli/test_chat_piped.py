"""`dos chat < script.txt`: each line a turn, plain text out, one session, hooks once per chat; every test runs
twice, with the turns in this process and in the warm kernel."""

from __future__ import annotations

import json

import pytest

from tests.support.kernel_on import kernel_on

FAST = ["--temperature", "0", "--max-tokens", "8"]


@pytest.fixture(params=["in-process", "kernel"])
def dos(request, dos, dos_home):
    """The conftest `dos`, and the same with the kernel on (stopped afterwards)."""
    if request.param == "in-process":
        yield dos
        return
    with kernel_on(dos, dos_home) as call:
        yield call


def turns(dos) -> list[dict]:
    log = dos("memory", "log", "--json")
    assert log.code == 0, log.err
    return json.loads(log.out)


@pytest.mark.model
def test_each_line_is_a_turn_of_one_session_in_plain_text(dos):
    script = 'What is 2+2?\n/explain what does ls do\n"""\nfirst line\nsecond line\n"""\n/cost\n'
    run = dos("chat", *FAST, input=script)
    assert run.code == 0, run.err
    assert "\x1b[" not in run.out
    logged = turns(dos)
    assert [t["prompt"] for t in logged] == ["What is 2+2?", "what does ls do", "first line\nsecond line"]
    assert [t["skill"] for t in logged] == ["chat", "explain", "chat"]
    assert len({t["session_id"] for t in logged}) == 1
    assert all(t["complete"] for t in logged)
    for t in logged:
        assert t["response"].strip() in run.out
    assert "total\t3\t" in run.out  # /cost


@pytest.mark.model
def test_continue_and_named_sessions(dos):
    assert dos("chat", *FAST, input="hello\n").code == 0
    assert dos("chat", "-c", *FAST, input="again\n").code == 0
    assert dos("chat", "--session", "work", *FAST, input="named\n").code == 0
    assert dos("chat", "--session", "work", *FAST, input="named again\n").code == 0
    logged = turns(dos)
    assert logged[0]["session_id"] == logged[1]["session_id"]
    assert logged[2]["session_id"] == logged[3]["session_id"] == "work"


def test_non_utf8_bytes_and_unknown_commands_do_not_crash(dos):
    run = dos("chat", "--no-log", input=b"/bogus \xff\xfe\x80\n/remember caf\xe9 \xc3\n/memory search caf\n")
    assert run.code == 2, run.err  # the first failed command's exit code, after running the rest
    assert "unknown command /bogus" in run.err
    assert "Traceback" not in run.err
    assert "caf\ufffd" in run.out


def test_unknown_start_skill_exits_3(dos):
    run = dos("chat", "-s", "nosuchskill", input="hi\n")
    assert run.code == 3
    assert run.err.startswith("dos: unknown skill")


@pytest.mark.model
def test_session_hooks_fire_once_per_chat_and_prompt_hooks_once_per_turn(dos, dos_home, tmp_path):
    from tests.support.hookfiles import script

    log = tmp_path / "events.log"
    command = script(tmp_path, "log.sh", f'cat >/dev/null; echo "$1" >> {log}\n')
    config = dos_home / "config"
    config.mkdir()
    lines = ["hooks:"]
    for event in ("SessionStart", "UserPromptSubmit", "SessionEnd"):
        lines += [f"  {event}:", "    - hooks:", f"        - {{type: command, command: '{command} {event}'}}"]
    (config / "hooks.yaml").write_text("\n".join(lines) + "\n")
    run = dos("chat", *FAST, input="one\n/remember a note\ntwo\n")
    assert run.code == 0, run.err
    assert log.read_text().split() == ["SessionStart", "UserPromptSubmit", "UserPromptSubmit", "SessionEnd"]


@pytest.mark.model
def test_a_failed_turn_says_why_and_sets_the_exit_code(dos):
    run = dos("chat", "--sovereignty", "eu", *FAST, input="hi\n/cost\n")
    assert run.code == 9
    assert run.err.startswith("dos: no model satisfies the route for skill 'chat'") and run.err.count("\n") == 1
    assert "total\t0\t" in run.out  # the session went on
