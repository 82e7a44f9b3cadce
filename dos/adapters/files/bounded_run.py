"""Runs a child process within a time limit and an output cap: command hooks (dos.adapters.hooks) and the
built-in `Bash` / `RunScript` tools (dos.adapters.tools) share it.

The child runs in its own process group and is killed, group and all, at its deadline; its stdout and stderr are
read up to a cap each and the rest is drained and dropped, so a child that hangs, prints garbage or prints 10 MB
never blocks its caller. Ctrl-C while waiting kills it too.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Any

READ_CHUNK = 65_536
EXIT_GRACE_S = 0.2  # after the child exits, how long its pipes may stay open (a background child holding them)


@dataclass(frozen=True)
class Finished:
    """How a child ended: `code` is None when it timed out (and was killed) or could not start (`error`)."""

    code: int | None
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    timed_out: bool = False
    truncated: bool = False  # some output was dropped at the cap
    output_bytes: int = 0  # all it wrote, kept or not
    error: str | None = None  # it could not start


def run_bounded(command: str | list[str], *, timeout: float, cap: int, cwd: str, env: dict[str, str],
                data: bytes = b"", shell: bool = False, reap: bool = False) -> Finished:
    """Run `command` (through the shell if `shell`) with `data` on stdin. `reap`: also kill what it left running
    in its process group once it has exited (a tool's background jobs do not outlive the call)."""
    started = time.monotonic()
    posix = os.name == "posix"
    try:
        proc = subprocess.Popen(
            command, shell=shell, cwd=cwd, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=posix,
        )
    except OSError as exc:
        return Finished(None, error=exc.strerror or str(exc), duration_s=time.monotonic() - started)
    if not posix:  # pragma: no cover - no selectors on Windows pipes
        return _run_windows(proc, data, started, timeout, cap)
    deadline = started + timeout
    out, err = _Capped(cap), _Capped(cap)
    timed_out = False
    sel = selectors.DefaultSelector()
    assert proc.stdin and proc.stdout and proc.stderr
    stdin_fd = proc.stdin.fileno()
    os.set_blocking(stdin_fd, False)
    pending = memoryview(data)
    if pending:
        sel.register(stdin_fd, selectors.EVENT_WRITE, "in")
    else:
        proc.stdin.close()
    sel.register(proc.stdout.fileno(), selectors.EVENT_READ, out)
    sel.register(proc.stderr.fileno(), selectors.EVENT_READ, err)
    exited_at: float | None = None
    try:
        while sel.get_map():
            now = time.monotonic()
            if now >= deadline:
                timed_out = True
                break
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > EXIT_GRACE_S:
                break  # the child is done; something it left behind holds the pipes
            for key, _ in sel.select(min(deadline - now, 0.05)):
                if key.data == "in":
                    try:
                        n = os.write(stdin_fd, pending[:READ_CHUNK])
                        pending = pending[n:]
                    except (BrokenPipeError, OSError):
                        pending = pending[:0]  # the child does not read its stdin: fine
                    if not pending:
                        sel.unregister(stdin_fd)
                        _close(proc.stdin)
                    continue
                try:
                    chunk = os.read(key.fd, READ_CHUNK)
                except OSError:
                    chunk = b""
                if chunk:
                    key.data.add(chunk)
                else:
                    sel.unregister(key.fd)
        if not timed_out:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        sel.close()
        if timed_out or reap or proc.poll() is None:
            _kill(proc)
        for f in (proc.stdin, proc.stdout, proc.stderr):
            _close(f)
    return Finished(None if timed_out else proc.returncode, out.text(), err.text(), time.monotonic() - started,
                    timed_out, truncated=out.dropped > 0 or err.dropped > 0, output_bytes=out.total + err.total)


class _Capped:
    """Keeps the first `cap` bytes of a stream and counts the rest."""

    def __init__(self, cap: int):
        self.cap, self.parts, self.kept, self.total = cap, [], 0, 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.cap - self.kept
        if room > 0:
            piece = chunk[:room]
            self.parts.append(piece)
            self.kept += len(piece)

    @property
    def dropped(self) -> int:
        return self.total - self.kept

    def text(self) -> str:
        return b"".join(self.parts).decode("utf-8", errors="replace")


def _kill(proc: subprocess.Popen) -> None:
    """Stop the child and everything it started (its process group)."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover
            proc.kill()
    except (ProcessLookupError, PermissionError, OSError):
        pass
    try:
        proc.wait(1.0)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pass


def _close(f: Any) -> None:
    try:
        if f is not None:
            f.close()
    except OSError:
        pass


def _run_windows(proc: subprocess.Popen, data: bytes, started: float, timeout: float,
                 cap: int) -> Finished:  # pragma: no cover
    try:
        out, err = proc.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return Finished(None, duration_s=time.monotonic() - started, timed_out=True)
    return Finished(proc.returncode, out[:cap].decode("utf-8", "replace"), err[:cap].decode("utf-8", "replace"),
                    time.monotonic() - started, truncated=len(out) > cap or len(err) > cap,
                    output_bytes=len(out) + len(err))
