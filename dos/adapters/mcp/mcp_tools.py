"""The `ToolHost` port on the official MCP Python SDK (`mcp` 2.x): stdio servers (command, args, env) and
streamable HTTP servers (url, headers).

The SDK is async (anyio); DOS's turn is not. A `_Pool` (one event-loop thread) holds open server sessions; the
sync methods submit coroutines to it and wait. Each server is connected once, on first use, by a task that keeps
the transport and the `ClientSession` open until it is closed, so a turn that calls a tool three times starts its
server once. Failures never raise out of `list_tools` / `call`: a server that cannot start, does not answer in
time or exits mid-call gives a one-line error (with the last line it wrote on stderr).

Out of the kernel each `McpTools` (one turn) has a pool of its own, closed with the turn. The kernel calls
`keep_connected()` once: every later `McpTools` shares one pool, so the next turn finds its servers running.
A pooled server is pinged before a turn reuses it, and restarted if it died or its spec changed.

The MCP SDK is imported only inside the loop thread, when a server is first used.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import tempfile
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from dos.context import cwd

from dos.core.tools import (
    DEFAULT_START_TIMEOUT_S,
    ServerSpec,
    ServerTools,
    ToolResult,
    ToolSpec,
    one_line,
    safe_url,
)

_open: weakref.WeakSet[_Pool] = weakref.WeakSet()
_shared: _Pool | None = None  # the kernel's pool (keep_connected), shared by every McpTools


@atexit.register
def _close_all() -> None:
    for pool in list(_open):
        pool.close()


def keep_connected() -> None:
    """From now on, servers stay connected across turns (the kernel calls this once, at start)."""
    global _shared
    if _shared is None:
        _shared = _Pool()


def close_connected() -> None:
    """Close the servers `keep_connected` kept (the kernel calls this on exit)."""
    global _shared
    pool, _shared = _shared, None
    if pool is not None:
        pool.close()


def _leaf(exc: BaseException) -> BaseException:
    """The first real error inside anyio's exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def describe(exc: BaseException) -> str:
    exc = _leaf(exc)
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    if isinstance(exc, PermissionError):
        return f"cannot run the command: {exc.strerror or exc}"
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return "timed out"
    error = getattr(exc, "error", None)  # MCPError: the server's JSON-RPC error
    message = getattr(error, "message", None) or str(exc) or type(exc).__name__
    return one_line(f"{type(exc).__name__}: {message}" if not getattr(error, "message", None) else message, 240)


class _Connection:
    """One server's session, owned by one task of the loop."""

    def __init__(self, spec: ServerSpec):
        self.spec = spec
        self.session: Any = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closing = asyncio.Event()
        self.errlog = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
        self.task = asyncio.create_task(self._main(), name=f"mcp:{spec.name}")
        self.failure: str | None = None

    def stderr_tail(self) -> str:
        try:
            self.errlog.flush()
            self.errlog.seek(0)
            lines = [ln.strip() for ln in self.errlog.read()[-4000:].splitlines() if ln.strip()]
        except (OSError, ValueError):
            return ""
        return one_line(lines[-1], 200) if lines else ""

    def explain(self, what: str) -> str:
        tail = self.stderr_tail()
        return f"{what} (stderr: {tail})" if tail else what

    async def _main(self) -> None:
        from mcp.client.session import ClientSession

        try:
            async with self._transport() as streams, ClientSession(streams[0], streams[1]) as session:
                await session.initialize()
                self.session = session
                if not self.ready.done():
                    self.ready.set_result(None)
                await self.closing.wait()
        except BaseException as exc:  # noqa: BLE001 - anything that ends the session is this server's failure
            self.failure = describe(exc)
            if not self.ready.done():
                self.ready.set_exception(RuntimeError(self.failure))
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            if not self.ready.done():
                self.ready.set_exception(RuntimeError(self.failure or "the server closed the connection"))
            self.session = None

    def _transport(self) -> Any:
        spec = self.spec
        if spec.transport == "stdio":
            from mcp.client.stdio import StdioServerParameters, stdio_client

            params = StdioServerParameters(command=spec.command, args=list(spec.args), env=dict(spec.env) or None,
                                           cwd=spec.cwd or None)
            return stdio_client(params, errlog=self.errlog)
        return _http_transport(spec)

    async def start(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(self.ready), timeout)
        except (asyncio.TimeoutError, TimeoutError):
            raise RuntimeError(self.explain(f"did not start within {timeout:g} s")) from None
        except RuntimeError as exc:
            raise RuntimeError(self.explain(f"could not start: {exc}")) from None

    async def run(self, make: Callable[[Any], Any], timeout: float, what: str) -> Any:
        """Run `make(session)` unless the server dies first or time runs out."""
        if self.session is None:
            raise RuntimeError(self.explain(f"is not running ({self.failure or 'closed'})"))
        work = asyncio.ensure_future(make(self.session))
        done, _ = await asyncio.wait({work, self.task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if work in done:
            exc = work.exception()
            if exc is not None and _closed(exc):  # the server went away mid-call: restart it on next use
                self.closing.set()
                await asyncio.sleep(0.05)  # let its last stderr lines land
                raise RuntimeError(self.explain(f"exited during {what} (connection closed)"))
            return work.result()  # raises the call's own error, if any
        work.cancel()
        if self.task in done:
            raise RuntimeError(self.explain(f"exited during {what} ({self.failure or 'connection closed'})"))
        raise RuntimeError(self.explain(f"{what} timed out after {timeout:g} s"))

    async def alive(self) -> bool:
        """Whether a pooled session still answers (a dead server fails the ping at once)."""
        try:
            await asyncio.wait_for(self.session.send_ping(), self.spec.timeout)
            return True
        except Exception:  # noqa: BLE001 - any failure means: start it again
            return False

    async def close(self) -> None:
        self.closing.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), 5)
        except BaseException:  # noqa: BLE001 - closing must not fail
            self.task.cancel()
        try:
            self.errlog.close()
        except OSError:
            pass


def _http_transport(spec: ServerSpec) -> Any:
    from contextlib import asynccontextmanager

    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    @asynccontextmanager
    async def transport() -> Any:
        async with create_mcp_http_client(headers=dict(spec.headers) or None) as client, \
                streamable_http_client(spec.url, http_client=client) as streams:
            yield streams

    return transport()


def _result(result: Any, started: float) -> ToolResult:
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource":
            resource = getattr(block, "resource", None)
            parts.append(getattr(resource, "text", None) or f"[resource {getattr(resource, 'uri', '')}]")
        else:
            parts.append(f"[{kind or 'content'}]")
    structured = getattr(result, "structured_content", None)
    text = "\n".join(parts)
    if not text and structured is not None:
        import json

        text = json.dumps(structured, ensure_ascii=False)
    return ToolResult(text=text, is_error=bool(getattr(result, "is_error", False)), structured=structured,
                      duration_s=round(time.monotonic() - started, 4))


def _server(spec: ServerSpec) -> tuple[str, str, str]:
    """Which server a spec declares: a spec with the same name, file and folder but other fields replaces it."""
    return spec.name, spec.origin, spec.cwd


class _Pool:
    """An event-loop thread and the server connections it holds, keyed by spec."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connections: dict[ServerSpec, _Connection] = {}

    def submit(self, coro: Any, timeout: float) -> Any:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name="dos-mcp", daemon=True)
                self._thread.start()
                _open.add(self)
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout + 5)  # the coroutine keeps its own, shorter, time limits
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise RuntimeError(f"timed out after {timeout:g} s") from None

    async def connection(self, spec: ServerSpec, check: bool = False) -> _Connection:
        """The running connection for `spec`, started if needed; `check`: ping one kept from an earlier turn."""
        conn = self._connections.get(spec)
        if conn is not None and check and conn.session is not None and not await conn.alive():
            conn.closing.set()
        if conn is None or conn.task.done() or conn.closing.is_set():
            for old in [k for k in self._connections if _server(k) == _server(spec)]:
                asyncio.ensure_future(self._connections.pop(old).close())  # died, or its spec changed
            conn = self._connections[spec] = _Connection(spec)
        await conn.start(DEFAULT_START_TIMEOUT_S)
        return conn

    def close(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is None:
            return

        async def shut() -> None:
            await asyncio.gather(*(c.close() for c in self._connections.values()), return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shut(), loop).result(10)
        except Exception:  # noqa: BLE001
            pass
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._connections.clear()
        _open.discard(self)


class McpTools:
    """A `ToolHost` over MCP servers declared in the config (`dos.adapters.mcp.mcp_config`)."""

    def __init__(self, load: Callable[[], tuple[list[ServerSpec], list[str]]],
                 notify: Callable[[str], None] = lambda _: None):
        self._load = load
        self._servers: list[ServerSpec] | None = None
        self.problems: list[str] = []
        self.notify = notify
        self._pool = _shared or _Pool()

    def servers(self) -> list[ServerSpec]:
        """The declared servers; a stdio server runs in the caller's folder (the client's, in the kernel)."""
        if self._servers is None:
            servers, self.problems = self._load()
            self._servers = [replace(s, cwd=str(cwd() / s.cwd)) if s.transport == "stdio" else s for s in servers]
            for problem in self.problems:
                self.notify(problem)
        return list(self._servers)

    # -- the port

    def list_tools(self, servers: list[ServerSpec]) -> list[ServerTools]:
        async def one(spec: ServerSpec) -> ServerTools:
            started = time.monotonic()
            try:
                conn = await self._pool.connection(spec, check=True)
                tools = await conn.run(_list_all, spec.timeout, "tools/list")
            except Exception as exc:  # noqa: BLE001 - reported per server
                return ServerTools(spec, error=_where(spec, exc), duration_s=round(time.monotonic() - started, 4))
            return ServerTools(spec, tuple(ToolSpec(spec.name, t.name, t.description or "",
                                                    dict(t.input_schema or {})) for t in tools),
                               duration_s=round(time.monotonic() - started, 4))

        async def every() -> list[ServerTools]:
            return list(await asyncio.gather(*(one(s) for s in servers)))

        if not servers:
            return []
        limit = DEFAULT_START_TIMEOUT_S + max(s.timeout for s in servers)
        try:
            return self._pool.submit(every(), limit)
        except RuntimeError as exc:
            return [ServerTools(s, error=_where(s, exc)) for s in servers]

    def call(self, server: ServerSpec, tool: str, arguments: dict[str, Any]) -> ToolResult:
        started = time.monotonic()

        async def go() -> ToolResult:
            conn = await self._pool.connection(server)
            result = await conn.run(lambda s: s.call_tool(tool, arguments, read_timeout_seconds=server.timeout),
                                    server.timeout, f"the call to {tool}")
            return _result(result, started)

        try:
            return self._pool.submit(go(), DEFAULT_START_TIMEOUT_S + server.timeout)
        except Exception as exc:  # noqa: BLE001 - a failed call is a result, not a crash
            return ToolResult(error=_where(server, exc), duration_s=round(time.monotonic() - started, 4))

    def close(self) -> None:
        """End this turn's use of the servers: closes them, unless the kernel keeps them connected."""
        if self._pool is not _shared:
            self._pool.close()


async def _list_all(session: Any) -> list[Any]:
    from mcp import types as mcp_types

    tools: list[Any] = []
    cursor = None
    for _ in range(50):  # pages
        page = await session.list_tools(params=mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None)
        tools += list(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def _closed(exc: BaseException) -> bool:
    """Whether an error means the connection is gone (JSON-RPC CONNECTION_CLOSED, or a broken stream)."""
    exc = _leaf(exc)
    error = getattr(exc, "error", None)
    if getattr(error, "code", None) == -32000 and "closed" in str(getattr(error, "message", "")).lower():
        return True
    return type(exc).__name__ in ("ClosedResourceError", "BrokenResourceError", "EndOfStream", "BrokenPipeError")


def _where(spec: ServerSpec, exc: BaseException) -> str:
    what = spec.command if spec.transport == "stdio" else safe_url(spec.url)
    message = str(exc) if isinstance(exc, RuntimeError) else describe(exc)
    return one_line(f"MCP server '{spec.name}' ({what}): {message}", 400)
