"""`dos chat` pieces without a model: input parsing, commands, completion, hooks once per chat, reload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dos.cli.repl.commands import DONE, EXIT, Commands, Turn, transcript_markdown
from dos.cli.repl.piped import inputs
from dos.cli.repl.render import Out, code_blocks
from dos.cli.repl.session import CHAT_SKILL, ChatSession, Options, Said
from dos.cli.repl.terminal import open_block, strip_fences, wants_vi
from dos.cli.repl.toolbar import Toolbar
from dos.core.errors import BudgetExceeded, UsageError
from dos.core.turn.hooks import Conversation, HookOutcome, Hooks
from tests.support.models_yaml import write_models_yaml
from tests.support.skillfiles import write_skill


def test_piped_inputs_join_fenced_blocks():
    lines = ["one\n", '"""\n', "a\n", "b\n", '"""\n', '"""inline"""\n', "two\r\n", '"""open\n', "tail\n"]
    assert list(inputs(iter(lines))) == ["one", "a\nb", "inline", "two", "open\ntail"]


def test_fences_in_the_terminal():
    assert open_block('"""\nhello')
    assert not open_block('"""\nhello\n"""')
    assert not open_block("plain")
    assert strip_fences('"""\nhello\nworld\n"""') == "hello\nworld"
    assert strip_fences("plain") == "plain"


def test_code_blocks_of_an_answer():
    answer = "Try:\n```python\nprint(1)\n```\nand\n```sh\nls\n```\n"
    assert code_blocks(answer) == ["print(1)\n", "ls\n"]
    assert code_blocks("cut off:\n```py\nx = 1\n") == ["x = 1\n"]


def test_vi_mode_from_flag_setting_env_and_inputrc(tmp_path, monkeypatch):
    monkeypatch.delenv("DOS_CHAT_KEYS", raising=False)
    monkeypatch.setenv("INPUTRC", str(tmp_path / "inputrc"))
    assert wants_vi(True, {})
    assert not wants_vi(False, {})
    (tmp_path / "inputrc").write_text("set editing-mode vi\n")
    assert wants_vi(False, {})
    assert not wants_vi(False, {"chat_keys": "emacs"})
    monkeypatch.setenv("DOS_CHAT_KEYS", "vi")
    assert wants_vi(False, {"chat_keys": ""})


@pytest.fixture
def session(dos_home, monkeypatch, tmp_path):
    monkeypatch.setenv("DOS_HOME", str(dos_home))
    monkeypatch.setenv("DOS_HOOKS", "0")
    monkeypatch.chdir(tmp_path)
    return ChatSession(Options())


def test_dispatch_text_commands_and_skills(session, capsys):
    commands = Commands(session, Out(rich=False))
    assert commands.dispatch("hello") == Turn("hello")
    assert commands.dispatch("//etc is a folder") == Turn("/etc is a folder")
    assert commands.dispatch("   ") == DONE
    assert commands.dispatch("/explain what is ls") == Turn("what is ls", "explain")
    assert commands.dispatch("/exit") == EXIT
    assert commands.dispatch("/skill summarize") == DONE and session.skill == "summarize"
    assert commands.dispatch("/skill chat") == DONE and session.skill == CHAT_SKILL
    with pytest.raises(UsageError, match="unknown command /sumarize.*summarize"):
        commands.dispatch("/sumarize x")
    with pytest.raises(UsageError, match="needs text"):
        commands.dispatch("/explain")
    assert commands.dispatch("/pack writing") == DONE and session.pack == "writing"
    assert "summarize" in capsys.readouterr().err


def test_remember_correct_search_and_save(session, tmp_path, capsys):
    commands = Commands(session, Out(rich=False))
    commands.dispatch("/remember the invoice is due on Friday")
    note_id = capsys.readouterr().err.split("remembered: ")[1].strip()
    commands.dispatch(f"/correct {note_id} the invoice is due on Monday")
    commands.dispatch("/memory search invoice")
    assert note_id in capsys.readouterr().out
    session.transcript += [Said("user", "hi"), Said("assistant", "hello", model="local/smollm2", partial=True)]
    commands.dispatch(f"/save {tmp_path / 't.md'}")
    saved = (tmp_path / "t.md").read_text()
    assert "## You\n\nhi" in saved and "## DOS (local/smollm2) [interrupted]\n\nhello" in saved
    assert saved == transcript_markdown(session)[: len(saved)]


def test_route_and_model_commands_call_no_model(session, capsys):
    commands = Commands(session, Out(rich=False))
    commands.dispatch("/route")
    assert "chain: local/smollm2" in capsys.readouterr().out
    commands.dispatch("/model local/smollm2")
    assert session.model == "local/smollm2"
    commands.dispatch("/model auto")
    assert session.model is None


PRICED = """\
discover: {localhost: false, env: false}
model_list:
  - model_name: cloud-eu
    litellm_params: {model: openai/cloud-eu, api_base: "http://127.0.0.1:9/v1", api_key: sk-test-not-a-key}
    sovereignty: eu
    quality: 4
    input_price: 1
    output_price: 3
"""


def test_route_model_and_the_toolbar_agree_with_route_explain_when_a_budget_removes_a_model(
        dos, dos_home, tmp_path, monkeypatch, capsys):
    write_skill(tmp_path / ".dos" / "skills", "ask", extra="metadata:\n  dos:\n    route:\n      prefer: best\n")
    write_models_yaml(dos_home, PRICED)
    assert dos("trust").code == 0  # a project skill that prefers the best model may leave the machine
    # the worst case of cloud-eu (the skill, what recall may add, 4096 tokens out) is about 0.022: over 0.01
    assert dos("budget", "set", "--skill", "ask", "--period", "day", "0.01").code == 0
    explained = json.loads(dos("route", "explain", "ask", "--json").out)
    pinned = dos("route", "explain", "ask", "--model", "cloud-eu")
    assert explained["chain"] == ["local/smollm2"]
    removed = next(c for c in explained["candidates"] if c["name"] == "cloud-eu")
    assert not removed["kept"] and removed["constraint"] == "budget" and "skill 'ask' daily budget" in removed["reason"]
    assert pinned.code == 14

    monkeypatch.setenv("DOS_HOME", str(dos_home))
    monkeypatch.setenv("DOS_HOOKS", "0")
    monkeypatch.chdir(tmp_path)
    session = ChatSession(Options(skill="ask"))
    skill, decision = session.route()
    assert decision.describe() | {"skill": skill.name} == explained  # the same explanation, word for word

    commands = Commands(session, Out(rich=False))
    commands.dispatch("/route")
    shown = capsys.readouterr().out
    for c in explained["candidates"]:
        assert f"{c['name']}\t{'yes' if c['kept'] else 'no'}\t{c['reason']}\n" in shown
    assert "chain: local/smollm2\n" in shown

    with pytest.raises(BudgetExceeded, match="over budget"):  # as `dos route explain --model cloud-eu`: exit 14
        commands.dispatch("/model cloud-eu")
    assert session.model is None  # a model no turn would take is not pinned

    toolbar = Toolbar(session, balance=lambda _: None)
    toolbar.preview()  # reads the catalog (off the main thread in the REPL); the next redraw explains the route
    assert toolbar().startswith(" local/smollm2 [local]") and toolbar.routed == explained["chain"][0]


def test_completion_of_commands_skills_and_arguments(session, tmp_path):
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from dos.cli.repl.completion import ChatCompleter, Names

    names = Names({"skill": lambda _: ["summarize", "explain"], "pack": lambda _: ["writing"],
                   "model": lambda _: ["local/smollm2"]})
    names.refresh().join()
    completer = ChatCompleter(names)

    def done(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]

    assert done("/sk") == ["/skill"]
    assert done("/su") == ["/summarize"]
    assert done("/skill ex") == ["explain"]
    assert done("/pack w") == ["writing"]
    assert done("/model lo") == ["local/smollm2"]
    (tmp_path / "notes.txt").write_text("x")
    assert "tes.txt" in done(f"/save {tmp_path}/no")
    assert "tes.txt" in done(f"look at {tmp_path}/no")


class _Runner:
    """A HookRunner that records which events fire."""

    def __init__(self):
        from dos.core.turn.hooks import HookSpec

        self.fired: list[str] = []
        self.specs = [HookSpec(e, "python", "x:y", "test") for e in ("SessionStart", "SessionEnd", "Stop")]

    def hooks(self):
        return self.specs

    def problems(self):
        return []

    def run(self, chosen, payload):
        self.fired.append(payload["hook_event_name"])
        return [HookOutcome(s, 0, result={"hookSpecificOutput": {"additionalContext": "ctx"}}) for s in chosen]


def test_session_hooks_fire_once_per_chat_not_per_turn():
    runner = _Runner()
    hooks, chat = Hooks(runner), Conversation()
    chat.open(hooks, session_id="S1", skill="chat", pack=None, model=None, memory=None, source="startup")
    for turn in ("T1", "T2"):
        hs = hooks.session(session_id="S1", turn_id=turn, skill="chat", pack=None, model="m", conversation=chat)
        hs.start()
        assert hs.messages([{"role": "user", "content": "hi"}])[0]["content"] == "ctx"
        hs.stop("answer", 0.1)
        hs.end()
    chat.close()
    chat.close()
    assert runner.fired == ["SessionStart", "Stop", "Stop", "SessionEnd"]


def test_a_changed_file_rebuilds_dos_before_the_next_turn(session):
    before = session.dos
    assert session.reload_if_stale() == []
    session.changed("skills/mine/SKILL.md")
    session.changed("skills/mine/SKILL.md")
    assert session.reload_if_stale() == ["skills/mine/SKILL.md"]
    assert session.dos is not before


def test_the_watcher_sees_a_new_skill(session, dos_home):
    import time

    from dos.cli.repl.watch import start_watcher

    skills = Path(session.dos.paths.user_skills)
    skills.mkdir(parents=True)
    seen: list[str] = []
    observer = start_watcher(session.dos, seen.append)
    assert observer is not None
    try:
        (skills / "mine").mkdir()
        (skills / "mine" / "SKILL.md").write_text("---\nname: mine\ndescription: d\n---\nbody\n")
        deadline = time.monotonic() + 5
        while not any("SKILL.md" in s for s in seen) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        observer.stop()
    assert any(s.endswith("mine/SKILL.md") for s in seen), seen
