"""End to end, progressive disclosure: `dos run "a prompt"` (no skill) and `dos chat` give a model that can call tools
the catalog of installed skills; the model activates a pdf-shaped skill with the `Skill` tool, gets its instructions
and files, reads its reference.md, runs its script and answers. A model that cannot call tools gets the same prompt
as before, and `dos run SKILL` keeps the skill active from the start, with its files listed.

The model is scripted: no real model that calls tools can be had on this machine (no network, no key; the embedded
model cannot call tools reliably), so an OpenAI-compatible server on 127.0.0.1 (tests/fake_provider.py) replays a
fixed sequence of tool calls, records every request, and then answers. Everything between it and the tools
(LiteLLM, the router, the tool loop, the built-in tools, the memory log) is the real thing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from dos.core.turn.disclosure import ASSISTANT_BODY
from tests.support.fake_provider import FakeProvider
from tests.cli.test_builtin_tools_turn import pdf_like_skill
from tests.cli.test_routing_router import events
from tests.support.models_yaml import write_models_yaml

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")


def models_yaml(url: str, capabilities: str = "[chat, tools]") -> str:
    return f"""\
router: {{num_retries: 0, timeout: 10, cooldown_time: 0}}
discover: {{localhost: false, env: false}}
model_list:
  - model_name: scripted
    litellm_params: {{model: openai/scripted, api_base: "{url}", api_key: "sk-test-{'k' * 32}"}}
    quality: 4
    capabilities: {capabilities}
    context_window: 128000
"""


def other_skill(dos_home: Path, name: str, description: str) -> None:
    folder = dos_home / "data" / "skills" / name
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {description}\n---\nDo {name} things.\n")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "form.txt").write_text("NAME: Ada\nDATE: 1843-07-10\n")
    return folder


def test_catalog_then_activation_then_reference_and_script_then_answer(dos, dos_home, work):
    skill = pdf_like_skill(dos_home)
    other_skill(dos_home, "haiku", "Write a haiku about anything. Use when asked for a poem.")
    calls = [("Skill", {"skill": "formfill"}),
             ("Read", {"file_path": str(skill / "reference.md")}),
             ("RunScript", {"script": "scripts/extract.py", "args": ["form.txt"]})]
    with FakeProvider({"scripted": ["tool", "tool", "tool", "ok"]}, reply="The form is Ada's, dated 1843-07-10.",
                      calls=calls) as provider:
        write_models_yaml(dos_home, models_yaml(provider.url))
        r = dos("run", "What does form.txt say?", "--model", "scripted", "--tools", "builtin",
                "--allow", "RunScript(scripts/*)", cwd=work)  # a script runs on a rule (or a person's yes)
        bodies = provider.bodies
    assert r.code == 0, r.err
    assert "The form is Ada's" in r.out and "Traceback" not in r.err
    assert len(bodies) == 4

    system = bodies[0]["messages"][0]
    assert system["role"] == "system" and system["content"].startswith(ASSISTANT_BODY)
    assert "<available_skills>" in system["content"]
    assert (f'<skill name="formfill" location="{skill / "SKILL.md"}">Read the fields of a form. Use when asked what '
            "a form says.</skill>") in system["content"]
    assert '<skill name="haiku"' in system["content"]
    assert "Forms have the fields" not in system["content"] and "scripts/extract.py" not in system["content"]
    assert bodies[0]["messages"][1] == {"role": "user", "content": "What does form.txt say?"}
    offered = [t["function"]["name"] for t in bodies[0]["tools"]]
    assert offered[-1] == "Skill" and "Read" in offered and "RunScript" not in offered  # no skill with scripts yet

    activated = bodies[1]["messages"][-1]
    assert activated["role"] == "tool" and activated["content"].startswith('<skill_content name="formfill">\n# Forms')
    assert f"in the folder {skill} " in activated["content"]
    assert "- reference.md\n- scripts/extract.py" in activated["content"]
    assert "RunScript" in [t["function"]["name"] for t in bodies[1]["tools"]]  # the active skill's scripts now

    reference = bodies[2]["messages"][-1]
    assert reference["role"] == "tool" and "     3\tForms have the fields NAME and DATE." in reference["content"]
    extracted = bodies[3]["messages"][-1]
    assert extracted["role"] == "tool" and json.loads(extracted["content"]) == {"DATE": "1843-07-10", "NAME": "Ada"}

    log = [e for e in events(dos_home) if e["kind"] in ("prompt", "tool_call", "tool_result", "response")]
    assert [e["kind"] for e in log] == ["prompt"] + ["tool_call", "tool_result"] * 3 + ["response"]
    assert {e["skill"] for e in log} == {"chat"} and len({e["turn_id"] for e in log}) == 1
    activation_call, activation = log[1], log[2]
    assert activation_call["data"]["tool"] == "Skill" and activation_call["data"]["arguments"] == {"skill": "formfill"}
    assert activation["data"]["ok"] is True and activation["data"]["activated"] == "formfill"
    assert activation["data"]["skill_path"] == str(skill / "SKILL.md") and activation["data"]["files"] == 2
    assert log[3]["data"]["tool"] == "Read" and log[5]["data"]["tool"] == "RunScript"
    assert activation["data"]["permission"]["reason"] == "activating skill formfill needs no permission"
    assert log[4]["data"]["permission"]["reason"].endswith("a read inside the working folders")  # the skill's own
    assert log[6]["data"]["permission"]["rule"] == "RunScript(scripts/*)"
    assert log[-1]["data"]["complete"] is True and "Ada's" in log[-1]["text"]


def test_each_chat_turn_offers_the_catalog(dos, dos_home, work):
    pdf_like_skill(dos_home)
    with FakeProvider({"scripted": ["tool", "ok"]}, reply="Done.", calls=[("Skill", {"skill": "formfill"})]) as provider:
        write_models_yaml(dos_home, models_yaml(provider.url))
        r = dos("chat", "--model", "scripted", input="What does form.txt say?\n", cwd=work)
        bodies = provider.bodies
    assert r.code == 0, r.err
    assert "Done." in r.out
    assert '<skill name="formfill"' in bodies[0]["messages"][0]["content"]
    assert [t["function"]["name"] for t in bodies[0]["tools"]] == ["Skill"]  # no --tools: the activation tool only
    assert bodies[1]["messages"][-1]["content"].startswith('<skill_content name="formfill">')
    kinds = [e["kind"] for e in events(dos_home) if e["kind"] in ("tool_call", "tool_result")]
    assert kinds == ["tool_call", "tool_result"]


def test_a_model_that_cannot_call_tools_gets_the_prompt_it_got_before(dos, dos_home, work):
    pdf_like_skill(dos_home)
    with FakeProvider({"scripted": ["ok"]}, reply="Plain.") as provider:
        write_models_yaml(dos_home, models_yaml(provider.url, "[chat]"))
        asked = dos("run", "What does form.txt say?", "--model", "scripted", cwd=work)
        named = dos("run", "formfill", "--model", "scripted", "--no-memory", "What does form.txt say?", cwd=work)
        bodies = provider.bodies
    assert asked.code == 0 and named.code == 0, asked.err + named.err
    assert bodies[0]["messages"][0] == {"role": "system", "content": ASSISTANT_BODY}
    assert "tools" not in bodies[0] and "tools" not in bodies[1]
    assert bodies[1]["messages"][0]["content"].endswith(
        " run scripts/extract.py FILE.\n\nFiles this skill can use (ask for one by path when needed):\n"
        "- scripts/extract.py")  # as before: no catalog of files, no folder


def test_a_named_skill_is_active_from_the_start_and_a_tool_model_gets_its_files(dos, dos_home, work):
    skill = pdf_like_skill(dos_home)
    other_skill(dos_home, "haiku", "Write a haiku.")
    with FakeProvider({"scripted": ["ok"]}, reply="Plain.") as provider:
        write_models_yaml(dos_home, models_yaml(provider.url))
        r = dos("run", "formfill", "--model", "scripted", "What does form.txt say?", cwd=work)
        bodies = provider.bodies
    assert r.code == 0, r.err
    system = bodies[0]["messages"][0]["content"]
    assert system.startswith("# Forms\n\nFor the field names, read reference.md")
    assert f"Files bundled with the skill formfill, in the folder {skill} " in system
    assert system.endswith("- reference.md\n- scripts/extract.py")
    assert "<available_skills>" not in system and "tools" not in bodies[0]  # no catalog, and no tools asked for
    assert [e["skill"] for e in events(dos_home) if e["kind"] == "prompt"] == ["formfill"]


def test_an_unknown_single_word_is_still_an_unknown_skill(dos, dos_home):
    r = dos("run", "summarise", "this")
    assert r.code == 3 and "unknown skill 'summarise'" in r.err
