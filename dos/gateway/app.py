"""The HTTP side of `dos serve` (Starlette): OpenAI's `/v1/chat/completions` and `/v1/models`, and `/healthz`.

The event loop only reads requests and writes responses. Everything that touches DOS (the token lookup, the turn,
the memory log, the ledger) runs in a pool of worker threads, each with its own `Dos` (SQLite connections are
per thread), rebuilt when a configuration file changes. A streamed answer's pieces cross from the worker to the
response through a queue; an error before the first piece gets its own status code, one after it is sent in the
stream (the OpenAI SDK raises it); a client that goes away stops its turn at the next piece, the partial answer
kept in memory as an interrupted turn.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from dos import __version__
from dos.core.errors import (
    BudgetCut,
    BudgetExceeded,
    DosError,
    HookBlocked,
    InvalidConfig,
    InvalidSkill,
    ModelError,
    NoRoute,
    TokenRefused,
    UnknownModel,
)
from dos.core.ids import new_id
from dos.gateway.openai_format import BadRequest, ChunkShaper, completion, error_body, parse_chat, wants_usage

MAX_BODY = 4 * 1024 * 1024  # bytes of a request body; a longer one is refused (413)
MAX_JSON_DEPTH = 64  # arrays and objects nested in a request body; deeper is refused (400)
CONFIG_FILES = ("config.yaml", "models.yaml", "hooks.yaml", "mcp.yaml", "packs.json")


class Problem(Exception):
    """An HTTP error in OpenAI's format."""

    def __init__(self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None):
        super().__init__(message)
        self.status, self.body = status, error_body(message, kind, code, param)


def problem(exc: BaseException) -> Problem:
    """The HTTP status and OpenAI error body for a failure."""
    if isinstance(exc, Problem):
        return exc
    message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    if isinstance(exc, TokenRefused):
        if exc.forbidden:
            return Problem(403, message, "permission_error", "model_not_allowed")
        return Problem(401, message, "authentication_error", "invalid_api_key")
    if isinstance(exc, BadRequest):
        return Problem(400, message, param=exc.param)
    if isinstance(exc, UnknownModel):
        return Problem(404, message, code="model_not_found", param="model")
    if isinstance(exc, BudgetCut):
        return Problem(402, message, "insufficient_quota", "budget_cut")
    if isinstance(exc, BudgetExceeded):
        return Problem(402, message, "insufficient_quota", "budget_exceeded")
    if isinstance(exc, NoRoute):
        return Problem(403, message, "permission_error", "no_route", "model")
    if isinstance(exc, HookBlocked):
        return Problem(403, message, "permission_error", "hook_blocked")
    if isinstance(exc, ModelError):
        return Problem(502, message, "api_error", "upstream_failed")
    if isinstance(exc, (InvalidSkill, InvalidConfig)):
        return Problem(500, f"the server's configuration: {message}", "server_error", "invalid_config")
    if isinstance(exc, DosError):
        return Problem(400, message)
    if isinstance(exc, KeyboardInterrupt):
        return Problem(499, "the request was cancelled", "server_error", "cancelled")
    return Problem(500, f"internal error: {message}", "server_error", "internal_error")


def respond(exc: BaseException) -> JSONResponse:
    p = problem(exc)
    if p.status == 500 and not isinstance(exc, (Problem, DosError)):
        note(f"internal error: {type(exc).__name__}: {exc}")
    # the router already retried and fell back: an SDK retrying on its own would only multiply the cost
    headers = {"x-should-retry": "false"} if p.status >= 500 else {}
    return JSONResponse(p.body, status_code=p.status, headers=headers)


def note(message: str) -> None:
    sys.stderr.write(f"dos serve: {message}\n")
    sys.stderr.flush()


class Workers:
    """A pool of threads for DOS work; each thread keeps its own gateway (dos.core.serve.gateway.Gateway)."""

    def __init__(self, make: Callable[[], Any], config_dir: Path, size: int):
        self.make, self.config_dir = make, config_dir
        self.pool = ThreadPoolExecutor(size, thread_name_prefix="dos-serve")
        self.local = threading.local()

    def gateway(self) -> Any:
        """This thread's gateway, rebuilt when a configuration file changed since it was built."""
        stamp = tuple(_mtime(self.config_dir / name) for name in CONFIG_FILES)
        if getattr(self.local, "stamp", None) != stamp:
            self.local.gateway, self.local.stamp = self.make(), stamp
        return self.local.gateway

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _mtime(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def bearer(request: Request) -> str | None:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    return secret.strip() or None if scheme.lower() == "bearer" else None


async def read_json(request: Request, limit: int) -> Any:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise Problem(415, f"the body must be JSON (Content-Type: application/json), not {kind or 'none'}",
                      code="unsupported_media_type")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"the body is {int(declared)} bytes; this server takes at most {limit}",
                      code="request_too_large")
    data = bytearray()
    async for piece in request.stream():
        data += piece
        if len(data) > limit:
            raise Problem(413, f"the body is over {limit} bytes, the most this server takes", code="request_too_large")
    too_deep = Problem(400, f"the body's JSON is nested more than {MAX_JSON_DEPTH} levels deep",
                       code="json_too_deep")
    try:
        body = json.loads(data)
    except RecursionError:  # deeper than the parser itself goes
        raise too_deep from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, f"the body is not valid JSON: {exc}", code="invalid_json") from None
    if nested_deeper(body, MAX_JSON_DEPTH):
        raise too_deep
    return body


def nested_deeper(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels in `value` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def create_app(workers: Workers, max_body: int = MAX_BODY) -> Starlette:
    async def authenticate(request: Request) -> Any:
        token = await workers.call(lambda: workers.gateway().authenticate(bearer(request)))
        request.state.token = token.name
        return token

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__})

    async def models(request: Request) -> Response:
        try:
            token = await authenticate(request)
            listed = await workers.call(lambda: workers.gateway().models(token))
        except Exception as exc:
            return respond(exc)
        wanted = request.path_params.get("model")
        data = [{"id": m["id"], "object": "model", "created": 0, "owned_by": m["owned_by"]} for m in listed]
        if wanted is None:
            return JSONResponse({"object": "list", "data": data})
        found = next((m for m in data if m["id"] == wanted), None)
        return JSONResponse(found) if found else respond(UnknownModel(f"unknown model '{wanted}'"))

    async def chat(request: Request) -> Response:
        try:
            token = await authenticate(request)  # before a byte of the body is read: no token, no parsing
            body = await read_json(request, max_body)
            call = parse_chat(body, new_id(), request.headers.get("x-dos-session") or None)
        except Exception as exc:
            return respond(exc)
        if body.get("stream") is not True:
            try:
                result = await workers.call(lambda: workers.gateway().run(token, call))
            except Exception as exc:
                return respond(exc)
            return JSONResponse(completion(result))
        return await stream(token, call, wants_usage(body))

    async def stream(token: Any, call: Any, usage: bool) -> Response:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        gone = threading.Event()

        def put(item: tuple[str, Any]) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def on_text(piece: str) -> None:
            if gone.is_set():
                raise KeyboardInterrupt  # the client went away: the turn ends, its partial answer on record
            put(("text", piece))

        def work() -> None:
            try:
                put(("done", workers.gateway().run(token, call, on_text)))
            except BaseException as exc:  # noqa: BLE001 - handed to the response
                put(("error", exc))

        loop.run_in_executor(workers.pool, work)
        first = await queue.get()
        if first[0] == "error":
            return respond(first[1])

        async def body() -> Any:
            shaper, item = ChunkShaper(call.turn_id, call.model), first
            try:
                while True:
                    out, items = b"", [item]
                    while not queue.empty():  # pieces that arrived meanwhile go out in one write
                        items.append(queue.get_nowait())
                    for kind, value in items:
                        if kind == "text":
                            out += shaper.text(value)
                        elif kind == "done":
                            yield out + shaper.end(value, usage)
                            return
                        else:
                            yield out + shaper.error(problem(value).body)
                            return
                    yield out
                    item = await queue.get()
            finally:
                gone.set()

        return StreamingResponse(body(), media_type="text/event-stream", headers={"cache-control": "no-cache"})

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        message = f"no route {request.method} {request.url.path}" if status in (404, 405) else str(exc)
        return JSONResponse(error_body(message, "invalid_request_error", "not_found" if status == 404 else None),
                            status_code=status)

    app = Starlette(routes=[
        Route("/healthz", healthz, methods=["GET"]),
        Route("/v1/models", models, methods=["GET"]),
        Route("/v1/models/{model:path}", models, methods=["GET"]),
        Route("/v1/chat/completions", chat, methods=["POST"]),
    ], exception_handlers={HTTPException: not_found})
    return AccessLog(app)


class AccessLog:
    """One line on stderr per request: status, method, path, token name, seconds (never the token)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.monotonic(), [0]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            token = (scope.get("state") or {}).get("token", "-")
            note(f"{status[0] or '-'} {scope['method']} {scope['path']} token={token} "
                 f"{time.monotonic() - started:.3f}s")
