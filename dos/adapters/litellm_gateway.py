"""ModelGateway through LiteLLM: every model call, the embedded one included, goes through `litellm.completion`.

LiteLLM is imported on the first call only (it takes seconds), through dos.adapters.litellm_import, which
keeps its cost map local (no network fetch). (In 1.109.3 LiteLLM's telemetry is proxy-only and opt-in; the SDK sends none.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from dos.core.domain import Chunk, Usage
from dos.core.errors import ModelError
from dos.core.redact import redact

_litellm: Any = None


def litellm_module() -> Any:
    """LiteLLM, imported once, configured for DOS, with the `local` provider registered."""
    global _litellm
    if _litellm is None:
        from dos.adapters import local_model
        from dos.adapters.litellm_import import litellm

        litellm.custom_provider_map = [{"provider": local_model.PROVIDER, "custom_handler": local_model.provider}]
        litellm.register_model(local_model.cost_entries())  # free, and known to completion_cost() like any model
        _litellm = litellm
    return _litellm


def _cost(litellm: Any, model: str, usage: Usage) -> float:
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model, prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens
        )
        return float(prompt_cost + completion_cost)
    except Exception:  # a model LiteLLM has no price for: the catalog's price comes with the ledger
        return 0.0


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "message", None) or exc).split())
    return redact(text[:300] or type(exc).__name__)


class LiteLLMGateway:
    def stream(
        self,
        model: str,
        messages: list[dict[str, str]],
        *,
        max_tokens: int | None,
        temperature: float | None,
    ) -> Iterator[Chunk]:
        litellm = litellm_module()
        params: dict[str, Any] = {"stream": True, "stream_options": {"include_usage": True}}
        if max_tokens is not None:
            params["max_tokens"] = max_tokens
        if temperature is not None:
            params["temperature"] = temperature
        usage, finish = Usage(), "stop"
        try:
            for part in litellm.completion(model=model, messages=messages, **params):
                if part.choices:
                    choice = part.choices[0]
                    finish = choice.finish_reason or finish
                    if choice.delta and choice.delta.content:
                        yield Chunk(text=choice.delta.content)
                reported = getattr(part, "usage", None)
                if reported:
                    usage = Usage(reported.prompt_tokens or 0, reported.completion_tokens or 0)
        except ModelError:
            raise
        except Exception as exc:  # LiteLLM maps every provider failure onto its own exception types
            raise ModelError(f"{model}: {_one_line(exc)}") from exc
        yield Chunk(finish_reason=finish, usage=usage, cost=_cost(litellm, model, usage), model=model)
