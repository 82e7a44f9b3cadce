"""`dos sync --watch`: a change to the source reaches the target within a second, drift in a target is reported
as it happens, and Ctrl-C stops it with exit 130 and one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.cli.test_sync import SKILL, make_skill


def wait_for(check, deadline_s: float) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return check()


class Lines:
    """Collects a pipe's lines in a thread."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        for raw in stream:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines)


def test_watch_resyncs_within_a_second_reports_drift_and_stops_on_ctrl_c(dos_home: Path, tmp_path: Path):
    home = tmp_path / "userhome"
    home.mkdir()
    src = make_skill(dos_home / "data" / "skills", "mine")
    (dos_home / "config").mkdir(parents=True)
    targets = [tmp_path / "t1", tmp_path / "t2"]
    (dos_home / "config" / "sync.yaml").write_text(
        "targets:\n" + "".join(f"  - {{name: {t.name}, kind: folder, path: {t}, packs: user}}\n" for t in targets))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOS_")}
    env |= {"DOS_HOME": str(dos_home), "HOME": str(home), "NO_COLOR": "1", "DOS_KERNEL": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "dos", "sync", "--watch"], cwd=tmp_path, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        assert wait_for(lambda: err.has("watching"), 30), (out.lines, err.lines)
        copies = [t / "mine" / "SKILL.md" for t in targets]
        assert all(c.read_text() == (src / "SKILL.md").read_text() for c in copies)

        # a source change reaches every target within a second
        changed = SKILL.format(name="mine", desc="Changed while watching.")
        (src / "SKILL.md").write_text(changed)
        assert wait_for(lambda: all(c.read_text() == changed for c in copies), 1.0), (out.lines, err.lines)

        # a new file in the source too
        (src / "assets").mkdir()
        (src / "assets" / "logo.txt").write_text("logo\n")
        assert wait_for(lambda: all((t / "mine" / "assets" / "logo.txt").is_file() for t in targets), 1.0)

        # an edit in a target is reported as drift, and the next source change does not overwrite it
        (targets[0] / "mine" / "SKILL.md").write_text("edited in t1\n")
        assert wait_for(lambda: out.has("skip   mine/SKILL.md: edited in the target"), 2.0), (out.lines, err.lines)
        (src / "references" / "notes.md").write_text("notes v2\n")
        assert wait_for(lambda: all((t / "mine" / "references" / "notes.md").read_text() == "notes v2\n"
                                    for t in targets), 1.0)
        assert (targets[0] / "mine" / "SKILL.md").read_text() == "edited in t1\n"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    out.thread.join(timeout=5)
    err.thread.join(timeout=5)
    assert code == 130, (out.lines, err.lines)
    assert err.lines[-1] == "dos: interrupted"
    assert [line for line in err.lines if "watching" not in line] == ["dos: interrupted"]
    assert not any("Traceback" in line for line in err.lines)
