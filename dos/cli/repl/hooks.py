"""Hooks for a chat: SessionStart and SessionEnd fire once per chat session, not once per turn.

TurnRunner opens a HookSession per turn and fires SessionStart/SessionEnd itself (right for `dos run`, where a
session is one turn). A chat wraps the configured Hooks so each turn's HookSession reuses the context the
chat's one SessionStart added, and leaves SessionEnd to the chat (on /clear and at exit).
"""

from __future__ import annotations

from typing import Any

from dos.core.hooks import HookDecision


class ChatHooks:
    """Stands in for `dos.core.hooks.Hooks` in a chat's TurnRunner (which only calls `session(...)`)."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.context: list[str] = []
        self.stopped = False
        self.stop_reason = ""
        self._open: Any = None  # the chat-wide HookSession: fired SessionStart, will fire SessionEnd

    def __getattr__(self, name: str) -> Any:  # runner, notify, cwd, specs, ... of the real hooks
        return getattr(self.inner, name)

    def start(self, session_id: str, skill: str | None, pack: str | None, model: str | None, memory: Any,
              source: str) -> None:
        """SessionStart, once for this chat session (`source`: startup, resume or clear)."""
        self.end("other")
        hs = self.inner.session(session_id=session_id, turn_id="", skill=skill, pack=pack, model=model,
                                memory=memory, resume=source == "resume")
        decision = hs.fire("SessionStart", source=source)
        self.context = list(decision.context)
        self.stopped, self.stop_reason = hs.stopped, hs.stop_reason
        self._open = hs

    def end(self, reason: str = "other") -> None:
        """SessionEnd for the open chat session (once)."""
        hs, self._open = self._open, None
        if hs is not None:
            hs.end(reason)

    def session(self, **fields: Any) -> Any:
        """One turn's HookSession, with SessionStart and SessionEnd left to the chat."""
        hs = self.inner.session(**fields)

        def start() -> HookDecision:
            hs.context += self.context
            if self.stopped:
                hs.stopped, hs.stop_reason = True, self.stop_reason
            return HookDecision("SessionStart")

        def end(reason: str = "other") -> None:
            hs.ended = True

        hs.start, hs.end = start, end
        return hs
