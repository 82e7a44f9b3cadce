"""`dos chat < script.txt`: each line is a turn (or a slash command); a `\"\"\"` line opens and closes a block of
several lines. Answers stream as plain text on a pipe; undecodable bytes become U+FFFD, never a crash."""

from __future__ import annotations

import sys
from collections.abc import Iterator

from dos.cli.repl.commands import EXIT, Commands, Turn
from dos.cli.repl.render import Out
from dos.cli.repl.session import ChatSession
from dos.core.errors import DosError

FENCE = '"""'


def inputs(lines: Iterator[str]) -> Iterator[str]:
    """Lines, with `\"\"\"` blocks joined into one input (an unclosed block ends at end of input)."""
    block: list[str] | None = None
    for line in lines:
        line = line.rstrip("\r\n")
        if block is None:
            stripped = line.strip()
            if stripped.startswith(FENCE):
                rest = stripped[len(FENCE):]
                if rest.endswith(FENCE) and len(rest) >= len(FENCE):  # """one line"""
                    yield rest[: -len(FENCE)]
                    continue
                block = [rest] if rest else []
                continue
            yield line
        elif line.strip().endswith(FENCE):
            last = line.rstrip()[: -len(FENCE)]
            yield "\n".join(block + ([last] if last.strip() else []))
            block = None
        else:
            block.append(line)
    if block is not None:
        yield "\n".join(block)


def _lines() -> Iterator[str]:
    stream = sys.stdin.buffer if sys.stdin is not None else None
    if stream is None:
        return
    for raw in stream:
        yield raw.decode("utf-8", errors="replace")


def run_piped(session: ChatSession, out: Out) -> int:
    """Runs the script; returns the exit code: 0, or the first failed turn's or command's code."""
    commands = Commands(session, out)
    code = 0
    try:
        for text in inputs(_lines()):
            try:
                action = commands.dispatch(text)
                if action == EXIT:
                    break
                if isinstance(action, Turn):
                    with out.answer() as stream:
                        session.turn(action.text, action.skill, on_text=stream.write)
            except DosError as exc:
                out.error(exc.message)
                code = code or exc.exit_code
    finally:
        session.end("other" if code == 0 else "error")
    return code
