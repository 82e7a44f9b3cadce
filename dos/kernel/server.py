"""The kernel process: warm up once, then serve each client's request in a thread of its own.

It knows what a request is (a frame, a client with its folder, terminal and streams, a turn id told first, a cancel)
and not what it does: the handlers, one per kind of request, and the warm-up are given to it by the kernel's
composition root (`python -m dos.kernel`, dos.kernel.turns)."""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import fcntl
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from dos.adapters.models import embedded_health
from dos.adapters.files.private import private_dir, private_opener, replace_private, write_private
from dos.context import Client, set_client
from dos.core.errors import EXIT_INTERRUPTED, DosError
from dos.core.ids import new_id
from dos.kernel import streams
from dos.kernel.protocol import EXIT_RECORD, fingerprint, send, socket_path


LOCK_WAIT_S = 15.0

Frame = dict[str, Any]
# A kind of request: its frame and a way to send the client frames (`{"t": text}`, ...) -> the last frame,
# `{"exit": code, ...}`. A DosError it raises ends as `{"exit": its code, "error": its message}`.
Handler = Callable[[Frame, Callable[[Frame], None]], Frame]


def _take(lock: Any, wait_s: float) -> bool:
    """Lock `lock` for this kernel, waiting up to `wait_s` for a stopping one to let go."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _interrupt(thread: threading.Thread) -> None:
    """Raise KeyboardInterrupt inside `thread`, as Ctrl-C would in a process of its own."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident or 0), ctypes.py_object(KeyboardInterrupt))


def _clear_interrupt(thread: threading.Thread) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident or 0), None)


class Kernel:
    """`handlers`: what each `op` a client sends does. `warm_up`: run once before the first request (imports, the
    model loaded); what it returns is called once the kernel stops."""

    def __init__(self, state: Path, idle_s: float, handlers: Mapping[str, Handler],
                 warm_up: Callable[[], Callable[[], None]]):
        self.state = state
        self.handlers = dict(handlers)
        self.warm_up = warm_up
        self.close: Callable[[], None] = lambda: None
        self.idle_s = idle_s
        self.path = socket_path(state)
        self.fingerprint = fingerprint()
        self.started = time.time()
        self.active = 0
        self.served = 0
        self.last_activity = time.monotonic()
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------------

    def serve(self) -> None:
        private_dir(self.state)
        lock = open(self.state / "kernel.lock", "w", opener=private_opener)
        if not _take(lock, LOCK_WAIT_S):  # a kernel being replaced may still be closing its MCP servers
            print("dos kernel: another kernel is running for this DOS_HOME", file=sys.stderr)
            return
        self.close = self.warm_up()
        streams.install()
        listener = self._listen()
        inode = os.stat(self.path).st_ino
        write_private(self.state / "kernel.pid", f"{os.getpid()}\n".encode())
        print(f"dos kernel {os.getpid()} ready on {self.path} in {time.time() - self.started:.2f}s", flush=True)
        listener.settimeout(1.0)
        try:
            while not self.stopping.is_set() and not self._idle() and self._still_mine(inode):
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()
        finally:
            listener.close()
            if os.path.exists(self.path) and os.stat(self.path).st_ino == inode:
                os.unlink(self.path)  # only our own socket: a newer kernel may already own the path
            while self.active:  # let running turns finish
                time.sleep(0.05)
            self.close()
            print(f"dos kernel {os.getpid()} stopped after {self.served} request(s)", flush=True)

    def _listen(self) -> socket.socket:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        if tmp.exists():
            tmp.unlink()
        old_umask = os.umask(0o177)  # the socket is born 0600: only this user can connect
        try:
            listener.bind(str(tmp))
        finally:
            os.umask(old_umask)
        listener.listen(64)
        os.replace(tmp, self.path)
        return listener

    def _still_mine(self, inode: int) -> bool:
        """False once the socket path is gone or belongs to a newer kernel: this one is orphaned."""
        try:
            return os.stat(self.path).st_ino == inode
        except OSError:
            return False

    def _idle(self) -> bool:
        with self.lock:
            return self.active == 0 and time.monotonic() - self.last_activity > self.idle_s

    # -- requests --------------------------------------------------------------------------------------

    def _handle(self, conn: socket.socket) -> None:
        try:
            self._serve_one(conn)
        except Exception as exc:  # a bug must cost one request, never the kernel
            print(f"dos kernel: request failed: {type(exc).__name__}: {exc}", file=sys.__stderr__, flush=True)
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)  # wakes the cancel watcher; the client sees the end at once
            except OSError:
                pass
            conn.close()

    def _serve_one(self, conn: socket.socket) -> None:
        if _peer_uid(conn) != os.getuid():
            send(conn, {"refused": "this kernel serves only its own user"})
            return
        reader = conn.makefile("rb")
        line = reader.readline()
        try:
            request = json.loads(line) if line else {}
        except ValueError:
            return
        op = request.get("op")
        if op == "ping":
            send(conn, self.status())
        elif op == "stop":
            self.stopping.set()
            send(conn, {"stopping": os.getpid()})
        elif op in self.handlers:
            if request.get("fingerprint") != self.fingerprint:
                send(conn, {"refused": "version"})
                return
            self._run(conn, reader, request, self.handlers[op])

    def status(self) -> dict[str, Any]:
        return {"pid": os.getpid(), "fingerprint": self.fingerprint, "uptime_s": round(time.time() - self.started, 1),
                "active": self.active, "served": self.served, "socket": str(self.path), "idle_s": self.idle_s}

    def _run(self, conn: socket.socket, reader: Any, request: Frame, handler: Handler) -> None:
        with self.lock:
            self.active += 1
        worker = threading.current_thread()
        running = threading.Lock()
        state = {"running": True}

        def watch_for_cancel() -> None:
            for line in reader:  # a cancel frame, or the client hanging up, interrupts the turn
                if b"cancel" not in line:
                    continue
                break
            with running:
                if state["running"]:
                    _interrupt(worker)

        client = streams.ClientIO(conn, request.get("ttys") or {})
        last: Frame = {"exit": 1}
        # Told first: a client whose kernel dies during the turn looks it up and never runs it again.
        turn_id = request.get("turn_id") or new_id()
        send(conn, {"turn": turn_id, "pid": os.getpid()})
        try:
            set_client(Client(cwd=request["cwd"], scope=request["scope"], env=request.get("env") or {},
                              turn_id=turn_id))
            streams.attach(client)
            threading.Thread(target=watch_for_cancel, daemon=True).start()
            last = _served(handler, request, client.send)
        finally:
            with running:
                state["running"] = False
                _clear_interrupt(worker)
            streams.attach(None)
            with self.lock:
                self.active -= 1
                self.served += 1
                self.last_activity = time.monotonic()
        try:
            send(conn, last)
        except OSError:
            pass  # the client left


def _served(handler: Handler, request: Frame, send_frame: Callable[[Frame], None]) -> Frame:
    """What `handler` made of `request`, as its last frame; an error costs this request, never the kernel."""
    try:
        return handler(request, send_frame)
    except KeyboardInterrupt:  # cancelled: what the turn had said is in memory
        return {"exit": EXIT_INTERRUPTED}
    except DosError as exc:
        return {"exit": exc.exit_code, "error": exc.message}
    except Exception as exc:  # a bug: its traceback goes to the kernel's log
        traceback.print_exc(file=sys.__stderr__)
        return {"exit": 1, "error": f"internal error in the kernel: {type(exc).__name__}: {exc} (`dos kernel logs`)"}


def main(handlers: Mapping[str, Handler], warm_up: Callable[[], Callable[[], None]],
         argv: list[str] | None = None) -> None:
    """`python -m dos.kernel --state DIR [--idle SECONDS]`, serving `handlers` after `warm_up`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dos.kernel")
    parser.add_argument("--state", required=True, type=Path)
    parser.add_argument("--idle", type=float, default=900.0, help="seconds without a request before exiting")
    args = parser.parse_args(argv)
    page = embedded_health.share_activity()
    child = os.fork()  # before any thread or model: the parent stays a small supervisor
    if child:
        supervise(child, args.state, page)
    faulthandler.enable(all_threads=True)  # a crash leaves every thread's Python stack in kernel.log
    Kernel(args.state, args.idle, handlers, warm_up).serve()
    for stream in (sys.__stdout__, sys.__stderr__):
        stream.flush()
    os._exit(0)  # skip interpreter teardown: llama.cpp's destructors fail noisily when run that late


def supervise(child: int, state: Path, page: Any) -> NoReturn:
    """The kernel's parent waits for it. When a signal kills it, the parent writes down which signal and which
    embedded model was in native code at that moment (`kernel.exit.json`; for a crash signal also the model's crash
    record), so the client that lost its turn can say so in one line and nothing runs the model into the same
    crash again. Exits as the kernel did (128 + the signal for a signal)."""
    def forward(*_: Any) -> None:  # `kill` of either pid stops the kernel
        with contextlib.suppress(ProcessLookupError):  # it may be gone already
            os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        os._exit(code)
    signum = -code
    model = embedded_health.active(page)
    record = {"pid": child, "supervisor": os.getpid(), "signal": signum, "described": embedded_health.describe(signum), "model": model,
              "at": time.time()}
    replace_private(state / EXIT_RECORD, json.dumps(record).encode())
    if model and signum in embedded_health.CRASH_SIGNALS:
        embedded_health.record_crash(state, model, signum, "running in the kernel")
    where = f" while running the embedded model local/{model}" if model else ""
    print(f"dos kernel {child} died from {record['described']}{where}", file=sys.stderr, flush=True)
    os._exit(128 + signum)
