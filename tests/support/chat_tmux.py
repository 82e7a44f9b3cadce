"""Drive `dos chat` in a real pseudo-terminal through tmux (its own server socket per use)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


class Tmux:
    def __init__(self, name: str, workdir: Path):
        self.socket = f"dos-{name}-{uuid.uuid4().hex[:12]}"  # a fresh server per test: no race with one dying
        self.workdir = workdir
        self.rc_file = workdir / "chat.rc"

    def run(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None):
        return subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args], capture_output=True,
                              input=input, timeout=30, env=env)

    def tmux(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
        return self.run(*args, input=input, env=env).stdout.decode("utf-8", "replace")

    def start(self, args: list[str], env: dict[str, str], width: int = 100, height: int = 30) -> float:
        """Start `dos ARGS` in a new tmux session (its own server, so its environment is ours plus `env`);
        returns the monotonic time it was started."""
        full = {k: v for k, v in os.environ.items() if not k.startswith(("DOS_", "TMUX"))}
        full.update({"DOS_KERNEL": "0", "TERM": "xterm-256color", "PYTHONPATH": str(REPO)} | env)
        command = (f"cd {shlex.quote(str(self.workdir))} && {shlex.quote(sys.executable)} -m dos "
                   f"{' '.join(shlex.quote(a) for a in args)}; echo $? > {shlex.quote(str(self.rc_file))}; sleep 600")
        started = time.monotonic()
        proc = self.run("new-session", "-d", "-s", "chat", "-x", str(width), "-y", str(height), command, env=full)
        if proc.returncode != 0:
            raise AssertionError(f"tmux new-session failed: {proc.stderr.decode(errors='replace')}")
        return started

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-t", "chat")

    def send(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", "chat", *(["-l"] if literal else []), *keys)

    def type(self, text: str) -> None:
        self.send(text, literal=True)
        self.send("Enter")

    def paste(self, data: bytes) -> None:
        self.tmux("load-buffer", "-", input=data)
        self.tmux("paste-buffer", "-p", "-t", "chat")  # -p: bracketed, as a terminal pastes

    def wait_for(self, predicate, timeout: float = 120, poll: float = 0.05) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                alive = self.run("has-session", "-t", "chat").returncode == 0
                raise AssertionError(f"timed out (tmux session {'alive' if alive else 'gone'}); "
                                     f"the screen was:\n{screen}")
            time.sleep(poll)

    def wait_text(self, text: str, timeout: float = 120) -> str:
        return self.wait_for(lambda s: text in s, timeout)

    def exit_code(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while not self.rc_file.exists() or not self.rc_file.read_text().strip():
            if time.monotonic() > deadline:
                raise AssertionError(f"dos chat did not exit; the screen was:\n{self.screen()}")
            time.sleep(0.05)
        return int(self.rc_file.read_text())

    def close(self) -> None:
        self.tmux("kill-server")


def have_tmux() -> bool:
    return shutil.which("tmux") is not None
