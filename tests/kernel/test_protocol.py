"""The kernel's protocol without a kernel: the fingerprint follows the code and the environment, frames are the JSON
the standard library writes and reads, and the client finds the state folder the rest of DOS uses. (The warm kernel
driven through the real `dos` client: tests/cli/test_kernel.py.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import dos
from dos.adapters.files.paths import resolve_paths
from dos.kernel.client import _state, _state_dir
from dos.kernel.protocol import decode, encode, fingerprint, socket_path

pytestmark = pytest.mark.model


def test_fingerprint_follows_code_and_environment():
    base = fingerprint({})
    assert fingerprint({}) == base
    assert fingerprint({"OPENAI_API_KEY": "sk-x"}) != base
    assert fingerprint({"NO_COLOR": "1", "DOS_KERNEL": "1"}) == base  # display-only variables do not count
    source = Path(dos.__file__).parent / "context.py"
    st = source.stat()
    try:
        os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        assert fingerprint({}) != base
    finally:
        os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_frames_are_the_json_the_standard_library_writes_and_reads():
    frames = [{"o": "h\u00e9llo\n\t\"q\" \\ \u2028 \x00 \U0001f600"}, {"exit": 130}, {"refused": "version"},
              {"op": "run", "argv": ["run", "x"], "ttys": {"stdin": False}, "env": {}, "n": None, "t": (1, 2)},
              {"result": {"cost": 0.0, "duration_s": 1.25, "big": 10**20, "inf": float("inf"), "tiny": 1e-300}}]
    for frame in frames:
        line = encode(frame)
        assert line == (json.dumps(frame, separators=(",", ":")) + "\n").encode()
        assert decode(line) == json.loads(line)
    for bad in (b"", b"[1]\n", b"nope\n", b'{"a": }\n'):
        with pytest.raises(ValueError):
            decode(bad)
    with pytest.raises(TypeError):
        encode({"o": object()})


def test_the_client_finds_the_state_folder_the_rest_of_dos_uses(monkeypatch):
    for home in ("~/dos-home", "/tmp/dos home/", None):
        if home is None:
            monkeypatch.delenv("DOS_HOME", raising=False)
        else:
            monkeypatch.setenv("DOS_HOME", home)
        assert Path(_state_dir()) == _state() == resolve_paths().state
        assert socket_path(_state_dir()) == socket_path(resolve_paths().state)
