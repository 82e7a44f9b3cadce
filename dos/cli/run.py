"""`dos run SKILL [TEXT...]`: one turn of one skill, streamed."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Optional

import typer

from dos.bootstrap import build
from dos.cli.approve import TerminalApprover
from dos.cli.complete import skill_names
from dos.cli.output import AnswerStream, print_json
from dos.context import scope as conversation_scope, turn_id as announced_turn_id
from dos.core.domain import TurnRequest
from dos.core.recall import Recalled
from dos.core.skill_catalog import ASSISTANT, assistant, names_no_skill
from dos.cli.model_options import (ALLOW, MAX_TOKENS, MODEL, NO_MEMORY, PERMISSION_MODE, PREFER, SOVEREIGNTY,
                                   TEMPERATURE)

HELP = """Run a skill on TEXT, on stdin, or on both (TEXT, a blank line, then stdin). A quoted prompt in place of
the skill (`dos run "fill this form" < form.pdf`) runs without one: a model that can call tools is shown the
installed skills and activates the one the task needs.

Example: echo "long notes..." | dos run summarize
"""


def read_prompt(words: list[str]) -> str:
    """TEXT words, then stdin if it is not a terminal; undecodable bytes become U+FFFD, never a crash."""
    text = " ".join(words)
    if sys.stdin is not None and not sys.stdin.isatty():
        piped = sys.stdin.buffer.read().decode("utf-8", errors="replace")
        if piped.strip():
            text = f"{text}\n\n{piped}" if text else piped
    return text


def show_context(recalled: Recalled) -> None:
    """`--show-context`: what recall added, on stderr."""
    lines = [f"context: {len(recalled.history)} earlier turn(s), {len(recalled.related)} related event(s), "
             f"~{recalled.tokens} tokens"]
    lines += [f"  turn {t.turn_id}: {' '.join(t.prompt.split())[:100]}" for t in recalled.history]
    lines += [f"  {e.kind} {e.id}: {' '.join(e.text.split())[:100]}" for e in recalled.related]
    sys.stderr.write("\n".join(lines) + "\n")


def _interrupt_on_sigterm() -> None:
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():  # in the kernel, cancel arrives another way
        signal.signal(signal.SIGTERM, handler)


def run(
    skill: str = typer.Argument(..., help="The skill to run (see `dos skills list`), or a quoted prompt to run "
                                "without one.", autocompletion=skill_names),
    text: Optional[list[str]] = typer.Argument(None, help="The prompt; stdin is appended when piped."),
    model: Optional[str] = MODEL,
    prefer: Optional[str] = PREFER,
    sovereignty: Optional[str] = SOVEREIGNTY,
    max_tokens: Optional[int] = MAX_TOKENS,
    temperature: Optional[float] = TEMPERATURE,
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object instead of streaming text."),
    no_log: bool = typer.Option(False, "--no-log", help="Do not record this turn in memory."),
    no_memory: bool = NO_MEMORY,
    context: bool = typer.Option(False, "--show-context", help="Print what memory added to the prompt (stderr)."),
    resume: bool = typer.Option(False, "--continue", "-c", help="Continue the last conversation of this terminal."),
    no_kernel: bool = typer.Option(False, "--no-kernel", help="Run in this process, not in the warm kernel."),
    tools: Optional[str] = typer.Option(None, "--tools", help="MCP servers whose tools the model may call, e.g. time,git (see `dos mcp list`)."),
    tool_choice: Optional[str] = typer.Option(None, "--tool-choice", help="auto, none, required, or SERVER__TOOL to force that call first."),
    allow: Optional[list[str]] = ALLOW,
    permission_mode: Optional[str] = PERMISSION_MODE,
) -> None:
    _interrupt_on_sigterm()
    dos = build()
    scope = conversation_scope()  # the client's terminal or folder, also when the kernel runs this
    no_skill = names_no_skill(skill)
    request = TurnRequest(
        skill=ASSISTANT if no_skill else skill,
        text=read_prompt([skill, *(text or [])] if no_skill else text or []),
        model=model,
        max_tokens=max_tokens,
        temperature=temperature,
        log=not no_log,
        session_id=dos.memory.last_session(scope) if resume else None,
        recall=not no_memory and dos.settings["recall"],
        recall_tokens=dos.settings["recall_tokens"],
        scope=scope,
        tools=tuple(t.strip() for t in (tools or "").split(",") if t.strip()),
        tool_choice=tool_choice,
        allow=tuple(allow or ()),
        permission_mode=permission_mode,
        turn_id=announced_turn_id(),
        skill_catalog=no_skill,
    )
    with AnswerStream(quiet=json_out) as out:
        runner = dos.turn_runner(prefer=prefer, sovereignty=sovereignty, approver=TerminalApprover(out.paused))
        result = runner.run(request, on_text=out.write, on_context=show_context if context else lambda _: None,
                            skill=assistant() if no_skill else None)
    if json_out:
        print_json(
            {
                "text": result.text,
                "model": result.model,
                "skill": result.skill,
                "usage": {
                    "prompt_tokens": result.usage.prompt_tokens,
                    "completion_tokens": result.usage.completion_tokens,
                    "total_tokens": result.usage.total_tokens,
                },
                "cost": result.cost,
                "finish_reason": result.finish_reason,
                "duration_s": round(result.duration_s, 4),
                "turn_id": result.turn_id if request.log else None,
                "session_id": result.session_id,
            }
        )
