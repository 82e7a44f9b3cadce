"""`dos run SKILL [TEXT...]`: one turn of one skill, streamed. With the warm kernel on, dos.cli.run_fast reads the
same command line and the kernel runs the turn through the same use case (`Dos.run_request`, `Dos.turn_runner`)."""

from __future__ import annotations

import signal
import sys
from typing import Optional

import typer

from dos.bootstrap import build
from dos.cli.turn.approve import TerminalApprover
from dos.cli.complete import skill_names
from dos.cli.output import AnswerStream, print_json
from dos.cli.run_fast import json_answer
from dos.context import scope as conversation_scope
from dos.core.turn.recall import Recalled
from dos.cli.turn.model_options import (ALLOW, MAX_TOKENS, MODEL, NO_MEMORY, PERMISSION_MODE, PREFER, SOVEREIGNTY,
                                   TEMPERATURE)

HELP = """Run a skill on TEXT, on stdin, or on both (TEXT, a blank line, then stdin). A quoted prompt in place of
the skill (`dos run "fill this form" < form.pdf`) runs without one: a model that can call tools is shown the
installed skills and activates the one the task needs.

Example: echo "long notes..." | dos run summarize
"""


def read_piped() -> str:
    """What was piped on stdin ('' from a terminal); undecodable bytes become U+FFFD, never a crash."""
    piped = sys.stdin is not None and not sys.stdin.isatty()
    return sys.stdin.buffer.read().decode("utf-8", errors="replace") if piped else ""


def show_context(recalled: Recalled) -> None:
    """`--show-context`: what recall added, on stderr."""
    sys.stderr.write(recalled.summary)


def _interrupt_on_sigterm() -> None:
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

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
    request, named = dos.run_request(
        skill,
        text or [],
        read_piped(),
        resume=resume,
        model=model,
        max_tokens=max_tokens,
        temperature=temperature,
        log=not no_log,
        recall=not no_memory,
        scope=conversation_scope(),
        tools=tuple(t.strip() for t in (tools or "").split(",") if t.strip()),
        tool_choice=tool_choice,
        allow=tuple(allow or ()),
        permission_mode=permission_mode,
    )
    with AnswerStream(quiet=json_out) as out:
        runner = dos.turn_runner(prefer=prefer, sovereignty=sovereignty, approver=TerminalApprover(out.paused))
        result = runner.run(request, on_text=out.write, on_context=show_context if context else lambda _: None,
                            skill=named)
    if json_out:
        usage = [result.usage.prompt_tokens, result.usage.completion_tokens]
        print_json(json_answer(vars(result) | {"usage": usage}, request.log))
