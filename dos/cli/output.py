"""Output: plain text on a pipe, rich rendering only on a terminal (rich honours NO_COLOR)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dos.core.printable import printable_json


def output_style() -> str:
    """config.yaml's `output`: auto, plain or rich (auto when the config cannot be read)."""
    from dos.bootstrap import build

    try:
        return str(build().settings["output"])
    except Exception:  # a broken config.yaml is reported by the command that needs it, not here
        return "auto"


def on_terminal(style: str | None = None) -> bool:
    """Whether to render with rich: on a terminal, unless config says `output: plain` (or `rich`: always).
    `style`: the setting when the caller has it (a `dos run` the kernel serves is told it)."""
    style = style or output_style()
    return style == "rich" or (style == "auto" and sys.stdout.isatty())


def console(style: str | None = None) -> Any:
    """A rich console for this process's terminal (`style`: the `output` setting, when the caller has it)."""
    import os

    from rich.console import Console

    from dos.context import display_env

    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")}
    forced = True if (style or output_style()) == "rich" else None  # rich markup even on a pipe (`less -R`)
    return Console(highlight=False, file=sys.stdout, force_terminal=forced, _environ=environ | display_env())


@contextmanager
def progress(what: str) -> Iterator[None]:
    """A spinner on stderr while a slow step runs, on a terminal only: nothing on a pipe or in a script."""
    if not sys.stderr.isatty():
        yield
        return
    from rich.console import Console

    from dos.context import display_env

    with Console(file=sys.stderr, _environ=dict(display_env())).status(f"[dim]{what}…[/]"):
        yield


def print_json(value: Any) -> None:
    sys.stdout.write(printable_json(json.dumps(value, ensure_ascii=False, indent=2)) + "\n")


class AnswerStream:
    """Shows a streamed answer: raw text as it arrives on a pipe; on a terminal, a spinner until the first
    token (imports and the first model load can take seconds), then live-rendered Markdown. `paused()` stops
    the live display while something else uses the terminal (a tool call's permission prompt)."""

    def __init__(self, quiet: bool = False, style: str | None = None):
        self.quiet = quiet
        self.style = style  # the `output` setting, if the caller has it (else read here)
        self.text = ""
        self._live: Any = None
        self._shown = 0  # the answer before this was printed for good (before a pause); the live part follows

    def __enter__(self) -> AnswerStream:
        if not self.quiet and on_terminal(self.style):
            from rich.live import Live
            from rich.markdown import Markdown
            from rich.spinner import Spinner

            self._markdown = Markdown
            self._waiting = Spinner("dots", text="[dim]waiting for the model…[/]")
            self._live = Live(self._waiting, console=console(self.style), refresh_per_second=12,
                              vertical_overflow="visible")
            self._live.__enter__()
        return self

    def write(self, piece: str) -> None:
        self.text += piece
        if self.quiet:
            return
        if self._live is not None:
            self._live.update(self._markdown(self.text[self._shown:]))
        else:
            sys.stdout.write(piece)
            sys.stdout.flush()

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The terminal to the caller for a while: the answer so far stays printed, the spinner goes."""
        if self._live is None:
            yield
            return
        live = self._live
        if self.text[self._shown:]:
            live.update(self._markdown(self.text[self._shown:]), refresh=True)
        else:
            live.transient = True  # nothing but the spinner: erase it
        live.stop()
        live.transient = False
        self._shown = len(self.text)
        try:
            yield
        finally:
            live.update(self._waiting)
            live.start(refresh=True)

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            if self.text[self._shown:] or not self._shown:
                self._live.update(self._markdown(self.text[self._shown:]), refresh=True)
            else:
                self._live.transient = True
            self._live.__exit__(*exc)
        elif not self.quiet and self.text and not self.text.endswith("\n"):
            sys.stdout.write("\n")
            sys.stdout.flush()
