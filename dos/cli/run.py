"""`dos run SKILL [TEXT...]`: one turn of one skill, streamed."""

from __future__ import annotations

import signal
import sys
from typing import Optional

import typer

from dos.bootstrap import build
from dos.cli.output import AnswerStream, print_json
from dos.core.domain import TurnRequest

HELP = """Run a skill on TEXT, on stdin, or on both (TEXT, a blank line, then stdin).

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


def _interrupt_on_sigterm() -> None:
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def run(
    skill: str = typer.Argument(..., help="The skill to run (see `dos skills list`)."),
    text: Optional[list[str]] = typer.Argument(None, help="The prompt; stdin is appended when piped."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Model to use, e.g. local/smollm2."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, help="Most tokens to generate."),
    temperature: Optional[float] = typer.Option(None, "--temperature", min=0.0, max=2.0, help="Sampling temperature."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object instead of streaming text."),
    no_log: bool = typer.Option(False, "--no-log", help="Do not record this turn in memory."),
) -> None:
    _interrupt_on_sigterm()
    request = TurnRequest(
        skill=skill,
        text=read_prompt(text or []),
        model=model,
        max_tokens=max_tokens,
        temperature=temperature,
        log=not no_log,
    )
    runner = build().turn_runner()
    with AnswerStream(quiet=json_out) as out:
        result = runner.run(request, on_text=out.write)
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
