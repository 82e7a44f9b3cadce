"""`dos run` on a real pseudo-terminal: a spinner, then the rendered answer; in-process and via the kernel."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest

from tests.conftest import clean_env

pytestmark = pytest.mark.model


def run_on_tty(args: list[str], env: dict, timeout: float = 180) -> tuple[int, str]:
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "dos", *args], stdin=follower, stdout=follower, stderr=follower,
                            env=env, close_fds=True)
    os.close(follower)
    out, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the program has exited
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    os.close(leader)
    return proc.wait(timeout=30), out.decode("utf-8", "replace")


@pytest.mark.parametrize("kernel", ["0", "1"])
def test_answer_renders_on_a_terminal(dos_home, tmp_path, kernel):
    env = clean_env(dos_home, DOS_KERNEL=kernel, TERM="xterm-256color", COLUMNS="100")
    env.pop("NO_COLOR")
    code, out = run_on_tty(["run", "explain", "--temperature", "0", "--max-tokens", "16", "what is a file"], env)
    try:
        assert code == 0, out
        assert "waiting for the model" in out  # the spinner showed while nothing had arrived
        plain = "".join(ch for ch in out if ch.isalnum())
        assert len(plain) > 20  # and the answer was drawn
        assert "Traceback" not in out
        if kernel == "1":  # the first run starts the kernel, and says so while it waits
            assert "starting the DOS kernel" in out
    finally:
        if kernel == "1":
            subprocess.run([sys.executable, "-m", "dos", "kernel", "stop"], env=env, capture_output=True)


def test_slow_steps_show_progress_on_a_terminal_only(dos, dos_home, tmp_path):
    """`dos memory import` draws a spinner on a terminal's stderr; on a pipe, stderr stays empty."""
    export = tmp_path / "export.jsonl"
    assert dos("memory", "remember", "a note to carry over").code == 0
    assert dos("memory", "export", "-o", str(export)).code == 0
    other = tmp_path / "other-home"
    env = clean_env(other, TERM="xterm-256color", COLUMNS="100")
    code, out = run_on_tty(["memory", "import", str(export)], env)
    assert code == 0, out
    assert "importing" in out
    piped = dos("memory", "import", str(export), env={"DOS_HOME": str(tmp_path / "third-home")})
    assert piped.code == 0 and "importing" not in piped.err
