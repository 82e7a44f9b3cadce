"""The OpenAI chat-completions wire format: a request body checked into a ChatCall, and a turn's result shaped
into a completion, stream chunks and errors. No HTTP here, no model call."""

from __future__ import annotations

import json
import time
from typing import Any

from dos.core.domain import MODEL_OPTIONS, TurnResult
from dos.core.errors import UsageError
from dos.core.serve.gateway import ChatCall

ROLES = ("system", "developer", "user", "assistant", "tool", "function")


class BadRequest(UsageError):
    """A request body that is not a valid chat completion (HTTP 400); `param` names the field at fault."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


def text_of(content: Any) -> str:
    """A message's text: a string as is, the text parts of a list of content parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def parse_chat(body: Any, turn_id: str, session_id: str | None = None) -> ChatCall:
    """A chat completion request as a ChatCall; BadRequest (message and param) if it cannot be one."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("'model' is required: a catalog model or skill:NAME (see GET /v1/models)", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list of messages", "messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise BadRequest(f"messages[{i}] must be an object whose role is one of {', '.join(ROLES)}",
                             f"messages[{i}]")
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise BadRequest(f"messages[{i}].content must be a string or a list of content parts",
                             f"messages[{i}].content")
    users = [text_of(m.get("content")) for m in messages if m["role"] == "user"]
    text = users[-1] if users else text_of(messages[-1].get("content"))
    if not text.strip() and not any(m["role"] == "tool" for m in messages):
        raise BadRequest("the messages hold no text to answer", "messages")
    if body.get("n") not in (None, 1):
        raise BadRequest("only n=1 is supported", "n")
    return ChatCall(model=model, conversation=tuple(messages), text=text,
                    max_tokens=_whole(body, "max_completion_tokens") or _whole(body, "max_tokens"),
                    temperature=_number(body, "temperature", 0, 2),
                    options={k: body[k] for k in MODEL_OPTIONS if body.get(k) is not None},
                    session_id=session_id, turn_id=turn_id)


def _whole(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest(f"'{key}' must be a whole number of at least 1", key)
    return value


def _number(body: dict[str, Any], key: str, low: float, high: float) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise BadRequest(f"'{key}' must be a number from {low:g} to {high:g}", key)
    return float(value)


def wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


# -- responses ----------------------------------------------------------------------------------------------


def completion_id(turn_id: str) -> str:
    return f"chatcmpl-{turn_id}"


def _calls(result: TurnResult) -> list[dict[str, Any]]:
    return [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in result.tool_calls]


def _usage(result: TurnResult) -> dict[str, int]:
    u = result.usage
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens, "total_tokens": u.total_tokens}


def _finish(result: TurnResult) -> str:
    return "tool_calls" if result.tool_calls else (result.finish_reason or "stop")


def completion(result: TurnResult, created: int | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": result.text or (None if result.tool_calls else "")}
    if result.tool_calls:
        message["tool_calls"] = _calls(result)
    return {"id": completion_id(result.turn_id), "object": "chat.completion", "created": created or int(time.time()),
            "model": result.model, "choices": [{"index": 0, "message": message, "finish_reason": _finish(result),
                                                "logprobs": None}],
            "usage": _usage(result)}


class ChunkShaper:
    """The `chat.completion.chunk`s of one streamed answer, as SSE `data:` lines."""

    def __init__(self, turn_id: str, model: str):
        self.base = {"id": completion_id(turn_id), "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": model}
        self.started = False

    def _line(self, payload: dict[str, Any]) -> bytes:
        return f"data: {json.dumps(self.base | payload, ensure_ascii=False)}\n\n".encode()

    def text(self, piece: str) -> bytes:
        delta: dict[str, Any] = {"content": piece}
        if not self.started:
            delta, self.started = {"role": "assistant", "content": piece}, True
        return self._line({"choices": [{"index": 0, "delta": delta, "finish_reason": None}]})

    def end(self, result: TurnResult, usage: bool) -> bytes:
        self.base["model"] = result.model
        out = b"" if self.started else self.text("")
        if result.tool_calls:
            calls = [{"index": i} | call for i, call in enumerate(_calls(result))]
            out += self._line({"choices": [{"index": 0, "delta": {"tool_calls": calls}, "finish_reason": None}]})
        out += self._line({"choices": [{"index": 0, "delta": {}, "finish_reason": _finish(result)}]})
        if usage:
            out += self._line({"choices": [], "usage": _usage(result)})
        return out + b"data: [DONE]\n\n"

    def error(self, body: dict[str, Any]) -> bytes:
        """A failure after the answer began: the status line is sent, so the error goes in the stream."""
        return f"data: {json.dumps(body)}\n\n".encode() + b"data: [DONE]\n\n"


def error_body(message: str, kind: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
