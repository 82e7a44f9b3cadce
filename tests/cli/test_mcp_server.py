"""`dos mcp serve`: the official MCP client connects over stdio, lists the skills as prompts, and runs
`run_skill` (a full DOS turn on the embedded model, recorded in memory)."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from tests.conftest import clean_env


async def _session(dos_home, tmp_path, body):
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=sys.executable, args=["-m", "dos", "mcp", "serve"],
                                   env=clean_env(dos_home), cwd=str(tmp_path))
    with open(tmp_path / "serve.err", "w") as errlog:
        async with stdio_client(params, errlog=errlog) as streams, ClientSession(streams[0], streams[1]) as session:
            await session.initialize()
            return await body(session)


def test_serve_lists_skills_as_prompts_and_the_run_skill_tool(dos_home, tmp_path):
    async def body(session):
        prompts = await session.list_prompts()
        tools = await session.list_tools()
        rendered = await session.get_prompt("summarize", {"text": "some notes"})
        bad = await session.call_tool("run_skill", {"skill": "no-such-skill", "text": "x"})
        return prompts, tools, rendered, bad

    prompts, tools, rendered, bad = asyncio.run(_session(dos_home, tmp_path, body))
    names = {p.name for p in prompts.prompts}
    assert {"summarize", "explain", "rewrite"} <= names
    assert all(p.description for p in prompts.prompts)
    assert [t.name for t in tools.tools] == ["run_skill"]
    assert set(tools.tools[0].input_schema["required"]) == {"skill", "text"}
    text = rendered.messages[0].content.text
    assert text.endswith("some notes") and len(text) > len("some notes") + 20
    assert bad.is_error and "unknown skill 'no-such-skill'" in bad.content[0].text


@pytest.mark.model
def test_run_skill_runs_a_dos_turn_on_the_embedded_model(dos, dos_home, tmp_path):
    async def body(session):
        return await session.call_tool("run_skill", {"skill": "summarize", "text": "Local-first software keeps data "
                                                     "on your machine.", "max_tokens": 12, "temperature": 0})

    result = asyncio.run(_session(dos_home, tmp_path, body))
    assert not result.is_error, result.content
    answer = result.content[0].text
    assert answer.strip()
    log = json.loads(dos("memory", "log", "--json", "-n", "1").out)
    turn = log[-1] if isinstance(log, list) else log["turns"][-1]
    assert turn["skill"] == "summarize" and turn["response"] == answer
