"""Progressive disclosure, the pure part (dos.core.turn.disclosure): the catalog within its token budget, what a turn's
skill looks like to a model that can call tools (and that one that cannot sees nothing new), and the `Skill` tool's
activation, alone and inside a turn's tool loop (fakes for the model, the catalog and the tools)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from dos.core.domain import Chunk, Skill, SkillInfo, TurnRequest, Usage
from dos.core.errors import UnknownSkill
from dos.core.turn.recall import estimate_tokens
from dos.core.routing.policy import ModelEntry
from dos.core.turn.disclosure import (
    ACTIVATE,
    ASSISTANT_BODY,
    MIN_DESCRIPTION,
    CatalogEntry,
    Disclosure,
    assistant,
    budget_for,
    build_catalog,
    disclose,
    names_no_skill,
)
from dos.core.tools import BUILTIN, ServerSpec, ServerTools, ToolCall, ToolResult, ToolSpec
from dos.core.turn.runner import TurnRunner
from tests.support.fakes import FakeMemory, TickClock, routed

TOOLS = ModelEntry("tooly", capabilities=frozenset({"chat", "tools"}), context_window=100_000)
PLAIN = ModelEntry("local/smollm2", capabilities=frozenset({"chat"}), context_window=4096)


def entries(n: int, description: str = "Fills PDF forms and extracts their fields. Use when a PDF is given.") -> tuple:
    return tuple(CatalogEntry(f"skill-{i:03d}", description, f"/home/u/.local/share/dos/skills/skill-{i:03d}/SKILL.md")
                 for i in range(n))


# ---------------------------------------------------------------------------------------------- the budget


def test_a_catalog_that_fits_lists_every_skill_whole_with_its_location_escaped():
    found = build_catalog((CatalogEntry("pdf", 'Forms & <fields> "quoted"', "/s/pdf/SKILL.md"),
                           CatalogEntry("xlsx", "Spreadsheets.", "/s/xlsx/SKILL.md")), 2_000)
    assert (found.listed, found.left_out, found.cut_to) == (2, 0, None)
    assert ('<skill name="pdf" location="/s/pdf/SKILL.md">Forms &amp; &lt;fields&gt; &quot;quoted&quot;</skill>'
            in found.text)
    assert found.text.index("pdf") < found.text.index("xlsx")  # precedence order kept
    assert "<available_skills>" in found.text and f"`{ACTIVATE}` tool" in found.text
    assert found.tokens == estimate_tokens(found.text)


def test_an_over_long_description_is_cut_to_the_spec_maximum_even_with_room():
    found = build_catalog((CatalogEntry("claude-api", "word " * 300, "/s/c/SKILL.md"),), 100_000)
    description = found.text.split('">', 1)[1].split("</skill>", 1)[0]
    assert len(description) <= 1_025 and description.endswith("…")


@pytest.mark.parametrize("n, budget", [(100, 4_000), (100, 2_000), (30, 800), (100, 250), (1_000, 4_000)])
def test_the_catalog_stays_within_its_budget_cutting_descriptions_before_leaving_skills_out(n, budget):
    long = "Extracts text and tables from PDF files, fills forms, merges and splits documents. " * 4
    found = build_catalog(entries(n, long), budget)
    assert found.tokens <= budget
    assert found.listed + found.left_out == n
    listed = [line for line in found.text.splitlines() if line.startswith("<skill ")]
    assert len(listed) == found.listed
    assert found.cut_to is not None and found.cut_to >= MIN_DESCRIPTION  # cut, never below the floor
    if found.left_out:
        assert found.cut_to == MIN_DESCRIPTION  # skills go only once descriptions are as short as they get
        assert f"({found.left_out} more skills are installed but not listed here, for room.)" in found.text
        assert listed[0].startswith('<skill name="skill-000"')  # the first (highest precedence) are kept
    else:
        assert "not listed" not in found.text


def test_descriptions_are_cut_alike_and_as_little_as_the_budget_needs():
    long = "word " * 100  # 500 characters each
    full = build_catalog(entries(10, long), 100_000)
    cut = build_catalog(entries(10, long), full.tokens - 100)
    assert cut.listed == 10 and cut.left_out == 0
    assert cut.cut_to is not None and 400 < cut.cut_to < 500  # about 40 characters each paid for the 100 tokens
    lengths = {len(line) for line in cut.text.splitlines() if line.startswith("<skill ")}
    assert max(lengths) - min(lengths) <= 10  # all alike (word ends differ; names are the same length)


def test_budget_follows_the_context_window_within_bounds():
    assert budget_for(None) == 2_000
    assert budget_for(4_096) == 250
    assert budget_for(128_000) == 2_560
    assert budget_for(1_000_000) == 4_000


def test_a_quoted_prompt_in_place_of_a_skill_names_no_skill():
    assert names_no_skill("fill this form")
    assert not names_no_skill("summarize") and not names_no_skill("summarise")  # an unknown word stays an error
    assert not names_no_skill("pack:skill")


# ---------------------------------------------------------------------------------------------- a turn's disclosure


class Skills:
    """A skill source of a few skills, listed in order (one of them broken, one shadowed)."""

    def __init__(self, *skills: Skill):
        self.skills = {s.name: s for s in skills}
        self.listed = 0

    def get(self, name: str) -> Skill:
        if name not in self.skills:
            raise UnknownSkill(name, [n for n in self.skills if n[:2] == name[:2]])
        return self.skills[name]

    def list(self) -> list[SkillInfo]:
        self.listed += 1
        return [SkillInfo(s.name, s.description, s.path, s.source) for s in self.skills.values()] + [
            SkillInfo("broken", "", "/s/broken/SKILL.md", "user", error="no frontmatter"),
            SkillInfo("pdf", "the pack's pdf", "/p/pdf/SKILL.md", "pack:x", shadowed_by="/s/pdf/SKILL.md")]


PDF = Skill("pdf", "Fill PDF forms.", "# PDF\nRead reference.md.\n\nFiles this skill can use (ask for one by path "
            "when needed):\n- scripts/fill.py", "/s/pdf/SKILL.md", "user", {"allowed-tools": "Read RunScript"},
            instructions="# PDF\nRead reference.md.\n", files=("reference.md", "scripts/fill.py"))
NOTES = Skill("notes", "Take notes.", "Write notes.", "/s/notes/SKILL.md", "user", instructions="Write notes.")


def test_a_model_that_cannot_call_tools_gets_nothing_new():
    skills = Skills(PDF, NOTES)
    asking = TurnRequest(skill="chat", text="hi", skill_catalog=True)
    assert disclose(skills, assistant(), asking, PLAIN) is None
    assert disclose(skills, PDF, TurnRequest(skill="pdf", text="hi"), PLAIN) is None
    assert disclose(skills, assistant(), asking, None) is None
    assert skills.listed == 0  # not even listed


def test_the_catalog_lists_usable_skills_after_the_turns_own_prompt_with_locations_for_file_tools():
    skills = Skills(PDF, NOTES)
    asking = TurnRequest(skill="chat", text="hi", skill_catalog=True)
    found = disclose(skills, assistant(), asking, TOOLS)
    assert found is not None and found.tool is not None and found.tool.qualified == ACTIVATE
    system = found.prompt_skill().body
    assert system.startswith(ASSISTANT_BODY + "\n\n")
    assert '<skill name="pdf">Fill PDF forms.</skill>' in system  # only the Skill tool: no use for a location
    assert 'name="notes"' in system and "broken" not in system and "the pack's pdf" not in system
    with_files = disclose(skills, assistant(), replace(asking, tools=("builtin",)), TOOLS).prompt_skill().body
    assert '<skill name="pdf" location="/s/pdf/SKILL.md">Fill PDF forms.</skill>' in with_files


def test_a_named_skill_is_active_from_the_start_with_its_files_and_no_catalog():
    found = disclose(Skills(PDF, NOTES), PDF, TurnRequest(skill="pdf", text="hi"), TOOLS)
    assert found is not None and found.tool is None and found.catalog is None
    system = found.prompt_skill().body
    assert system.startswith("# PDF\nRead reference.md.\n\nFiles bundled with the skill pdf")
    assert "in the folder /s/pdf " in system and "- reference.md\n- scripts/fill.py" in system
    assert "Files this skill can use" not in system  # the listing replaces the one meant for models without tools
    assert disclose(Skills(PDF, NOTES), NOTES, TurnRequest(skill="notes", text="hi"), TOOLS) is None  # no files


def test_activation_gives_the_instructions_and_files_then_says_it_is_active_already():
    found = Disclosure(Skills(PDF, NOTES), assistant(), None)
    done = found.activate({"skill": "pdf"})
    assert done.skill is PDF and done.error is None and not done.again
    assert done.text.startswith('<skill_content name="pdf">\n# PDF\nRead reference.md.\n</skill_content>')
    assert "- reference.md\n- scripts/fill.py" in done.text and "/s/pdf" in done.text
    assert found.prompt_skill().name == "pdf"
    again = found.activate({"skill": "pdf"})
    assert again.again and "active already" in again.text
    unknown = found.activate({"skill": "pdg"})
    assert unknown.skill is None and unknown.error == "unknown skill 'pdg'; did you mean: pdf?"
    assert found.activate({}).error.startswith("give the skill's name")


# ---------------------------------------------------------------------------------------------- inside a turn


class Model:
    """A model that can call tools: replays `script` (tool calls by name), then answers; sees every request."""

    def __init__(self, script: list[tuple[str, dict]]):
        self.script, self.seen = list(script), []

    def stream(self, model, messages, *, max_tokens, temperature, **options):
        self.seen.append(([dict(m) for m in messages], options))
        if self.script and options.get("tools"):
            name, arguments = self.script.pop(0)
            yield Chunk(tool_calls=(ToolCall(f"c{len(self.seen)}", name, json.dumps(arguments)),))
            yield Chunk(finish_reason="tool_calls", usage=Usage(10, 2), cost=0.0)
            return
        yield Chunk(text="done")
        yield Chunk(finish_reason="stop", usage=Usage(5, 1), cost=0.0, model=model)

    def report(self):
        return {}


class Builtin:
    """The built-in server: Read and Bash always, RunScript only when the active skill has files (as the real one)."""

    def __init__(self, skills: Skills):
        self.skills, self.calls, self.servers_read = skills, [], 0

    def servers(self):
        self.servers_read += 1
        return [ServerSpec(BUILTIN, "builtin", "dos")]

    def list_tools(self, servers):
        out = []
        for s in servers:
            has_files = any(k.path == s.skill and k.files for k in self.skills.skills.values())
            out.append(ServerTools(s, (ToolSpec(BUILTIN, "Read"), ToolSpec(BUILTIN, "Bash"))
                                   + ((ToolSpec(BUILTIN, "RunScript"),) if has_files else ())))
        return out

    def call(self, server, tool, arguments):
        self.calls.append((tool, server.skill, arguments))
        return ToolResult(text=f"{tool} ok")

    def close(self):
        pass


def turn(script, request, tools=True):
    skills = Skills(PDF, NOTES)
    model, memory, host = Model(script), FakeMemory(), Builtin(skills)
    runner = TurnRunner(skills, routed(model, TOOLS), memory, TickClock(), tools=host if tools else None)
    result = runner.run(request, skill=assistant() if request.skill == "chat" else None)
    return result, model, memory, host


def test_a_turn_activates_a_skill_whose_allowed_tools_and_scripts_then_apply():
    request = TurnRequest(skill="chat", text="fill form.pdf", skill_catalog=True, tools=("builtin",))
    script = [(ACTIVATE, {"skill": "pdf"}), ("Read", {"file_path": "/s/pdf/reference.md"}),
              ("RunScript", {"script": "scripts/fill.py"}), ("Bash", {"command": "ls"})]
    result, model, memory, host = turn(script, request)
    assert result.text == "done"
    first_messages, first_options = model.seen[0]
    assert "<available_skills>" in first_messages[0]["content"]
    assert [t["function"]["name"] for t in first_options["tools"]] == ["Read", "Bash", ACTIVATE]  # no RunScript yet
    activated = model.seen[1][0][-1]
    assert activated["role"] == "tool" and activated["content"].startswith('<skill_content name="pdf">')
    assert [t["function"]["name"] for t in model.seen[1][1]["tools"]] == ["Read", "Bash", "RunScript", ACTIVATE]
    assert host.calls == [("Read", "/s/pdf/SKILL.md", {"file_path": "/s/pdf/reference.md"}),
                          ("RunScript", "/s/pdf/SKILL.md", {"script": "scripts/fill.py"})]
    results = [e for e in memory.events if e.kind == "tool_result"]
    assert results[0].data["activated"] == "pdf" and results[0].data["ok"] is True
    assert results[0].data["skill_path"] == "/s/pdf/SKILL.md" and results[0].data["files"] == 2
    assert results[-1].data["refused"] is True and "allowed-tools" in results[-1].data["error"]  # Bash: not pdf's


def test_a_turn_with_only_the_catalog_reads_no_tool_configuration():
    request = TurnRequest(skill="chat", text="hello", skill_catalog=True)
    result, model, memory, host = turn([], request)
    assert result.text == "done" and host.servers_read == 0
    assert [t["function"]["name"] for t in model.seen[0][1]["tools"]] == [ACTIVATE]


def test_without_a_tool_host_or_with_the_callers_own_tools_there_is_no_catalog():
    request = TurnRequest(skill="chat", text="hello", skill_catalog=True)
    _, model, _, _ = turn([], request, tools=False)
    assert model.seen[0][0][0]["content"] == ASSISTANT_BODY and "tools" not in model.seen[0][1]
    own = replace(request, options={"tools": [{"type": "function", "function": {"name": "mine"}}]})
    _, model, _, _ = turn([], own)
    assert model.seen[0][0][0]["content"] == ASSISTANT_BODY
