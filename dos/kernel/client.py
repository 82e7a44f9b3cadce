"""The kernel's clients' side: start the warm kernel (or find it running), stop it, send it a request and relay
its answer (`call`: one loop for `dos run` and for a chat's turns).

Imports only the standard library on the way in, and none of `socket`, `signal`, `json`, `pathlib` or `hashlib`:
they import `enum`, `re` or OpenSSL, about 12 ms of every run (see dos.kernel.protocol). Whenever the kernel
cannot serve a request, the caller says so and runs it in its own process instead."""

from __future__ import annotations

import _socket
import fcntl
import os
import sys
import time

from dos.adapters.files.processes import alive
from dos.adapters.files.private import private_dir, private_opener, secure_home
from dos.kernel.protocol import decode, owned_by_me, send, socket_file

START_TIMEOUT_S = 90.0
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141
DEATH_WAIT_S = 5.0  # for a dead kernel's supervisor to write down how it died


def notice(message: str) -> None:
    sys.stderr.write(f"dos: {message}\n")
    sys.stderr.flush()


class Progress:
    """A one-line spinner on stderr while something slow happens; nothing at all when stderr is not a terminal."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

    def __init__(self, text: str):
        self.text, self.frame = text, 0
        self.shown = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"

    def tick(self) -> None:
        if self.shown:
            sys.stderr.write(f"\r{self.FRAMES[self.frame % len(self.FRAMES)]} {self.text}…")
            sys.stderr.flush()
            self.frame += 1

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def enabled(argv: list[str]) -> bool:
    if os.environ.get("DOS_KERNEL", "1").lower() in ("0", "false", "no", "off"):
        return False
    return not {"--no-kernel", "--help", "-h"} & set(argv)


def _state_dir() -> str:
    """The state folder dos.adapters.files.paths resolves; under DOS_HOME without importing it (it imports pathlib)."""
    home = os.environ.get("DOS_HOME")
    if home:
        return os.path.join(os.path.expanduser(home), "state")
    from dos.adapters.files.paths import resolve_paths

    return str(resolve_paths().state)


def _state():  # -> pathlib.Path: the state folder, for `dos kernel ...`
    from pathlib import Path

    return Path(_state_dir())


class _Lines:
    """A socket's lines (the `socket` module's makefile, without importing it); interrupted reads lose nothing."""

    def __init__(self, sock: _socket.socket):
        self.sock, self.buffer = sock, b""

    def readline(self) -> bytes:
        while b"\n" not in self.buffer:
            data = self.sock.recv(65536)
            if not data:
                line, self.buffer = self.buffer, b""
                return line
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"


def _connect(path: str) -> _socket.socket | None:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
        return sock
    except OSError:
        sock.close()
        return None


def request(state: str | os.PathLike, frame: dict[str, object], timeout: float = 5.0) -> dict | None:
    """Send one frame to a running kernel and read one reply; None if no kernel answers."""
    path = socket_file(state)
    if not owned_by_me(path):
        return None
    sock = _connect(path)
    if sock is None:
        return None
    try:
        sock.settimeout(timeout)
        send(sock, frame)
        line = _Lines(sock).readline()
        return decode(line) if line else None
    except (OSError, ValueError):  # the kernel went away mid-answer
        return None
    finally:
        sock.close()


def _idle_seconds() -> float:
    try:
        from dos.bootstrap import build

        return 60.0 * float(build().settings["kernel_idle_minutes"])
    except Exception:  # a broken config.yaml must not stop the kernel: the command itself will report it
        return 900.0


def start(state: str | os.PathLike, say=None) -> bool:  # (say: Callable[[str], None]; no typing import)
    """Start a kernel for this DOS_HOME unless one answers; wait until it is warm. True when one is up.
    `say`: where its notices go instead of stderr, with no spinner (a REPL shows its own progress)."""
    quiet, say = say is not None, say or notice
    private_dir(state)
    path = socket_file(state)
    with open(os.path.join(state, "kernel.start.lock"), "w", opener=private_opener) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two clients starting at once start one kernel
        if request(state, {"op": "ping"}):
            return True
        if os.path.lexists(path):
            if not owned_by_me(path):
                say(f"the kernel socket {path} belongs to another user; not using it")
                return False
            try:
                os.unlink(path)  # stale: nobody answers on it
            except FileNotFoundError:  # a stopping kernel just removed it
                pass
        import subprocess

        log_path = os.path.join(state, "kernel.log")
        from dos.adapters.files.paths import resolve_paths

        secure_home(list(resolve_paths()), say)  # here, so a note on tightened files reaches the user, not the log
        log = open(log_path, "ab", opener=private_opener)
        proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "dos.kernel", "--state", os.fspath(state), "--idle", str(_idle_seconds())],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        progress = Progress("starting the DOS kernel: LiteLLM and the model load once, later runs are fast")
        progress.shown = progress.shown and not quiet
        while time.monotonic() < deadline:
            progress.tick()
            if proc.poll() is not None:
                progress.done()
                died = _death_record(os.fspath(state), proc.pid, key="supervisor")
                if not (died and died.get("model")):  # else the turn, run here, names the model that crashed
                    say(f"the kernel did not start (exit {proc.returncode}; see {log_path})")
                return False
            if os.path.exists(path) and request(state, {"op": "ping"}):
                progress.done()
                return True
            time.sleep(0.05)
        progress.done()
        say(f"the kernel did not become ready in {START_TIMEOUT_S:.0f}s")
        return False


def stop(state: str | os.PathLike, timeout: float = 600.0) -> int | None:
    """Ask the kernel to stop and wait until its process has exited: it lets its running turns finish first, and
    holds its lock until then, so a kernel started right after (`dos kernel restart`) never finds it still there.
    The pid that stopped, or None when no kernel answered."""
    reply = request(state, {"op": "stop"})
    if not reply:
        return None
    pid = int(reply["stopping"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)
    return pid


def call(state: str | os.PathLike, frame: dict, on_text=None, on_frame=None) -> dict | None:
    """Send `frame` (a `run` or a `turn`) to the kernel and relay its answer until the last frame (see `relay`);
    None when no kernel of this user answers on the socket. (on_text, on_frame: Callable[[...], None]; no typing
    import.)"""
    path = socket_file(state)
    sock = _connect(path) if owned_by_me(path) else None
    if sock is None:
        return None
    try:
        send(sock, frame)
        return relay(sock, on_text or sys.stdout.write, on_frame)
    except OSError:  # it went away before reading the request
        return {"gone": True}
    finally:
        sock.close()


def relay(sock: _socket.socket, on_text, on_frame=None) -> dict:
    """The kernel's frames until the last one: `{"t": text}` to `on_text`, `{"o"|"e": text}` to this process's
    stdout and stderr, a frame of the turn's own (e.g. `{"output": ...}`) to `on_frame`. Returns:
    - the exit frame, `{"exit": code, "result"|"error": ...}`, with `"cancelled": True` when Ctrl-C (or SIGTERM,
      where the caller makes it a KeyboardInterrupt) sent a cancel: the kernel winds the turn up as an interrupted
      turn (a second Ctrl-C stops waiting: exit 130);
    - `{"exit": 141, "broken_pipe": True}` when this process's stdout was closed (the turn is cancelled);
    - `{"refused": reason}`;
    - `{"gone": True}` when the kernel went away first, with `"turn"` and `"pid"` once it had announced the turn
      (it is then on record: never run it again)."""
    reader = _Lines(sock)
    announced: dict = {}
    cancelled = False
    while True:
        try:
            line = reader.readline()
            if not line:
                return {"gone": True} | announced
            frame = decode(line)
            if "t" in frame:
                on_text(frame["t"])
            elif "o" in frame:
                sys.stdout.write(frame["o"])
                sys.stdout.flush()
            elif "e" in frame:
                sys.stderr.write(frame["e"])
                sys.stderr.flush()
            elif "turn" in frame:
                announced = {"turn": frame["turn"], "pid": frame["pid"]}
            elif "exit" in frame:
                return frame | ({"cancelled": True} if cancelled else {})
            elif "refused" in frame:
                return frame
            elif on_frame is not None:
                on_frame(frame)
        except KeyboardInterrupt:
            if cancelled:  # a second Ctrl-C: stop waiting for the kernel to wind the turn up
                return {"exit": EXIT_INTERRUPTED, "cancelled": True}
            cancelled = True
            try:
                send(sock, {"op": "cancel"})
            except OSError:
                return {"exit": EXIT_INTERRUPTED, "cancelled": True}
        except BrokenPipeError:  # the reader of our stdout left: stop the turn
            try:
                send(sock, {"op": "cancel"})
            except OSError:
                pass
            return {"exit": EXIT_BROKEN_PIPE, "broken_pipe": True}
        except (OSError, ValueError):  # the connection broke, or a frame did
            return {"gone": True} | announced


def lost_turn(state: str | os.PathLike, pid: int, turn: str) -> str:
    """One line on kernel `pid` dying during turn `turn`: how it died (its supervisor's record) and what is on
    record. Opening memory closes the orphaned turn (its partial answer, if any, kept as `crashed`)."""
    deadline = time.monotonic() + DEATH_WAIT_S
    died = None
    while time.monotonic() < deadline:
        died = _death_record(os.fspath(state), pid)
        if died is not None:
            break
        time.sleep(0.05)
    how = f"died from {died['described']}" if died else "stopped"
    if died and died.get("model"):
        how += f" while running the embedded model local/{died['model']}"
    try:
        from dos.bootstrap import build  # only on this rare path: the memory store, to see what is on record

        recorded = build().memory.turn(turn)
    except Exception:  # an unreadable store must not hide the one line that matters
        recorded = None
    kept = ("the prompt and the partial answer are in memory" if recorded and recorded.response else
            "the prompt is in memory" if recorded else "the prompt was not yet on record")
    return (f"the kernel {how} during this turn; {kept} (turn {turn}); not run again "
            "(`dos doctor`, `dos kernel logs`)")


def _death_record(state: str, pid: int, key: str = "pid") -> dict | None:
    """How kernel `pid` died (or the kernel of supervisor `pid`, with key="supervisor"), from its supervisor's
    record; None while it is not there yet."""
    from dos.kernel.protocol import EXIT_RECORD

    try:
        with open(os.path.join(state, EXIT_RECORD), "rb") as f:
            record = decode(f.read())
    except (OSError, ValueError):
        return None
    return record if record.get(key) == pid else None
