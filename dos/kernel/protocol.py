"""What the kernel and its clients agree on: where the socket is, who may talk, and the frames they send.

Frames are JSON objects, one per line. Client to kernel: `{"op": "ping"|"stop"|"run"|"turn"|"cancel", ...}`.
Kernel to client: `{"o": text}` (stdout), `{"e": text}` (stderr), `{"exit": code}`, or `{"refused": reason}`;
a chat `turn` also gets `{"t": text}` (the answer) and a result or error in its exit frame (dos.cli.repl.kernel).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path

import dos

MAX_SOCKET_PATH = 100
# Variables that change what a turn does (keys, endpoints, DOS settings): a kernel started under other values
# is not reused. Only a hash of them ever leaves the client.
_BEHAVIOUR_PREFIXES = ("DOS_", "LITELLM_", "OLLAMA_", "AWS_", "AZURE_")
_BEHAVIOUR_SUFFIXES = ("_API_KEY", "_API_BASE", "_BASE_URL", "_TOKEN")
_NOT_BEHAVIOUR = {"DOS_KERNEL", "DOS_DEBUG"}


def socket_path(state: Path) -> Path:
    """`state/kernel.sock`, or a short private path when that would pass the Unix socket length limit."""
    path = state / "kernel.sock"
    if len(str(path)) <= MAX_SOCKET_PATH:
        return path
    import tempfile

    folder = Path(tempfile.gettempdir()) / f"dos-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / (hashlib.sha256(str(state).encode()).hexdigest()[:16] + ".sock")


def fingerprint(environ: dict[str, str] | os._Environ = os.environ) -> str:
    """DOS's version, its code (file names, sizes, mtimes) and the behaviour-changing environment."""
    digest = hashlib.sha256(dos.__version__.encode())
    root = Path(dos.__file__).parent
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    for key in sorted(environ):
        behaviour = key.startswith(_BEHAVIOUR_PREFIXES) or key.endswith(_BEHAVIOUR_SUFFIXES)
        if behaviour and key not in _NOT_BEHAVIOUR:
            digest.update(f"{key}={environ[key]}\n".encode())
    return digest.hexdigest()[:32]


def send(sock: socket.socket, frame: dict[str, object]) -> None:  # (no typing import: client start-up)
    sock.sendall(json.dumps(frame, separators=(",", ":")).encode() + b"\n")


def owned_by_me(path: Path) -> bool:
    try:
        return path.stat().st_uid == os.getuid()
    except OSError:
        return False
