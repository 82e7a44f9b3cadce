"""How the chat shows things: rich on a terminal, plain text on a pipe (NO_COLOR honoured by the console)."""

from __future__ import annotations

import re
import sys
from typing import Any

from dos.cli.output import AnswerStream, console

_CODE = re.compile(r"^```[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)


def code_blocks(text: str) -> list[str]:
    """The fenced code blocks of a Markdown answer (an unclosed last fence counts, as a cut-off answer has)."""
    blocks = [m.group(1) for m in _CODE.finditer(text)]
    tail = text[text.rfind("```"):] if text.count("```") % 2 else ""
    if tail:
        blocks.append(tail.split("\n", 1)[1] if "\n" in tail else "")
    return blocks


class Out:
    """Where the chat writes: answers and command output on stdout; notices and errors on stderr on a pipe, on
    the terminal (dimmed, red) otherwise."""

    def __init__(self, rich: bool):
        self.rich = rich
        self._console: Any = None

    @property
    def console(self) -> Any:
        if self._console is None:
            self._console = console()
        return self._console

    def answer(self) -> AnswerStream:
        return AnswerStream()

    def text(self, text: str) -> None:
        """Command output, as is."""
        if self.rich:
            self.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()

    def markdown(self, text: str) -> None:
        if self.rich:
            from rich.markdown import Markdown

            self.console.print(Markdown(text))
        else:
            self.text(text)

    def notice(self, text: str) -> None:
        """One line about what DOS did (reloaded, saved, copied, ...)."""
        if self.rich:
            self.console.print(f"[dim]{_escape(text)}[/]", highlight=False, soft_wrap=True)
        else:
            sys.stderr.write(f"dos: {text}\n")
            sys.stderr.flush()

    def error(self, text: str) -> None:
        if self.rich:
            self.console.print(f"[red]dos: {_escape(text)}[/]", highlight=False, soft_wrap=True)
        else:
            sys.stderr.write(f"dos: {text}\n")
            sys.stderr.flush()

    def table(self, headers: list[str], rows: list[list[str]]) -> None:
        if self.rich:
            from rich.table import Table

            table = Table(*headers, box=None, pad_edge=False)
            for row in rows:
                table.add_row(*(_escape(c) for c in row))
            self.console.print(table)
        else:
            self.text("".join("\t".join(row) + "\n" for row in rows) or "(none)")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
