"""`dos serve` refuses, before it listens: a non-loopback host without --allow-remote, or without a token, and a
port already taken (exit 2, one line)."""

from __future__ import annotations

import socket

import pytest

pytestmark = pytest.mark.model


def test_listening_beyond_loopback_needs_allow_remote_and_a_token(tmp_path, dos):
    refused = dos("serve", "--host", "0.0.0.0", "--port", "0")
    assert refused.code == 2 and "--allow-remote" in refused.err and "Traceback" not in refused.err
    no_token = dos("serve", "--host", "0.0.0.0", "--port", "0", "--allow-remote")
    assert no_token.code == 2 and "dos tokens create" in no_token.err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = dos("serve", "--port", str(taken.getsockname()[1]))
    assert busy.code == 2 and "cannot listen" in busy.err and busy.err.count("\n") == 1
