"""`dos serve`: check where it may listen, bind, warm up, then serve the app with uvicorn until Ctrl-C."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from dos.core.errors import UsageError

LOOPBACK_NAMES = ("localhost", "ip6-localhost")


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, allow_remote: bool, active_tokens: int) -> None:
    """Loopback by default; anywhere else only when asked for and with a token to require."""
    if is_loopback(host):
        return
    if not allow_remote:
        raise UsageError(f"--host {host} would accept connections from other machines; add --allow-remote if "
                         "you mean it (every request still needs a token)")
    if not active_tokens:
        raise UsageError(f"--host {host} --allow-remote needs a token first: `dos tokens create NAME`")


def listen(host: str, port: int) -> socket.socket:
    """A listening socket; UsageError (one line) if the address is taken, not ours or not an address."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(512)
    except (OSError, OverflowError) as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {getattr(exc, 'strerror', None) or exc}") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


def serve(host: str, port: int, allow_remote: bool, max_body: int, threads: int,
          on_ready: Any = lambda url: None) -> None:
    """Serve until interrupted. `on_ready(url)` runs once the socket listens and the model is warm."""
    from dos.bootstrap import build, keep_tools_connected, warm_up

    dos = build()
    check_bind(host, allow_remote, sum(1 for t in dos.tokens.all() if not t.revoked))
    sock = listen(host, port)
    warm_up()  # LiteLLM imported, the embedded model loaded: the first request pays for neither
    close_tools = keep_tools_connected()  # MCP servers a skill uses stay up for the next request

    import uvicorn

    from dos.gateway.app import Workers, create_app

    workers = Workers(lambda: build().gateway(), dos.paths.config, threads)
    config = uvicorn.Config(create_app(workers, max_body), log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=5, limit_concurrency=max(threads * 4, 64))
    server = uvicorn.Server(config)
    on_ready(url_of(sock))
    try:
        server.run(sockets=[sock])
    finally:
        workers.close()
        close_tools()
        sock.close()
