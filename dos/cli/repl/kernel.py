"""Chat turns in the warm kernel: the REPL (prompt-toolkit, rich, slash commands, SessionStart/SessionEnd hooks)
stays in the chat's process, and each turn is one `turn` request to the kernel, which has LiteLLM imported and
the model loaded and runs it as the chat would (dos.kernel.turns, `Dos.chat_runner`).

The request (see dos.kernel.protocol) carries the turn's request, `prefer`, `sovereignty` and what the chat's
SessionStart hooks said; the answer comes back as `{"t": text}` frames through dos.kernel.client.call, the one
relay every client of the kernel uses. Ctrl-C sends the `cancel` frame, so the turn ends in the kernel as an
interrupted turn does here (the partial answer kept).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dos.context import display_env
from dos.core.domain import TurnResult, Usage
from dos.core.errors import EXIT_INTERRUPTED, DosError, ModelCrashed
from dos.kernel import client
from dos.kernel.protocol import RESULT_FIELDS, fingerprint


class KernelGone(Exception):
    """The kernel cannot take the turn (it runs in this process instead), or stopped during it (ModelCrashed when
    the turn was announced, so on record: it is not run again)."""


class KernelTurns:
    """The chat's way to the kernel: `start()` once (in the background), then one connection per turn."""

    def __init__(self, state: Path):
        self.state = state
        self.fingerprint = fingerprint()
        self.problem = ""  # why the kernel could not start, once start() said False

    def start(self) -> bool:
        """A warm kernel of this DOS (version, code, environment) is up, started if needed; False if none can be,
        with `problem` saying why. Nothing is written to the terminal here."""
        said: list[str] = []
        for _ in range(2):
            if not client.start(self.state, say=said.append):
                self.problem = said[-1] if said else "the kernel did not start"
                return False
            status = client.request(self.state, {"op": "ping"}) or {}
            if status.get("fingerprint") == self.fingerprint:
                return True
            client.stop(self.state)  # a kernel of another version or environment: replace it
        self.problem = "the kernel runs another version of DOS"
        return False

    def turn(self, payload: dict[str, Any], scope: str, on_text: Callable[[str], None]) -> TurnResult:
        """Run one turn in the kernel (started again if it has exited since, e.g. when idle). Raises KernelGone
        (run it here instead), DosError (the turn failed), KeyboardInterrupt (cancelled; the partial answer is
        in memory)."""
        ttys = {"stdin": False, "stdout": sys.stdout.isatty(), "stderr": sys.stderr.isatty()}
        frame = {"op": "turn", "fingerprint": self.fingerprint, "cwd": os.getcwd(), "scope": scope,
                 "env": display_env(), "ttys": ttys, "turn_id": payload["request"]["turn_id"], "turn": payload}
        last = client.call(self.state, frame, on_text)
        if last is None:
            if not self.start():
                raise KernelGone(self.problem)
            last = client.call(self.state, frame, on_text)
            if last is None:
                raise KernelGone("the kernel went away")
        if "gone" in last:
            if "turn" in last:  # the kernel died during the turn: it is on record and never runs twice
                raise ModelCrashed(client.lost_turn(self.state, int(last["pid"]), str(last["turn"])))
            raise KernelGone("the kernel stopped mid-turn")
        if "refused" in last:
            reason = last["refused"]
            raise KernelGone("the kernel runs another version of DOS" if reason == "version"
                             else f"the kernel refused the turn: {reason}")
        code = int(last["exit"])
        if code == 0:
            return result_from(last["result"])
        if last.get("cancelled") or code == EXIT_INTERRUPTED:
            raise KeyboardInterrupt
        if last.get("broken_pipe"):
            raise BrokenPipeError
        error = DosError(last.get("error") or f"the turn failed in the kernel (exit {code})")
        error.exit_code = code
        raise error


def result_from(fields: dict[str, Any]) -> TurnResult:
    return TurnResult(usage=Usage(*fields["usage"]), **{f: fields[f] for f in RESULT_FIELDS})
