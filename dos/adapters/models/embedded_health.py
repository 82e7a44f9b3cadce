"""Whether the embedded model runs on this machine: a model that killed its process with a signal (an illegal
instruction from a llama.cpp build that uses what the CPU or the kernel will not give it, a segfault) is recorded
as crashed and not run again, until llama-cpp-python is rebuilt or `dos doctor` finds it decoding again.

Standard library only: the kernel's supervisor and the thin client read these records without LiteLLM or llama.cpp.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import mmap
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from dos.adapters.files.private import private_dir, replace_private
from dos.adapters.models import embedded

# Signals that mean the code crashed (as opposed to being stopped or killed from outside).
CRASH_SIGNALS = {
    signal.SIGILL: "illegal instruction",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "arithmetic fault",
    signal.SIGABRT: "aborted",
}
PROBE_TIMEOUT_S = 60.0
_RECORD = "embedded-crash.json"


def describe(signum: int) -> str:
    """`SIGILL (illegal instruction)`; a signal DOS has no words for is its name alone."""
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    words = CRASH_SIGNALS.get(signum)  # type: ignore[call-overload]
    return f"{name} ({words})" if words else name


# -- what the process is doing in native code -------------------------------------------------------------------
# A page shared with the kernel's supervisor (made before it forks the kernel): the embedded model's name while
# llama.cpp loads or decodes it, so a crash can be put down to the model, not guessed. Two writes per turn.

_page: mmap.mmap | None = None
_WIDTH = 64


def share_activity() -> mmap.mmap:
    """A shared page for a process about to fork the one that runs models; that child writes, the parent reads."""
    global _page
    _page = mmap.mmap(-1, _WIDTH)
    return _page


@contextlib.contextmanager
def running(name: str) -> Iterator[None]:
    """Mark `name` as running native code for the duration (no-op without a shared page)."""
    page = _page
    if page is None:
        yield
        return
    page[:_WIDTH] = name.encode()[: _WIDTH - 1].ljust(_WIDTH, b"\0")
    try:
        yield
    finally:
        page[:_WIDTH] = bytes(_WIDTH)


def active(page: mmap.mmap) -> str | None:
    """The embedded model the child was running when it stopped, if any."""
    name = page[:_WIDTH].split(b"\0", 1)[0].decode(errors="replace")
    return name or None


# -- the crash record -------------------------------------------------------------------------------------------


def build_id() -> str:
    """Names, sizes and times of llama-cpp-python's compiled libraries: any rebuild or reinstall changes it."""
    spec = importlib.util.find_spec("llama_cpp")
    folders = [Path(f) / "lib" for f in (spec.submodule_search_locations or [])] if spec else []
    digest = hashlib.sha256()
    for folder in folders:
        for lib in sorted(folder.glob("*.so*")) if folder.is_dir() else []:
            info = lib.stat()
            digest.update(f"{lib}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def record_crash(state: Path, name: str, signum: int, during: str) -> None:
    """Remember that embedded model `name` killed its process with `signum` (atomically, 0600)."""
    private_dir(state)
    record = {"model": name, "signal": signum, "described": describe(signum), "during": during,
              "build": build_id(), "at": time.time()}
    replace_private(state / _RECORD, json.dumps(record).encode())


def crash_of(state: Path, name: str) -> dict | None:
    """The crash on record for `name` with the llama.cpp build installed now, or None."""
    try:
        record = json.loads((state / _RECORD).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("model") != name or record.get("build") != build_id():
        return None
    return record


def clear_crash(state: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (state / _RECORD).unlink()


def crash_line(record: dict) -> str:
    """One line for the user: which model, which signal, what to run."""
    return (f"the embedded model local/{record['model']} crashed its process with {record['described']} while "
            f"{record.get('during') or 'running'}; it is not run again on this llama.cpp build (see `dos doctor`)")


# -- the probe `dos doctor` runs --------------------------------------------------------------------------------


def probe_in_child(name: str, timeout: float = PROBE_TIMEOUT_S) -> dict:
    """Load the model and decode one token in a child process, so a crash costs the child, not the caller.
    {"ok": True, "load_s", "decode_s"} | {"ok": False, "signal", "described"} | {"ok": False, "error"}."""
    code = ("import json, os, sys, dos.adapters.models.embedded_health as h; "
            f"print(json.dumps(h.decode_one({name!r}))); "
            "sys.stdout.flush(); os._exit(0)")  # no teardown: llama.cpp's late destructors are noisy
    try:
        done = subprocess.run([sys.executable, "-P", "-c", code], capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"no token after {timeout:.0f}s"}
    if done.returncode < 0:
        return {"ok": False, "signal": -done.returncode, "described": describe(-done.returncode)}
    lines = done.stdout.decode(errors="replace").strip().splitlines()
    try:
        return {"ok": True} | json.loads(lines[-1])
    except (IndexError, ValueError):
        err = done.stderr.decode(errors="replace").strip().splitlines()
        return {"ok": False, "error": err[-1] if err else f"the probe exited {done.returncode}"}


def decode_one(name: str) -> dict:
    """In the probe's process: llama.cpp alone (no LiteLLM) loads the model and samples one token."""
    path = embedded.model_file(name)
    if path is None:
        raise SystemExit(f"{embedded.EMBEDDED[name][1]} is not installed ({embedded.install_hint(name)})")
    from llama_cpp import Llama  # the probe's whole point; this module is otherwise standard library only

    started = time.perf_counter()
    llama = Llama(model_path=str(path), n_ctx=256, verbose=False)
    loaded = time.perf_counter()
    llama.create_completion("The capital of France is", max_tokens=1, temperature=0.0)
    decoded = time.perf_counter()
    llama.close()
    return {"load_s": round(loaded - started, 3), "decode_s": round(decoded - loaded, 3)}
