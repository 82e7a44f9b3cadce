"""A person's answer to a tool call that asks first (the `Approver` port, dos.core.turn.tool_gate), on the terminal
`dos run` was started in: allow once, always for this folder, or deny.

Someone can be asked only when stdin and stderr are both a terminal and the command runs in this process: a pipe or
a script gets no prompt (`dos run x < form.pdf` included), and neither does the warm kernel, whose terminal is the
client's (its protocol carries no answers back): there the call is refused with a line naming the `--allow` rule,
and `--no-kernel` asks."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from dos.context import in_kernel
from dos.core.ports import ALWAYS, DENY_IT, ONCE

if TYPE_CHECKING:  # the rule engine loads with a turn's tools, not with every command
    from dos.core.permissions import Question

ANSWERS = {"y": ONCE, "yes": ONCE, "a": ALWAYS, "always": ALWAYS}


class TerminalApprover:
    """Asks on stderr, reads the answer from stdin. `pause`: what frees the terminal meanwhile (the answer's live
    display)."""

    def __init__(self, pause: Callable[[], AbstractContextManager[object]] = nullcontext):
        self.pause = pause

    def unable(self) -> str | None:
        if in_kernel():
            return "the warm kernel cannot ask on your terminal (`--no-kernel` asks)"
        if sys.stdin is None or not sys.stdin.isatty() or not sys.stderr.isatty():
            return "there is no terminal to ask"
        return None

    def ask(self, question: Question) -> str:
        always = (f"a = always in this folder (keeps {', '.join(question.rules)} in {question.where})"
                  if question.where and question.rules else "")
        choices = ", ".join(c for c in ("y = allow once", always, "n = deny") if c)
        with self.pause():
            sys.stderr.write(f"dos: {question.reason}\n  {choices}\nallow {question.call}? [y/{'a/' if always else ''}N] ")
            sys.stderr.flush()
            line = sys.stdin.readline()
        answer = ANSWERS.get(line.strip().lower(), DENY_IT)
        return ONCE if answer == ALWAYS and not always else answer
