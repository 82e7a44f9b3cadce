"""Built-in Stop hook: when a turn took longer than `after_s` seconds, ring the terminal bell (on the
controlling terminal, never into a pipe) and send a desktop notification if `notify-send` is installed.

In-process: `hook(event, after_s=30)`. As a command hook: `python3 notify.py [AFTER_S]`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from typing import Any


def hook(event: dict[str, Any], after_s: float = 30, bell: bool = True, desktop: bool = True,
         **_: Any) -> None:
    took = event.get("duration_s")
    if not isinstance(took, (int, float)) or took < after_s:
        return None
    if bell:
        try:
            with open("/dev/tty", "w") as tty:
                tty.write("\a")
        except OSError:
            pass
    sender = shutil.which("notify-send") if desktop else None
    if sender:
        what = event.get("skill") or "dos"
        try:
            subprocess.Popen([sender, "-a", "dos", f"dos: {what} finished", f"after {took:.0f} s"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        except OSError:
            pass
    return None


if __name__ == "__main__":
    hook(json.load(sys.stdin), after_s=float(sys.argv[1]) if len(sys.argv) > 1 else 30)
