"""The turn use case on fakes: ordering of memory writes, partial answers, overrides."""

from __future__ import annotations

import pytest

from dos.core.domain import Skill, TurnRequest
from dos.core.errors import ModelError, UnknownSkill, UsageError
from dos.core.turn.runner import TurnRunner, find_skill, prompt_of
from tests.support.fakes import FakeMemory, FakeSkills, ScriptedModel, TickClock, routed

SUMMARIZE = Skill("summarize", "Summarize text.", "Summarize the text.", "/x/SKILL.md", "builtin",
                  {"dos": {"temperature": 0.2, "max_tokens": 50, "model": "local/smollm2"}})


def runner(model: ScriptedModel, memory: FakeMemory) -> TurnRunner:
    return TurnRunner(FakeSkills(SUMMARIZE), routed(model), memory, TickClock())


def test_prompt_is_recorded_before_the_model_is_called_and_response_after():
    memory = FakeMemory()
    model = ScriptedModel(["Hello", " world"], memory=memory)
    seen: list[str] = []
    result = runner(model, memory).run(TurnRequest("summarize", "some text"), on_text=seen.append)
    assert model.events_seen_at_call == ["prompt"]
    assert [e.kind for e in memory.events] == ["prompt", "route", "response"]
    prompt, route, response = memory.events
    assert route.data["chosen"] == "local/smollm2" and route.turn_id == result.turn_id
    assert prompt.text == "some text" and prompt.turn_id == response.turn_id == result.turn_id
    assert response.text == "Hello world" == result.text
    assert response.data["complete"] is True and response.data["usage"] == {"prompt_tokens": 7, "completion_tokens": 2}
    assert seen == ["Hello", " world"]


def test_skill_body_is_the_system_prompt_and_skill_settings_apply():
    memory = FakeMemory()
    model = ScriptedModel(["ok"])
    runner(model, memory).run(TurnRequest("summarize", "abc"))
    call = model.calls[0]
    assert call["messages"] == [
        {"role": "system", "content": "Summarize the text."},
        {"role": "user", "content": "abc"},
    ]
    assert (call["model"], call["temperature"], call["max_tokens"]) == ("local/smollm2", 0.2, 50)


def test_command_line_overrides_skill_settings():
    model = ScriptedModel(["ok"])
    runner(model, FakeMemory()).run(TurnRequest("summarize", "abc", model="other/m", max_tokens=5, temperature=0.0))
    assert (model.calls[0]["model"], model.calls[0]["max_tokens"], model.calls[0]["temperature"]) == ("other/m", 5, 0.0)


@pytest.mark.parametrize("error", [KeyboardInterrupt(), ModelError("provider down")])
def test_interrupted_or_failed_stream_keeps_the_partial_answer(error):
    memory = FakeMemory()
    model = ScriptedModel(["one", " two", " three"], fail_after=2, fail_with=error)
    with pytest.raises(type(error)):
        runner(model, memory).run(TurnRequest("summarize", "abc"))
    assert [e.kind for e in memory.events] == ["prompt", "route", "response"]
    route, response = memory.events[1:]
    assert route.data["ok"] is False
    assert response.text == "one two"
    assert response.data["complete"] is False
    assert response.data["error"] == ("interrupted" if isinstance(error, KeyboardInterrupt) else "provider down")


def test_unknown_skill_and_empty_text_write_nothing():
    memory = FakeMemory()
    with pytest.raises(UnknownSkill):
        runner(ScriptedModel([]), memory).run(TurnRequest("nope", "abc"))
    with pytest.raises(UsageError):
        runner(ScriptedModel([]), memory).run(TurnRequest("summarize", "  \n"))
    assert memory.events == []


def test_no_log_writes_nothing():
    memory = FakeMemory()
    runner(ScriptedModel(["x"]), memory).run(TurnRequest("summarize", "abc", log=False))
    assert memory.events == []


def test_a_builtin_skill_runs_when_no_skill_has_its_name_and_a_skill_of_that_name_wins():
    chat = Skill("chat", "Talk.", "You are DOS.", "", "dos")
    mine = Skill("chat", "Mine.", "My own chat.", "/x/SKILL.md", "user")
    for skills, body in ((FakeSkills(SUMMARIZE), "You are DOS."), (FakeSkills(mine), "My own chat.")):
        model = ScriptedModel(["ok"])
        TurnRunner(skills, routed(model), FakeMemory(), TickClock(), builtins=(chat,)).run(TurnRequest("chat", "hi"))
        assert model.calls[0]["messages"][0] == {"role": "system", "content": body}
    assert find_skill(FakeSkills(SUMMARIZE), "summarize", (chat,)) is SUMMARIZE
    with pytest.raises(UnknownSkill):
        find_skill(FakeSkills(SUMMARIZE), "nope", (chat,))


def test_the_prompt_of_dos_run_is_its_words_then_what_was_piped():
    assert prompt_of(["a", "b"], "") == "a b"
    assert prompt_of([], "piped\n") == "piped\n"
    assert prompt_of(["a"], "piped") == "a\n\npiped"
    assert prompt_of(["a"], " \n") == "a"
