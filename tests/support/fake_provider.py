"""An HTTP-level test double of a cloud provider: a small OpenAI-compatible server on 127.0.0.1, scripted to
fail per request (timeout, 429, 500, bad JSON) and recording every request it sees. Its answer (`reply`) and the
usage it reports (`usage`: a function of the request body) are scripted too, and so are the tool calls a "tool"
step makes (`calls`: (name, arguments) replayed in order; without them it calls the first tool offered). It also
answers Ollama's `/api/generate` and `/api/chat` (streamed as Ollama does, one JSON object a line) and `/api/show`,
for `ollama/...` models; `requests` records completions only."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BEHAVIOURS = ("ok", "timeout", "429", "500", "badjson", "tool")


class FakeProvider:
    """`script[model]` is a list of behaviours, one per request to that model; the last one repeats."""

    def __init__(self, script: dict[str, list[str]] | None = None, reply: str = "fake answer", hang_s: float = 3.0,
                 usage: Callable[[dict], tuple[int, int]] | None = None, calls: list[tuple[str, dict]] | None = None):
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.reply = reply
        self.usage = usage or (lambda body: (5, 2))  # (prompt, completion) tokens the provider says it counted
        self.hang_s = hang_s
        self.calls = list(calls or [])  # the tool calls "tool" steps make, in order
        self.requests: list[str] = []  # model names, in arrival order
        self.bodies: list[dict] = []  # the request bodies, in arrival order
        self.lock = threading.Lock()
        self._stop = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                if self.path.rstrip("/").endswith("/models"):
                    body = {"object": "list", "data": [{"id": m, "object": "model"} for m in owner.script]}
                    self._send(200, json.dumps(body).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/").endswith("/api/show"):  # Ollama's model details, asked before a call
                    self._send(200, json.dumps({"details": {}, "model_info": {}, "capabilities": ["completion"]}).encode())
                    return
                model = str(body.get("model"))
                with owner.lock:
                    owner.requests.append(model)
                    owner.bodies.append(body)
                    steps = owner.script.get(model, ["ok"])
                    step = steps.pop(0) if len(steps) > 1 else steps[0]
                if step == "timeout":
                    owner._stop.wait(owner.hang_s)
                    step = "500"
                if step == "429":
                    self._send(429, b'{"error": {"message": "rate limited", "type": "rate_limit_error"}}')
                elif step == "500":
                    self._send(500, b'{"error": {"message": "internal error", "type": "server_error"}}')
                elif step == "badjson" and body.get("stream"):
                    self._raw(200, "text/event-stream", b'data: {"id": "x", "choices": [ {"not json\n\n')
                elif step == "badjson":
                    self._send(200, b'{"id": "x", "choices": [ {"not json')
                elif step == "tool":  # calls the first tool offered, with {"city": "Paris"}
                    self._tool_call(model, body)
                elif self.path.rstrip("/").endswith(("/api/generate", "/api/chat")):
                    self._ollama(model, body, chat=self.path.rstrip("/").endswith("/api/chat"))
                elif body.get("stream"):
                    self._stream(model, body)
                else:
                    self._send(200, json.dumps(owner.completion(model, body)).encode())

            def _send(self, code: int, data: bytes) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    if code == 429:
                        self.send_header("Retry-After", "0")
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            def _raw(self, code: int, kind: str, data: bytes) -> None:
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", kind)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data)
                    self.wfile.flush()
                    self.close_connection = True
                except OSError:
                    pass

            def _tool_call(self, model: str, body: dict) -> None:
                with owner.lock:
                    scripted = owner.calls.pop(0) if owner.calls else None
                name, arguments = scripted or (body["tools"][0]["function"]["name"], {"city": "Paris"})
                call = {"id": f"call_{len(owner.bodies)}", "type": "function",
                        "function": {"name": name, "arguments": json.dumps(arguments)}}
                base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": model}
                usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
                if not body.get("stream"):
                    message = {"role": "assistant", "content": None, "tool_calls": [call]}
                    reply = base | {"object": "chat.completion", "usage": usage,
                                    "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
                    self._send(200, json.dumps(reply).encode())
                    return
                base["object"] = "chat.completion.chunk"
                pieces = [{"tool_calls": [{"index": 0} | call]}, {}]
                events = [base | {"choices": [{"index": 0, "delta": d, "finish_reason": "tool_calls" if not d else None}]}
                          for d in pieces] + [base | {"choices": [], "usage": usage}]
                data = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
                self._raw(200, "text/event-stream", data.encode())

            def _ollama(self, model: str, body: dict, chat: bool) -> None:
                def piece(text: str, done: bool) -> dict:
                    out = {"model": model, "created_at": "2025-01-01T00:00:00Z", "done": done}
                    out |= {"message": {"role": "assistant", "content": text}} if chat else {"response": text}
                    return out | ({"done_reason": "stop", "prompt_eval_count": 5, "eval_count": 2} if done else {})

                if not body.get("stream", True):
                    self._send(200, json.dumps(piece(owner.reply, True)).encode())
                    return
                words = [piece(w + " ", False) for w in owner.reply.split(" ")] + [piece("", True)]
                self._raw(200, "application/x-ndjson", "".join(json.dumps(w) + "\n" for w in words).encode())

            def _stream(self, model: str, body: dict) -> None:
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
                            "model": model}
                    for word in owner.reply.split(" "):
                        chunk = base | {"choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    done = base | {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                    self.wfile.write(f"data: {json.dumps(done)}\n\n".encode())
                    usage = base | {"choices": [], "usage": owner.usage_of(body)}
                    self.wfile.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
                    self.wfile.flush()
                    self.close_connection = True
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def usage_of(self, body: dict) -> dict:
        prompt, completion = self.usage(body)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def completion(self, model: str, body: dict | None = None) -> dict:
        return {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply}, "finish_reason": "stop"}],
            "usage": self.usage_of(body or {}),
        }

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens: connection refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"
