"""The chat's built-in skill (`chat`, a plain assistant) and the turn runner a chat uses, in the chat's process
or in the warm kernel (dos.cli.repl.session and dos.cli.repl.kernel both build it here)."""

from __future__ import annotations

from typing import Any

from dos.bootstrap import Dos
from dos.core.domain import Skill
from dos.core.errors import UnknownSkill
from dos.core.skill_catalog import ASSISTANT, assistant

from dos.cli.repl.hooks import ChatHooks

CHAT_SKILL = ASSISTANT  # the plain assistant (`dos run` without a skill runs it too)


class ChatSkills:
    """The skill source of a chat: the usual skills, plus a built-in `chat` skill (a plain assistant) unless a
    skill of that name exists."""

    def __init__(self, inner: Any):
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def get(self, name: str) -> Skill:
        try:
            return self.inner.get(name)
        except UnknownSkill:
            if name != CHAT_SKILL:
                raise
            return assistant()


def chat_runner(dos: Dos, prefer: str | None, sovereignty: str | None, hooks: ChatHooks) -> Any:
    """A TurnRunner for chat turns: the built-in `chat` skill, and SessionStart/SessionEnd left to the chat."""
    runner = dos.turn_runner(prefer=prefer, sovereignty=sovereignty)
    runner.skills = ChatSkills(runner.skills)
    runner.hooks = hooks
    return runner
