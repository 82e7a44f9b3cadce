"""`dos` with the warm kernel on, for tests that opt in (conftest turns it off); the kernel is stopped, or killed,
when the test is done."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def kernel_on(dos, dos_home: Path) -> Iterator:
    def call(*args, **kw):
        kw["env"] = {"DOS_KERNEL": "1"} | kw.get("env", {})
        return dos(*args, **kw)

    try:
        yield call
    finally:
        stop_kernel(dos, dos_home)


def stop_kernel(dos, dos_home: Path) -> None:
    dos("kernel", "stop", env={"DOS_KERNEL": "1"})
    pid_file = dos_home / "state" / "kernel.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
