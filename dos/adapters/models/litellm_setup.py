"""LiteLLM as DOS uses it: imported once, with the embedded `local` provider registered and priced at zero;
plus the cost and error helpers the router adapter (dos/adapters/models/litellm_router.py) needs.

LiteLLM is imported on the first call only (it takes seconds), through dos.adapters.models.litellm_import, which
keeps its cost map local (no network fetch). (In 1.109.3 LiteLLM's telemetry is proxy-only and opt-in; the SDK sends none.)
"""

from __future__ import annotations

import re
from typing import Any

from dos.core.domain import Usage
from dos.core.redact import redact

_litellm: Any = None


def litellm_module() -> Any:
    """LiteLLM, imported once, configured for DOS, with the `local` provider registered."""
    global _litellm
    if _litellm is None:
        from dos.adapters.models import local_model
        from dos.adapters.models.litellm_import import litellm

        litellm.custom_provider_map = [{"provider": local_model.PROVIDER, "custom_handler": local_model.provider}]
        litellm.register_model(local_model.cost_entries())  # free, and known to completion_cost() like any model
        _litellm = litellm
    return _litellm


def cost(litellm: Any, model: str, usage: Usage) -> float:
    """What LiteLLM's cost map says the call cost; 0 for a model it has no price for (the catalog's price
    is used instead, see litellm_router)."""
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model, prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens
        )
        return float(prompt_cost + completion_cost)
    except Exception:  # no price known to LiteLLM
        return 0.0


_LITELLM_PREFIX = re.compile(r"^(?:litellm\.\w+: )?(?:\w+Error: )?(?:\w+Exception - )?")


def one_line(exc: BaseException) -> str:
    """A provider error as one short line, secrets masked."""
    text = " ".join(str(getattr(exc, "message", None) or exc).split())
    text = _LITELLM_PREFIX.sub("", text)  # "litellm.InternalServerError: InternalServerError: OpenAIException - x"
    return redact(text[:300] or type(exc).__name__)
