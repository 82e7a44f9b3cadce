"""Recall: past events offered to the model within a budget, related notes and the session's turns, the last
session found per scope (`dos run -c` through the CLI: tests/cli/test_memory_recall.py)."""

from __future__ import annotations

from pathlib import Path

from dos.adapters.store.sqlite_memory import SqliteMemory
from dos.core.domain import Event, Skill, TurnRequest, TurnSummary, Usage
from dos.core.turn.recall import BUDGET_TOKENS, estimate_tokens, recall
from dos.core.turn.runner import TurnRunner
from tests.support.fakes import FakeSkills, ScriptedModel, TickClock, routed

SKILL = Skill("explain", "Explain.", "Explain things.", "/x/SKILL.md", "builtin")


class Source:
    def __init__(self, turns: list[TurnSummary], related: list[Event]):
        self.turns, self.found = turns, related

    def session_turns(self, session_id, limit, exclude_turn=None):
        return self.turns[-limit:]

    def related(self, text, limit, exclude_turn=None):
        return self.found[:limit]


def turn(i: int, size: int = 40) -> TurnSummary:
    return TurnSummary(f"t{i}", "2025-01-01T00:00:00Z", "s", "explain", "m", f"q{i} " + "x" * size,
                       f"a{i} " + "y" * size, True, Usage(), 1.0)


def test_recall_fits_the_budget_newest_history_first_and_skips_duplicates():
    history = [turn(i, 300) for i in range(8)]
    related = [Event("note", f"fact {i} " + "z" * 300, turn_id=f"n{i}", ts="2025-01-02T00:00:00Z") for i in range(12)]
    related.insert(0, Event("prompt", "q7 again", turn_id="t7", ts="2025-01-02T00:00:00Z"))
    got = recall(Source(history, related), "question", "s", "now")
    assert [t.turn_id for t in got.history] == ["t6", "t7"]  # the newest that fit 60% of the budget
    assert got.related and all(e.turn_id != "t7" for e in got.related)
    assert got.tokens <= BUDGET_TOKENS + 8 * len(got.related)
    assert got.messages[0] == {"role": "user", "content": history[6].prompt}
    assert "fact 0" in got.note and estimate_tokens("abcde") == 2


def runner(memory: SqliteMemory, model: ScriptedModel) -> TurnRunner:
    return TurnRunner(FakeSkills(SKILL), routed(model), memory, TickClock())


def test_a_turn_is_offered_related_notes_and_its_session_and_no_memory_turns_it_off(tmp_path: Path):
    memory = SqliteMemory(tmp_path / "memory.db")
    memory.append(Event("note", "My cat is called Miso", "n", "n", "user"))
    retracted = memory.append(Event("note", "My cat is called Rex", "n2", "n2", "user"))
    memory.append(Event("retraction", "", "n2", "n2", "user", ref=retracted.id))
    model = ScriptedModel(["Miso."])
    seen = []
    first = runner(memory, model).run(TurnRequest("explain", "What is my cat called?"), on_context=seen.append)
    system = model.calls[0]["messages"][0]["content"]
    assert system.startswith("Explain things.") and "My cat is called Miso" in system and "Rex" not in system
    assert "What is my cat called" not in system  # the turn's own prompt is not recalled
    assert seen[0].related[0].text == "My cat is called Miso"

    runner(memory, model).run(TurnRequest("explain", "And her age?", session_id=first.session_id))
    assert model.calls[1]["messages"][1:] == [
        {"role": "user", "content": "What is my cat called?"},
        {"role": "assistant", "content": "Miso."},
        {"role": "user", "content": "And her age?"},
    ]
    runner(memory, model).run(TurnRequest("explain", "What is my cat called?", recall=False))
    assert model.calls[2]["messages"] == [{"role": "system", "content": "Explain things."},
                                          {"role": "user", "content": "What is my cat called?"}]


def test_last_session_is_found_per_scope(tmp_path: Path):
    memory = SqliteMemory(tmp_path / "memory.db")
    model = ScriptedModel(["ok"])
    a = runner(memory, model).run(TurnRequest("explain", "one", scope="tty:/dev/pts/1"))
    runner(memory, model).run(TurnRequest("explain", "two", scope="tty:/dev/pts/2"))
    assert memory.last_session("tty:/dev/pts/1") == a.session_id
    assert memory.last_session("dir:/elsewhere") is None
