"""The kernel's server serves whatever handlers its composition root gives it, and its clients read every answer
through one relay (dos.kernel.client.call): without a model, in a kernel process serving a fake handler."""

from __future__ import annotations

import subprocess
import sys
import time

from dos.kernel import client
from dos.kernel.protocol import fingerprint

FAKE_KERNEL = """
import sys
from pathlib import Path

from dos.core.errors import UsageError
from dos.kernel.server import Kernel


def echo(request, send):
    send({"t": "hello "})
    send({"shown": 1})
    sys.stderr.write("a notice\\n")  # the kernel's stderr, in this request's thread: the client's
    if request["fail"] == "usage":
        raise UsageError("nothing to echo")
    if request["fail"] == "bug":
        raise ValueError("oops")
    return {"exit": 0, "result": {"said": request["text"]}}


Kernel(Path(sys.argv[1]), 60.0, {"echo": echo}, lambda: (lambda: print("closed", flush=True))).serve()
"""


def test_the_kernel_serves_the_handlers_its_composition_root_gives_it(tmp_path, capfd):
    state = tmp_path / "state"
    proc = subprocess.Popen([sys.executable, "-c", FAKE_KERNEL, str(state)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while client.request(state, {"op": "ping"}) is None:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        base = {"op": "echo", "fingerprint": fingerprint(), "cwd": str(tmp_path), "scope": "dir:x", "env": {},
                "ttys": {}, "turn_id": "T1"}
        texts: list[str] = []
        others: list[dict] = []
        assert client.call(state, base | {"text": "hi", "fail": ""}, texts.append, others.append) == {
            "exit": 0, "result": {"said": "hi"}}
        assert texts == ["hello "] and others == [{"shown": 1}]
        assert "a notice" in capfd.readouterr().err
        assert client.call(state, base | {"text": "", "fail": "usage"}, texts.append) == {
            "exit": 2, "error": "nothing to echo"}
        bug = client.call(state, base | {"text": "", "fail": "bug"}, texts.append)
        assert bug["exit"] == 1 and "internal error in the kernel: ValueError: oops" in bug["error"]
        assert client.call(state, base | {"fingerprint": "other"}, texts.append) == {"refused": "version"}
        assert client.call(state, base | {"op": "nothing"}, texts.append) == {"gone": True}  # not its kind
        assert client.request(state, {"op": "ping"})["served"] == 3
    finally:
        client.stop(state, timeout=30)
        out, err = proc.communicate(timeout=30)
    assert "closed" in out, err  # what warm-up returned ran when the kernel stopped
    assert "ValueError: oops" in err  # a bug's traceback is in the kernel's log
