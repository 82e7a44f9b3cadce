"""End to end: `dos run SKILL --tools builtin` with a skill shaped like Anthropic's `pdf` skill (SKILL.md pointing at
reference.md and scripts/extract.py). The model reads the reference, runs the script on a file in the user's
folder (allowed by `--allow 'RunScript(scripts/*)'`; reading the skill's own folder needs no rule), and answers;
every call and result is in the memory log, with its permission decision.

The model is scripted: a real model that calls tools reliably cannot be had on this machine (no network, no key,
and the embedded model is too small to follow a skill's instructions), so an OpenAI-compatible server on 127.0.0.1
(tests/support/fake_provider.py) replays a fixed sequence of tool calls and then answers. Everything between it and the
tools (LiteLLM, the router, the tool loop, the built-in tools, the memory log) is the real thing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.cli.test_routing_router import events
from tests.support.fake_provider import FakeProvider
from tests.support.models_yaml import write_models_yaml

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")

EXTRACT = """\
import json, sys
fields = dict(line.split(": ", 1) for line in open(sys.argv[1]).read().splitlines() if ": " in line)
print(json.dumps(fields, sort_keys=True))
"""


def models_yaml(url: str) -> str:
    return f"""\
router: {{num_retries: 0, timeout: 10, cooldown_time: 0}}
discover: {{localhost: false, env: false}}
model_list:
  - model_name: scripted
    litellm_params: {{model: openai/scripted, api_base: "{url}", api_key: "sk-test-{'k' * 32}"}}
    quality: 4
"""


def pdf_like_skill(dos_home: Path) -> Path:
    skill = dos_home / "data" / "skills" / "formfill"
    (skill / "scripts").mkdir(parents=True)
    (skill / "SKILL.md").write_text(
        "---\nname: formfill\ndescription: Read the fields of a form. Use when asked what a form says.\n---\n"
        "# Forms\n\nFor the field names, read reference.md in this skill's folder. To extract the fields of a form,"
        " run scripts/extract.py FILE.\n")
    (skill / "reference.md").write_text("# Reference\n\nForms have the fields NAME and DATE.\n")
    (skill / "scripts" / "extract.py").write_text(EXTRACT)
    return skill


def test_a_skill_reads_its_reference_and_runs_its_script_through_builtin_tools(dos, dos_home, tmp_path):
    skill = pdf_like_skill(dos_home)
    work = tmp_path / "work"
    work.mkdir()
    (work / "form.txt").write_text("NAME: Ada\nDATE: 1843-07-10\n")
    calls = [("Read", {"file_path": str(skill / "reference.md")}),
             ("RunScript", {"script": "scripts/extract.py", "args": ["form.txt"]})]
    with FakeProvider({"scripted": ["tool", "tool", "ok"]}, reply="The form is Ada's, dated 1843-07-10.",
                      calls=calls) as provider:
        write_models_yaml(dos_home, models_yaml(provider.url))
        r = dos("run", "formfill", "--model", "scripted", "--tools", "builtin", "--allow", "RunScript(scripts/*)",
                "What does form.txt say?", cwd=work)
        bodies = provider.bodies
    assert r.code == 0, r.err
    assert "The form is Ada's" in r.out and "Traceback" not in r.err

    assert [t["function"]["name"] for t in bodies[0]["tools"]] == ["Read", "Write", "Edit", "Glob", "Grep", "Bash",
                                                                   "RunScript"]
    assert len(bodies) == 3
    reference = bodies[1]["messages"][-1]
    assert reference["role"] == "tool" and reference["content"].splitlines()[2] == "     3\tForms have the fields " \
                                                                                   "NAME and DATE."
    extracted = bodies[2]["messages"][-1]
    assert extracted["role"] == "tool" and json.loads(extracted["content"]) == {"DATE": "1843-07-10", "NAME": "Ada"}

    log = [e for e in events(dos_home) if e["kind"] in ("prompt", "tool_call", "tool_result", "response")]
    assert [e["kind"] for e in log] == ["prompt", "tool_call", "tool_result", "tool_call", "tool_result", "response"]
    read_call, read_result, run_call, run_result = log[1:5]
    assert read_call["data"]["tool"] == "Read" and read_call["data"]["arguments"] == calls[0][1]
    assert read_result["data"]["ok"] is True and "Forms have the fields" in read_result["text"]
    assert run_call["data"]["tool"] == "RunScript" and run_call["data"]["arguments"]["args"] == ["form.txt"]
    assert run_result["data"]["ok"] is True and '"NAME": "Ada"' in run_result["text"]
    assert read_result["data"]["permission"]["reason"].endswith("a read inside the working folders")  # the skill's
    assert run_result["data"]["permission"] == {"decision": "allow", "verdict": "allow", "rule": "RunScript(scripts/*)",
                                                "origin": "--allow",
                                                "reason": "RunScript(scripts/extract.py) is allowed by "
                                                          "RunScript(scripts/*) (--allow)"}
    assert run_result["data"]["exit_code"] == 0 and run_result["data"]["output_bytes"] > 0
    assert len({e["turn_id"] for e in log}) == 1
    assert log[-1]["data"]["complete"] is True and "Ada's" in log[-1]["text"]

