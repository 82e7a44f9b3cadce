"""Per-thread standard streams for the kernel: while a request runs in a thread, that thread's
`sys.stdout`/`sys.stderr` writes become frames to its client, and they are terminals when the client's are."""

from __future__ import annotations

import io
import socket
import sys
import threading
from typing import Any

from dos.kernel.protocol import send

_local = threading.local()


class ClientIO:
    """One request's way to its client: frames over the client's socket, from any thread."""

    def __init__(self, sock: socket.socket, ttys: dict[str, bool]):
        self.sock = sock
        self.lock = threading.Lock()
        self.ttys = ttys

    def send(self, frame: dict[str, Any]) -> None:
        with self.lock:
            send(self.sock, frame)

    def emit(self, key: str, text: str | bytes) -> None:
        if isinstance(text, bytes):  # some writers hand over bytes
            text = text.decode("utf-8", errors="replace")
        if text:
            self.send({key: text})


class _Out(io.TextIOBase):
    def __init__(self, key: str, name: str, original: Any):
        self.key, self.name, self.original = key, name, original

    def _client(self) -> ClientIO | None:
        return getattr(_local, "client", None)

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


def install() -> None:
    """Replace the process's standard output and error with per-thread routers (once, at kernel start)."""
    sys.stdout = _Out("o", "stdout", sys.stdout)
    sys.stderr = _Out("e", "stderr", sys.stderr)


def attach(client: ClientIO | None) -> None:
    """Route this thread's standard streams to `client` (None: back to the kernel's own)."""
    _local.client = client
