"""`dos chat`: a conversation of many turns, in a terminal REPL or from a script on stdin."""

from __future__ import annotations

import sys
from typing import Optional

import typer

from dos.cli.complete import skill_names
from dos.cli.turn.model_options import (ALLOW, MAX_TOKENS, MODEL, NO_MEMORY, PERMISSION_MODE, PREFER, SOVEREIGNTY,
                                   TEMPERATURE)

HELP = """Talk with DOS: many turns in one session, slash commands (/help), streamed Markdown answers.

Example: dos chat -s explain    (or: dos chat < questions.txt, one turn per line)
"""


def chat(
    skill: Optional[str] = typer.Option(None, "--skill", "-s", help="Start with this skill (see /skill).",
                                        autocompletion=skill_names),
    resume: bool = typer.Option(False, "--continue", "-c", help="Continue the last session of this terminal or folder."),
    session: Optional[str] = typer.Option(None, "--session", help="A named session: created, or continued."),
    model: Optional[str] = MODEL,
    prefer: Optional[str] = PREFER,
    sovereignty: Optional[str] = SOVEREIGNTY,
    max_tokens: Optional[int] = MAX_TOKENS,
    temperature: Optional[float] = TEMPERATURE,
    no_memory: bool = NO_MEMORY,
    no_log: bool = typer.Option(False, "--no-log", help="Do not record this session in memory."),
    vi: bool = typer.Option(False, "--vi", help="Vi key bindings (also: DOS_CHAT_KEYS=vi, or vi in ~/.inputrc)."),
    no_kernel: bool = typer.Option(False, "--no-kernel", help="Run the turns in this process, not in the warm kernel."),
    allow: Optional[list[str]] = ALLOW,
    permission_mode: Optional[str] = PERMISSION_MODE,
) -> None:
    from dos.cli.repl.render import Out
    from dos.cli.repl.session import ChatSession, Options
    from dos.core.errors import UsageError
    from dos.core.turn.tool_gate import flag_rules
    from dos.kernel.client import enabled

    if resume and session:
        raise UsageError("--continue and --session cannot be used together")
    flag_rules(allow or (), permission_mode)  # a bad rule or mode: exit 2 before the chat starts
    options = Options(skill=skill, model=model, prefer=prefer, sovereignty=sovereignty, max_tokens=max_tokens,
                      temperature=temperature, recall=not no_memory, log=not no_log, resume=resume, session=session,
                      kernel=not no_kernel and enabled([]), allow=tuple(allow or ()), permission_mode=permission_mode)
    interactive = sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty()
    out = Out(rich=sys.stdout.isatty())
    chat_session = ChatSession(options, notice=out.notice)
    if skill:
        chat_session.skill = chat_session.resolve(skill)  # unknown skill: exit 3 before anything starts
    if interactive:
        from dos.cli.repl.terminal import run_terminal

        code = run_terminal(chat_session, out, vi=vi)
    else:
        from dos.cli.repl.piped import run_piped

        code = run_piped(chat_session, out)
    if code:
        raise typer.Exit(code)
