"""DOS served over MCP (official SDK server, `MCPServer`, stdio): every skill is a prompt, and the tool
`run_skill(skill, text)` runs a full DOS turn (router, hooks, memory) through the same `TurnRunner` as `dos run`.

stdout is the protocol channel: nothing else may write to it, so turns run with no text callback and DOS's
notices go to stderr. The SDK is imported only when `dos mcp serve` runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dos.core.domain import SkillInfo, TurnRequest, TurnResult
from dos.core.errors import DosError
from dos.core.ports import SkillSource

INSTRUCTIONS = ("DOS, a local-first AI OS: each prompt is a DOS skill (its instructions, then your text); the tool "
                "run_skill runs a skill through DOS's router, hooks and memory and returns the answer.")


class DosMcpServer:
    """Builds the MCP server from the skills and a turn runner factory; `run()` serves stdio until EOF."""

    def __init__(self, skills: SkillSource, run_turn: Callable[[TurnRequest], TurnResult], version: str = ""):
        self.skills = skills
        self.run_turn = run_turn
        self.version = version

    def skills_served(self) -> list[SkillInfo]:
        return [s for s in self.skills.list() if not s.error and not s.shadowed_by]

    def build(self) -> Any:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
        from mcp.server.mcpserver.prompts.base import Prompt, UserMessage

        server = MCPServer("dos", instructions=INSTRUCTIONS, version=self.version)
        for info in self.skills_served():
            server.add_prompt(Prompt.from_function(self._prompt(info.name, UserMessage), name=info.name,
                                                   description=info.description))
        names = ", ".join(s.name for s in self.skills_served())

        def run_skill(skill: str, text: str, model: str | None = None, max_tokens: int | None = None,
                      temperature: float | None = None) -> str:
            """Run a DOS skill on `text` and return the answer. The turn goes through DOS's router, hooks and
            memory, as `dos run SKILL` would."""
            try:
                result = self.run_turn(TurnRequest(skill=skill, text=text, model=model, max_tokens=max_tokens,
                                                   temperature=temperature))
            except DosError as exc:  # a tool error (isError) with DOS's one line
                raise ToolError(exc.message) from None
            return result.text

        server.add_tool(run_skill, name="run_skill",
                        description=f"Run a DOS skill on text and return the answer. Skills: {names}"[:2000])
        return server

    def _prompt(self, name: str, message: Any) -> Callable[..., Any]:
        def render(text: str = "") -> list[Any]:
            skill = self.skills.get(name)
            body = skill.body.strip()
            return [message("\n\n".join(part for part in (body, text.strip()) if part))]

        return render

    def run(self) -> None:
        self.build().run("stdio")
