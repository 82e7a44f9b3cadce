"""Whether a process still runs. Standard library only: the kernel's thin client uses it too."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """Whether process `pid` runs; a zombie (killed, not yet reaped by its parent) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's: it runs
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True
