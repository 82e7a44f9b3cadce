"""The route executed by LiteLLM's Router: retries, timeouts, cooldowns and fallbacks are LiteLLM's, not ours.

The Router is built from the decision's chain and nothing else (one deployment per kept model, fallbacks in the
chain's order), so no failure can send a call to a model the hard constraints removed. Each deployment's base URL
is resolved when the route is bound (dos.adapters.models.catalog.deployment), checked (a `local` model's requests go
in-process or to loopback only; none goes to another host than the one its route was decided for) and handed to
LiteLLM as checked: a route with any deployment that fails the check is refused (NoRoute) before a first call, so
not even a fallback leaves the machine. Every attempt LiteLLM makes is seen by a callback (keyed by a per-call
token in the request metadata) and reported in the `route` event. LiteLLM is imported only when `stream` runs.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from dos.adapters.files.paths import resolve_paths
from dos.adapters.models.catalog import deployment
from dos.adapters.models.embedded_health import crash_line, crash_of
from dos.adapters.models.litellm_setup import cost as litellm_cost, litellm_module, one_line
from dos.core.domain import MODEL_OPTIONS, Chunk, Usage
from dos.core.errors import ModelCrashed, ModelError, NoRoute
from dos.core.ids import new_id
from dos.core.routing.policy import IN_PROCESS, ModelEntry, RouteDecision

_recorders: dict[str, _Attempts] = {}
_recorders_lock = threading.Lock()
_callback_installed = False


class _Attempts:
    """The attempts of one routed call, in the order LiteLLM made them."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def start(self, name: str) -> None:
        with self.lock:
            self.items.append({"model": name, "ok": None, "error": None, "status": None, "_t": time.monotonic()})

    def fail(self, name: str, exc: BaseException | None) -> None:
        with self.lock:
            item = next((a for a in reversed(self.items) if a["model"] == name and a["ok"] is None), None)
            if item is None:  # a provider that logs no pre-call (the embedded one)
                item = {"model": name, "ok": None, "error": None, "status": None, "_t": time.monotonic()}
                self.items.append(item)
            item["ok"] = False
            item["error"] = one_line(exc) if exc is not None else "failed"
            item["status"] = getattr(exc, "status_code", None)
            item["latency_s"] = round(time.monotonic() - item.pop("_t"), 4)

    def served(self, name: str) -> None:
        with self.lock:
            item = next((a for a in reversed(self.items) if a["model"] == name and a["ok"] is None), None)
            if item is None:
                item = {"model": name, "ok": None, "error": None, "status": None, "_t": time.monotonic()}
                self.items.append(item)
            item["ok"] = True
            item["latency_s"] = round(time.monotonic() - item.pop("_t"), 4)

    def report(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{k: v for k, v in a.items() if k != "_t"} for a in self.items]


def _token_and_group(kwargs: dict[str, Any]) -> tuple[str | None, str | None]:
    params = kwargs.get("litellm_params") or {}
    metadata = params.get("metadata") or kwargs.get("metadata") or {}
    info = params.get("model_info") or {}
    return metadata.get("dos_route"), info.get("id") or metadata.get("model_group")


def _install_callback(litellm: Any) -> None:
    global _callback_installed
    if _callback_installed:
        return
    from litellm.integrations.custom_logger import CustomLogger

    class AttemptLogger(CustomLogger):
        def log_pre_api_call(self, model: Any, messages: Any, kwargs: dict[str, Any]) -> None:
            token, name = _token_and_group(kwargs)
            recorder = _recorders.get(token or "")
            if recorder and name:
                recorder.start(name)

        def log_failure_event(self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any) -> None:
            token, name = _token_and_group(kwargs)
            recorder = _recorders.get(token or "")
            if recorder and name:
                recorder.fail(name, kwargs.get("exception"))

    litellm.callbacks = [*(litellm.callbacks or []), AttemptLogger()]
    _callback_installed = True


def model_list(chain: tuple[ModelEntry, ...] | list[ModelEntry], environ: Any = None) -> list[dict[str, Any]]:
    """LiteLLM deployments for the chain: one per model, its catalog name as group and as id, its base URL
    resolved and checked; NoRoute (naming the host) if any would send where its route does not allow."""
    out = []
    for entry in chain:
        item, refusal = deployment(entry, os.environ if environ is None else environ)
        if refusal:
            raise NoRoute(refusal)
        out.append(item)
    return out


def build_router(chain: tuple[ModelEntry, ...] | list[ModelEntry], settings: dict[str, Any],
                 deployments: list[dict[str, Any]] | None = None) -> Any:
    litellm = litellm_module()
    _install_callback(litellm)
    names = [e.name for e in chain]
    return litellm.Router(
        model_list=model_list(chain) if deployments is None else deployments,
        fallbacks=[{names[0]: names[1:]}] if len(names) > 1 else [],
        max_fallbacks=max(len(names), 1),
        num_retries=int(settings.get("num_retries", 1)),
        timeout=float(settings.get("timeout", 60)),
        stream_timeout=float(settings.get("timeout", 60)),
        allowed_fails=int(settings.get("allowed_fails", 1)),
        cooldown_time=float(settings.get("cooldown_time", 30)),
    )


def _price_cost(entry: ModelEntry | None, usage: Usage) -> float | None:
    if entry is None or (entry.input_price is None and entry.output_price is None):
        return None
    return ((entry.input_price or 0.0) * usage.prompt_tokens + (entry.output_price or 0.0) * usage.completion_tokens) / 1e6


class RoutedStream:
    """One routed call: a ModelStream whose `model` argument is the chain's head, plus the attempts report."""

    def __init__(self, decision: RouteDecision, settings: dict[str, Any], environ: Any = None):
        self.decision = decision
        self.settings = settings
        self.deployments = model_list(decision.chain, environ)  # NoRoute here: before anything is written or sent
        self.attempts = _Attempts()
        self.served_by: str | None = None
        self.cost_source = "none"

    def stream(
        self, model: str, messages: list[dict[str, str]], *, max_tokens: int | None, temperature: float | None,
        **options: Any,
    ) -> Iterator[Chunk]:
        chain = self.decision.chain
        if not chain or model != chain[0].name:
            raise ModelError(f"{model}: not the head of the route ({', '.join(self.decision.names) or 'empty'})")
        chain = self._runnable(chain)
        litellm = litellm_module()
        if getattr(litellm, "api_base", None) and any(e.host != IN_PROCESS and e.sovereignty == "local" for e in chain):
            raise NoRoute(f"litellm.api_base is set ({litellm.api_base}): it would override where local models send")
        kept = {e.name for e in chain}
        router = build_router(chain, self.settings, [d for d in self.deployments if d["model_name"] in kept])
        token = new_id()
        params: dict[str, Any] = {"stream": True, "stream_options": {"include_usage": True},
                                  "metadata": {"dos_route": token}}
        if max_tokens is not None:
            params["max_tokens"] = max_tokens
        if temperature is not None:
            params["temperature"] = temperature
        params |= {k: v for k, v in options.items() if k in MODEL_OPTIONS and v not in (None, [])}
        calls: dict[int, dict[str, str]] = {}  # tool calls, assembled from their streamed pieces
        with _recorders_lock:
            _recorders[token] = self.attempts
        usage, finish, served = Usage(), "stop", None
        try:
            for part in router.completion(model=chain[0].name, messages=messages, **params):
                if served is None:
                    hidden = getattr(part, "_hidden_params", None) or {}
                    served = str(hidden.get("model_id") or chain[0].name)
                    if served not in self.decision.names:  # cannot happen: the Router holds only the chain
                        raise ModelError(f"{served}: answered outside the route")
                    self.served_by = served
                    self.attempts.served(served)
                if part.choices:
                    choice = part.choices[0]
                    finish = choice.finish_reason or finish
                    if choice.delta and choice.delta.content:
                        yield Chunk(text=choice.delta.content, model=served)
                    for call in (getattr(choice.delta, "tool_calls", None) or []) if choice.delta else []:
                        _add_call_piece(calls, call)
                reported = getattr(part, "usage", None)
                counted = Usage(reported.prompt_tokens or 0, reported.completion_tokens or 0) if reported else usage
                if counted != usage and (counted.prompt_tokens or counted.completion_tokens):
                    usage = counted  # the provider's own count, passed on as it comes: the ledger cuts on it
                    yield Chunk(usage=usage, model=served)
        except ModelError:
            raise
        except Exception as exc:  # LiteLLM maps every provider failure onto its own exception types
            if not any(a["ok"] is False for a in self.attempts.report()):  # a failure no callback saw
                self.attempts.fail(served or chain[0].name, exc)
            raise ModelError(self._failure(exc)) from exc
        finally:
            with _recorders_lock:
                _recorders.pop(token, None)
            retire = getattr(router, "retire", None)
            if retire is not None:  # release the Router's global callback registrations
                retire()
        served = served or chain[0].name
        if calls:
            yield Chunk(tool_calls=_tool_calls(calls), model=served)
        entry = next((e for e in chain if e.name == served), None)
        cost = _price_cost(entry, usage) if entry is not None and entry.sovereignty != "local" else None
        self.cost_source = "catalog" if cost is not None else "none"
        if entry is not None and cost is None and entry.sovereignty != "local":
            cost = litellm_cost(litellm, str(entry.params.get("model", served)), usage)
            self.cost_source = "litellm" if cost else "unknown"
        if entry is not None and entry.sovereignty == "local" and cost is None:
            cost, self.cost_source = 0.0, "free"
        yield Chunk(finish_reason=finish, usage=usage, cost=cost or 0.0, model=served)

    def _runnable(self, chain: tuple[ModelEntry, ...]) -> tuple[ModelEntry, ...]:
        """The chain less any embedded model on record as having crashed its process on this llama.cpp build: it
        is never tried again into the same crash. Each one skipped is a failed attempt in the route's report;
        with nothing left, ModelCrashed (exit 17), after the prompt is on record."""
        state = resolve_paths().state
        kept = []
        for entry in chain:
            record = crash_of(state, str(entry.params.get("model", "")).split("/", 1)[-1]) \
                if entry.source == "embedded" else None
            if record is None:
                kept.append(entry)
            else:
                self.attempts.fail(entry.name, ModelCrashed(crash_line(record)))
                last = record
        if not kept:
            raise ModelCrashed(crash_line(last))
        return tuple(kept)

    def _failure(self, exc: BaseException) -> str:
        tried = self.attempts.report()
        failed = [a for a in tried if a["ok"] is False]
        if len(self.decision.chain) == 1 or not failed:
            return f"{self.decision.chain[0].name}: {one_line(exc)}"
        last: dict[str, str] = {}
        tries: dict[str, int] = {}
        for a in failed:  # retries repeat a model: name each once, with its last error and how many attempts
            last[a["model"]], tries[a["model"]] = a["error"], tries.get(a["model"], 0) + 1
        shown = "; ".join(f"{m}: {e}" + (f" ({tries[m]} attempts)" if tries[m] > 1 else "") for m, e in last.items())
        return f"all {len(self.decision.chain)} models of the route failed ({shown})"

    def report(self) -> dict[str, Any]:
        return {"attempts": self.attempts.report(), "served_by": self.served_by, "cost_source": self.cost_source}


def _add_call_piece(calls: dict[int, dict[str, str]], piece: Any) -> None:
    """One streamed piece of a tool call (OpenAI delta shape: index, id, function.name, function.arguments)."""
    index = getattr(piece, "index", None)
    index = len(calls) if index is None else int(index)
    slot = calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
    function = getattr(piece, "function", None)
    slot["id"] = slot["id"] or (getattr(piece, "id", None) or "")
    if function is not None:
        slot["name"] += getattr(function, "name", None) or ""
        slot["arguments"] += getattr(function, "arguments", None) or ""


def _tool_calls(calls: dict[int, dict[str, str]]) -> tuple[Any, ...]:
    from dos.core.tools import ToolCall

    return tuple(ToolCall(c["id"] or f"call_{i}", c["name"], c["arguments"] or "{}") for i, c in sorted(calls.items())
                 if c["name"])


class LiteLLMRouteBinder:
    """Binds a route decision to a LiteLLM Router. `settings`: models.yaml `router:` (retries, timeout, ...)."""

    def __init__(self, settings: dict[str, Any] | Callable[[], dict[str, Any]] | None = None, environ: Any = None):
        self._settings = settings
        self.environ = environ  # where LiteLLM will read base URLs from (None: this process's environment)

    @property
    def settings(self) -> dict[str, Any]:
        value = self._settings() if callable(self._settings) else self._settings
        return dict(value or {})

    def bind(self, decision: RouteDecision) -> RoutedStream:
        return RoutedStream(decision, self.settings, self.environ)
