"""Per-thread standard streams for the kernel: while a request runs in a thread, that thread's
`sys.stdout`/`sys.stderr` writes become frames to its client, and `sys.stdin` is what the client piped."""

from __future__ import annotations

import io
import socket
import sys
import threading
from typing import Any

from dos.kernel.protocol import send

_local = threading.local()


class ClientIO:
    """One request's streams: frames out over the client's socket, the client's stdin in."""

    def __init__(self, sock: socket.socket, stdin: bytes, ttys: dict[str, bool]):
        self.sock = sock
        self.lock = threading.Lock()
        self.stdin = stdin
        self.ttys = ttys

    def emit(self, key: str, text: str | bytes) -> None:
        if isinstance(text, bytes):  # some writers (typer's usage errors) hand over bytes
            text = text.decode("utf-8", errors="replace")
        if text:
            with self.lock:
                send(self.sock, {key: text})


class _Out(io.TextIOBase):
    def __init__(self, key: str, name: str, original: Any):
        self.key, self.name, self.original = key, name, original

    def _client(self) -> ClientIO | None:
        return getattr(_local, "client", None)

    def bound(self) -> Any:
        """A stream that writes to this thread's client from any thread (rich's refresh thread, say)."""
        client = self._client()
        return _Bound(client, self.key, self) if client else self.original

    def write(self, text: str) -> int:
        client = self._client()
        if client is None:
            return self.original.write(text)
        client.emit(self.key, text)
        return len(text)

    @property
    def buffer(self) -> Any:
        """Bytes written here go to the same place as text."""
        return _BytesTo(self)

    def flush(self) -> None:
        if self._client() is None:
            self.original.flush()

    def isatty(self) -> bool:
        client = self._client()
        return client.ttys.get(self.name, False) if client else self.original.isatty()

    def fileno(self) -> int:
        if self._client() is not None:
            raise io.UnsupportedOperation("a kernel client's stream has no file descriptor")
        return self.original.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


class _BytesTo(io.RawIOBase):
    def __init__(self, text_stream: Any):
        self.text_stream = text_stream

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.text_stream.write(bytes(data).decode("utf-8", errors="replace"))
        return len(data)


class _Bound(io.TextIOBase):
    def __init__(self, client: ClientIO, key: str, router: _Out):
        self.client, self.key, self.router = client, key, router

    def write(self, text: str) -> int:
        self.client.emit(self.key, text)
        return len(text)

    def isatty(self) -> bool:
        return self.client.ttys.get(self.router.name, False)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


class _In(io.TextIOBase):
    def __init__(self, original: Any):
        self.original = original

    @property
    def buffer(self) -> io.BytesIO:
        client: ClientIO | None = getattr(_local, "client", None)
        if client is None:
            return self.original.buffer
        return io.BytesIO(client.stdin)

    def read(self, size: int | None = -1) -> str:
        return self.buffer.read().decode("utf-8", errors="replace")

    def isatty(self) -> bool:
        client: ClientIO | None = getattr(_local, "client", None)
        return client.ttys.get("stdin", False) if client else self.original.isatty()


def install() -> None:
    """Replace the process's standard streams with per-thread routers (once, at kernel start)."""
    sys.stdout = _Out("o", "stdout", sys.stdout)
    sys.stderr = _Out("e", "stderr", sys.stderr)
    sys.stdin = _In(sys.stdin)


def attach(client: ClientIO | None) -> None:
    """Route this thread's standard streams to `client` (None: back to the kernel's own)."""
    _local.client = client
