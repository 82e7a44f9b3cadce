"""`/copy`: a clipboard tool if there is one (wl-copy, xclip, xsel, pbcopy), else OSC 52 to the terminal."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys

TOOLS = (
    ("wl-copy", [], "WAYLAND_DISPLAY"),
    ("xclip", ["-selection", "clipboard"], "DISPLAY"),
    ("xsel", ["--clipboard", "--input"], "DISPLAY"),
    ("pbcopy", [], None),
    ("clip.exe", [], None),
)
OSC52_LIMIT = 100_000  # terminals cap OSC 52 payloads; beyond this most drop it silently


def copy(text: str) -> str:
    """Put `text` on the clipboard; returns how (the tool's name, or 'OSC 52'). Raises OSError if nothing can."""
    for tool, args, needs in TOOLS:
        if (needs is None or os.environ.get(needs)) and shutil.which(tool):
            try:
                subprocess.run([tool, *args], input=text.encode("utf-8"), check=True, timeout=5,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return tool
            except (OSError, subprocess.SubprocessError):
                continue
    return osc52(text)


def osc52(text: str) -> str:
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    if len(data) > OSC52_LIMIT:
        raise OSError(f"too long for the terminal's clipboard ({len(text)} characters) and no clipboard tool found")
    sequence = f"\x1b]52;c;{data}\x07"
    if os.environ.get("TMUX"):  # tmux passes it on only wrapped
        sequence = f"\x1bPtmux;\x1b{sequence}\x1b\\"
    stream = sys.stdout
    if not stream.isatty():
        raise OSError("no clipboard tool (wl-copy, xclip, xsel, pbcopy) and no terminal for OSC 52")
    stream.write(sequence)
    stream.flush()
    return "OSC 52"
