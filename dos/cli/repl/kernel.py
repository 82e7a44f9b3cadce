"""Chat turns in the warm kernel: the REPL (prompt-toolkit, rich, slash commands, SessionStart/SessionEnd hooks)
stays in the chat's process, and each turn is one request to the kernel, which has LiteLLM imported and the model
loaded. Both halves of that request are here: `KernelTurns` (the chat's side) and `serve_turn` (the kernel's).

Frames (see dos.kernel.protocol): the chat sends `{"op": "turn", "turn": {request, prefer, sovereignty, the
SessionStart context}, ...}`; the kernel answers with `{"t": text}` for each piece of the answer, `{"e"|"o": text}`
for what the turn writes on stderr or stdout, and last `{"exit": code, "result"|"error": ...}`. Ctrl-C sends the
`cancel` frame, so the turn ends in the kernel as an interrupted turn does here (the partial answer kept).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dos.bootstrap import build
from dos.context import display_env
from dos.core.domain import TurnRequest, TurnResult, Usage
from dos.core.errors import DosError, ModelCrashed
from dos.core.hooks import Conversation
from dos.kernel import client
from dos.kernel.protocol import fingerprint, owned_by_me, send, socket_path

RESULT_FIELDS = ("turn_id", "session_id", "skill", "model", "text", "cost", "finish_reason", "duration_s",
                 "first_token_s")


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
        sock = self._connect()
        if sock is None:
            if not self.start():
                raise KernelGone(self.problem)
            sock = self._connect()
            if sock is None:
                raise KernelGone("the kernel went away")
        ttys = {"stdin": False, "stdout": sys.stdout.isatty(), "stderr": sys.stderr.isatty()}
        announced: dict[str, Any] = {}
        with sock:
            send(sock, {"op": "turn", "fingerprint": self.fingerprint, "cwd": os.getcwd(), "scope": scope,
                        "env": display_env(), "ttys": ttys, "turn": payload})
            try:
                last, cancelled = self._relay(sock, on_text, announced)
            except KernelGone:
                if announced:  # the kernel died during the turn: it is on record and never runs twice
                    raise ModelCrashed(client.lost_turn(self.state, int(announced["pid"]),
                                                        str(announced["turn"]))) from None
                raise
        code = int(last["exit"])
        if code == 0:
            return result_from(last["result"])
        if cancelled or code == client.EXIT_INTERRUPTED:
            raise KeyboardInterrupt
        error = DosError(last.get("error") or f"the turn failed in the kernel (exit {code})")
        error.exit_code = code
        raise error

    def _connect(self) -> socket.socket | None:
        path = socket_path(self.state)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if owned_by_me(path):
                sock.connect(str(path))
                return sock
        except OSError:
            pass
        sock.close()
        return None

    def _relay(self, sock: socket.socket, on_text: Callable[[str], None],
               announced: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The kernel's frames until the last one (returned, with whether Ctrl-C was passed on as a cancel); the
        turn the kernel announced goes into `announced`."""
        reader = sock.makefile("rb")
        cancelled = False
        while True:
            try:
                frame = _next_frame(reader)
                if "turn" in frame:
                    announced.update(frame)
                elif "t" in frame:
                    on_text(frame["t"])
                elif "e" in frame or "o" in frame:
                    stream = sys.stderr if "e" in frame else sys.stdout
                    stream.write(frame.get("e") or frame.get("o") or "")
                    stream.flush()
                elif "exit" in frame:
                    return frame, cancelled
                elif "refused" in frame:
                    reason = frame["refused"]
                    raise KernelGone("the kernel runs another version of DOS" if reason == "version"
                                     else f"the kernel refused the turn: {reason}")
            except KeyboardInterrupt:
                if cancelled:  # a second Ctrl-C: stop waiting for the kernel to wind the turn up
                    raise
                cancelled = True
                try:
                    send(sock, {"op": "cancel"})
                except OSError:
                    raise KeyboardInterrupt from None


def _next_frame(reader: Any) -> dict[str, Any]:
    try:
        line = reader.readline()
        if line:
            return json.loads(line)
    except (OSError, ValueError):
        pass
    raise KernelGone("the kernel stopped mid-turn")


def serve_turn(payload: dict[str, Any], on_text: Callable[[str], None]) -> dict[str, Any]:
    """The kernel's side: run the turn a chat sent with the runner a chat session builds in-process, its
    SessionStart context included; the result's fields, ready for JSON."""
    dos = build()
    dos.trust.said = True  # the chat said any untrusted-project notice once, at its start; not again each turn
    conversation = Conversation(payload["context"], payload["stopped"], payload["stop_reason"])
    runner = dos.chat_runner(conversation, payload["prefer"], payload["sovereignty"])
    result = runner.run(TurnRequest(**payload["request"]), on_text=on_text)
    return {f: getattr(result, f) for f in RESULT_FIELDS} | {"usage": [result.usage.prompt_tokens,
                                                                       result.usage.completion_tokens]}


def result_from(fields: dict[str, Any]) -> TurnResult:
    return TurnResult(usage=Usage(*fields["usage"]), **{f: fields[f] for f in RESULT_FIELDS})
