"""What the kernel and its clients agree on: where the socket is, who may talk, and the frames they send.

Frames are JSON objects, one per line. Client to kernel: `{"op": "ping"|"stop"|"run"|"turn"|"cancel", ...}`: a
`run` (`dos run`, dos.cli.run_fast) or a chat's `turn` (dos.cli.repl.kernel) carries the client's folder, terminal
scope, display variables and which of its streams are terminals, and what dos.kernel.turns needs of the turn.
Kernel to a `run` or `turn`: first `{"turn": id, "pid": kernel pid}`, the id the turn will have in memory; then
`{"t": text}` (a piece of the answer), `{"o": text}` (stdout), `{"e": text}` (stderr) or a frame of the turn's own;
last `{"exit": code}`, with `"result"` (RESULT_FIELDS, `usage` as [prompt, completion]) or `"error"` (a message);
or `{"refused": reason}` instead. dos.kernel.client.call relays them, for both.

The thin client imports this module on every `dos run`, so it imports no `json` or `pathlib` (they import `re`
and `enum`), no `socket` (`enum`) and no `hashlib` (OpenSSL): together about 12 ms of each run. `encode` and
`decode` write and read JSON with the C functions `json` itself uses.
"""

from __future__ import annotations

import _json
import os

import dos

try:
    from _sha256 import sha256  # Python 3.11
except ImportError:  # pragma: no cover - Python 3.12 renamed it; other builds have only hashlib's
    try:
        from _sha2 import sha256
    except ImportError:
        from hashlib import sha256

MAX_SOCKET_PATH = 100
RESULT_FIELDS = ("turn_id", "session_id", "skill", "model", "text", "cost", "finish_reason", "duration_s",
                 "first_token_s")  # of a TurnResult, in an exit frame (with `usage`)
EXIT_RECORD = "kernel.exit.json"  # in the state folder: how the last kernel died (written by its supervisor)
# Variables that change what a turn does (keys, endpoints, DOS settings): a kernel started under other values
# is not reused. Only a hash of them ever leaves the client.
_BEHAVIOUR_PREFIXES = ("DOS_", "LITELLM_", "OLLAMA_", "AWS_", "AZURE_")
_BEHAVIOUR_SUFFIXES = ("_API_KEY", "_API_BASE", "_BASE_URL", "_TOKEN")
_NOT_BEHAVIOUR = {"DOS_KERNEL", "DOS_DEBUG"}


def socket_file(state: str | os.PathLike) -> str:
    """`state/kernel.sock`, or a short private path when that would pass the Unix socket length limit."""
    state = os.path.normpath(os.fspath(state))
    path = os.path.join(state, "kernel.sock")
    if len(path) <= MAX_SOCKET_PATH:
        return path
    import tempfile

    folder = os.path.join(tempfile.gettempdir(), f"dos-{os.getuid()}")
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    return os.path.join(folder, sha256(state.encode()).hexdigest()[:16] + ".sock")


def socket_path(state: os.PathLike):  # -> pathlib.Path (imported here, not by the thin client)
    from pathlib import Path

    return Path(socket_file(state))


def fingerprint(environ: dict[str, str] | os._Environ = os.environ) -> str:
    """DOS's version, its code (file names, sizes, mtimes) and the behaviour-changing environment."""
    digest = sha256(dos.__version__.encode())
    root = os.path.dirname(dos.__file__)
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


_WORDS = {None: "null", True: "true", False: "false", "inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}


def _json_text(value: object) -> str:
    if isinstance(value, str):
        return _json.encode_basestring_ascii(value)
    if value is None or value is True or value is False:
        return _WORDS[value]
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        text = float.__repr__(value)
        return _WORDS.get(text, text)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json.encode_basestring_ascii(k)}:{_json_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_json_text(v) for v in value) + "]"
    raise TypeError(f"a frame cannot hold {type(value).__name__}")


def encode(frame: dict[str, object]) -> bytes:
    """One frame as a line of JSON (what `json.dumps(frame, separators=(",", ":"))` writes)."""
    return _json_text(frame).encode() + b"\n"


class _Scanner:  # the settings json's C scanner reads off a JSONDecoder
    strict, object_hook, object_pairs_hook = True, None, None
    parse_float = parse_constant = float
    parse_int = int


_scan = _json.make_scanner(_Scanner())


def decode(line: bytes) -> dict:
    """One line of JSON; ValueError when it is not a JSON object."""
    try:
        frame, _ = _scan(line.decode("utf-8"), 0)
    except StopIteration:
        frame = None
    if not isinstance(frame, dict):
        raise ValueError(f"not a frame: {line[:80]!r}")
    return frame


def send(sock, frame: dict[str, object]) -> None:  # sock: a socket.socket or a _socket.socket
    sock.sendall(encode(frame))


def owned_by_me(path: str | os.PathLike) -> bool:
    try:
        return os.stat(path).st_uid == os.getuid()
    except OSError:
        return False
