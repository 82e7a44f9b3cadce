"""The embedded model: SmolLM2-135M-Instruct run in-process by llama-cpp-python, served to LiteLLM as the
custom provider `local` (model `local/smollm2`). Imported only when a model is called."""

from __future__ import annotations

import asyncio
import atexit
import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dos.adapters.models.litellm_import  # noqa: F401  (sets LiteLLM up before its first import)
from dos.adapters.models import embedded
from dos.adapters.models.embedded import EMBEDDED
from dos.adapters.models.embedded_health import running
from litellm import CustomLLM, ModelResponse
from litellm.llms.custom_llm import CustomLLMError
from litellm.types.utils import GenericStreamingChunk

PROVIDER = "local"
CONTEXT_TOKENS = 4096
DEFAULT_MAX_TOKENS = 512


def model_file(name: str) -> Path:
    """The GGUF file of an embedded model; a 404 for LiteLLM when it is unknown or not installed."""
    if name not in EMBEDDED:
        raise CustomLLMError(404, f"no embedded model named '{name}' (known: {', '.join(EMBEDDED)})")
    path = embedded.model_file(name)
    if path is None:
        raise CustomLLMError(404, f"the embedded model file {EMBEDDED[name][1]} is missing: {embedded.install_hint(name)}")
    return path


def cost_entries() -> dict[str, dict[str, Any]]:
    """LiteLLM cost-map entries for the embedded models: zero per token, chat, their context window."""
    return {
        f"{PROVIDER}/{name}": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0,
                               "cache_creation_input_token_cost": 0.0, "cache_read_input_token_cost": 0.0,
                               "litellm_provider": PROVIDER, "mode": "chat", "max_input_tokens": CONTEXT_TOKENS,
                               "max_tokens": CONTEXT_TOKENS}
        for name in EMBEDDED
    }


@dataclass
class _Loaded:
    llama: Any
    formatter: Any
    lock: threading.Lock


_models: dict[str, _Loaded] = {}
_models_lock = threading.Lock()


@atexit.register
def _close_all() -> None:
    """Free the models while llama.cpp is still intact: left to interpreter teardown, its destructor fails
    noisily on stderr."""
    for loaded in _models.values():
        loaded.llama.close()
    _models.clear()


def load(name: str) -> _Loaded:
    """Load an embedded model once per process; later calls return the same instance."""
    with _models_lock:
        if name not in _models:
            path = model_file(name)
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            # llama.cpp's default thread count (half the cores): all cores collapses under any other load,
            # from 61 to 5 tokens/s on 2 cores in docs/benchmarks.md.
            with running(name):  # a crash in here is put down to this model (dos.adapters.models.embedded_health)
                llama = Llama(model_path=str(path), n_ctx=CONTEXT_TOKENS, verbose=False)
            eos = llama.token_eos()
            formatter = Jinja2ChatFormatter(
                template=llama.metadata["tokenizer.chat_template"],
                eos_token=llama._model.token_get_text(eos),
                bos_token=llama._model.token_get_text(llama.token_bos()),
                stop_token_ids=[eos],
            )
            _models[name] = _Loaded(llama, formatter, threading.Lock())
        return _models[name]


def _plain_messages(messages: list[dict]) -> list[dict]:
    """Tool calls and results as plain turns: the GGUF's own chat template knows only system/user/assistant."""
    out = []
    for m in messages:
        content = m.get("content") or ""
        if m.get("role") == "tool":
            out.append({"role": "user", "content": f"Result of {m.get('name') or 'the tool'}:\n{content}"})
        elif m.get("role") == "assistant" and m.get("tool_calls"):
            calls = "; ".join(f"{c['function']['name']}({c['function'].get('arguments') or ''})" for c in m["tool_calls"])
            out.append({"role": "assistant", "content": f"{content}\nCalled: {calls}".strip()})
        else:
            out.append({"role": m.get("role", "user"), "content": content if isinstance(content, str) else str(content)})
    return out


def generate_with_tools(name: str, messages: list[dict], params: dict[str, Any]) -> Iterator[GenericStreamingChunk]:
    """A chat completion that may call tools: llama-cpp-python's `chatml-function-calling` format, whose grammar
    makes a call well-formed JSON for the named function's schema (SmolLM2 speaks ChatML). Not streamed: the
    text, then each tool call, then a final chunk with usage."""
    from llama_cpp.llama_chat_format import chatml_function_calling

    model = load(name)
    requested = params.get("max_tokens") or params.get("max_completion_tokens") or DEFAULT_MAX_TOKENS
    with model.lock, running(name):
        response = chatml_function_calling(
            llama=model.llama, messages=_plain_messages(messages), tools=params["tools"],
            tool_choice=params.get("tool_choice"), temperature=float(params.get("temperature", 0.2) or 0.0),
            max_tokens=int(requested), stream=False)
    message = response["choices"][0]["message"]
    calls = message.get("tool_calls") or []
    if message.get("content"):
        yield GenericStreamingChunk(text=message["content"], is_finished=False, finish_reason="", usage=None, index=0,
                                    tool_use=None)
    for i, call in enumerate(calls):
        yield GenericStreamingChunk(text="", is_finished=False, finish_reason="", usage=None, index=0, tool_use={
            "id": call.get("id") or f"call_{i}", "type": "function", "index": i,
            "function": {"name": call["function"]["name"], "arguments": call["function"].get("arguments") or "{}"}})
    usage = response.get("usage") or {}
    usage = {"prompt_tokens": int(usage.get("prompt_tokens") or 0), "completion_tokens":
             int(usage.get("completion_tokens") or 0), "total_tokens": int(usage.get("total_tokens") or 0)}
    yield GenericStreamingChunk(text="", is_finished=True, finish_reason="tool_calls" if calls else "stop",
                                usage=usage, index=0, tool_use=None)


def generate(name: str, messages: list[dict], params: dict[str, Any]) -> Iterator[GenericStreamingChunk]:
    """Stream a chat completion, one chunk per piece of text, then a final chunk with exact usage."""
    if params.get("tools"):
        yield from generate_with_tools(name, messages, params)
        return
    messages = _plain_messages(messages)
    model = load(name)
    formatted = model.formatter(messages=messages)
    with model.lock, running(name):  # one generation at a time per loaded model
        tokens = model.llama.tokenize(formatted.prompt.encode(), add_bos=not formatted.added_special, special=True)
        if len(tokens) >= CONTEXT_TOKENS:
            raise CustomLLMError(400, f"the prompt is {len(tokens)} tokens; {PROVIDER}/{name} holds {CONTEXT_TOKENS}")
        generated = 0
        stop = threading.Event()  # set when the caller stops reading: the decode ends at its next token

        def count(_ids: Any, _logits: Any) -> bool:
            nonlocal generated
            generated += 1
            return stop.is_set()

        from llama_cpp import StoppingCriteriaList

        criteria = StoppingCriteriaList([count, *(formatted.stopping_criteria or [])])
        requested = params.get("max_tokens") or params.get("max_completion_tokens") or DEFAULT_MAX_TOKENS
        max_tokens = min(int(requested), CONTEXT_TOKENS - len(tokens))
        pieces: queue.SimpleQueue[Any] = queue.SimpleQueue()

        def decode() -> None:
            """On a thread of its own, so the next token is computed while LiteLLM handles this one."""
            try:
                for piece in model.llama.create_completion(
                    prompt=tokens,
                    max_tokens=max_tokens,
                    temperature=float(params.get("temperature", 0.2) or 0.0),
                    top_p=float(params.get("top_p", 0.95)),
                    stop=_stops(formatted.stop, params.get("stop")),
                    stopping_criteria=criteria,
                    seed=params.get("seed"),
                    stream=True,
                ):
                    pieces.put(piece["choices"][0])
            except BaseException as exc:  # noqa: BLE001 - raised again on the caller's side
                pieces.put(exc)
            pieces.put(_DONE)

        worker = threading.Thread(target=decode, name="dos-decode", daemon=True)
        worker.start()
        finish, done = "stop", False
        try:
            while not done:
                text = ""
                for item in _ready(pieces):  # every piece decoded meanwhile goes out in one chunk
                    if item is _DONE:
                        done = True
                    elif isinstance(item, BaseException):
                        raise item
                    else:
                        finish = item.get("finish_reason") or finish
                        text += item.get("text") or ""
                if text:
                    yield GenericStreamingChunk(
                        text=text, is_finished=False, finish_reason="", usage=None, index=0, tool_use=None
                    )
        finally:
            stop.set()
            worker.join()  # the model is free again only once its decode has ended
    generated = min(generated, max_tokens)  # llama.cpp samples one token past the limit, then drops it
    usage = {"prompt_tokens": len(tokens), "completion_tokens": generated, "total_tokens": len(tokens) + generated}
    yield GenericStreamingChunk(text="", is_finished=True, finish_reason=finish, usage=usage, index=0, tool_use=None)


_DONE = object()


def _ready(pieces: queue.SimpleQueue[Any]) -> list[Any]:
    """The next piece (waiting in short steps, so Ctrl-C reaches a waiting caller), then every piece queued."""
    while True:
        try:
            out = [pieces.get(timeout=0.05)]
            break
        except queue.Empty:
            continue
    while True:
        try:
            out.append(pieces.get_nowait())
        except queue.Empty:
            return out


def _stops(template: Any, requested: Any) -> list[str]:
    """The chat template's stop strings plus the caller's (`stop`: a string or a list of them)."""
    own = [template] if isinstance(template, str) else list(template or [])
    asked = [requested] if isinstance(requested, str) else list(requested or [])
    return own + [s for s in asked if isinstance(s, str) and s]


def _name(model: str) -> str:
    return model.split("/", 1)[1] if model.startswith(PROVIDER + "/") else model


class LocalProvider(CustomLLM):
    """LiteLLM's view of the embedded models: sync, async and streaming; cost is zero."""

    def streaming(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Iterator[GenericStreamingChunk]:
        return generate(_name(model), messages, kwargs.get("optional_params") or {})

    def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:
        started = time.time()
        parts, last = [], None
        for chunk in generate(_name(model), messages, kwargs.get("optional_params") or {}):
            parts.append(chunk["text"])
            last = chunk
        assert last is not None
        return ModelResponse(
            model=f"{PROVIDER}/{_name(model)}",
            created=int(started),
            choices=[
                {
                    "index": 0,
                    "finish_reason": last["finish_reason"],
                    "message": {"role": "assistant", "content": "".join(parts)},
                }
            ],
            usage=last["usage"],
        )

    async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> ModelResponse:
        return await asyncio.to_thread(self.completion, model, messages, *args, **kwargs)

    async def astreaming(
        self, model: str, messages: list, *args: Any, **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        chunks = self.streaming(model, messages, *args, **kwargs)
        done = object()
        while (chunk := await asyncio.to_thread(next, chunks, done)) is not done:
            yield chunk  # type: ignore[misc]


provider = LocalProvider()
