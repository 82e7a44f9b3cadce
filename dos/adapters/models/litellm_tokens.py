"""The models' own tokenizers, where LiteLLM ships one, for the ledger's holds (dos.core.routing.ledger.TokenCounter).

LiteLLM's `token_counter` is exact only for some models: OpenAI's (tiktoken's cl100k/o200k encodings, bundled
with LiteLLM) and DeepSeek's (a tokenizer file bundled with LiteLLM). For any other model it silently counts with
an OpenAI encoding or downloads one from a hub; that is not the model's count, so this answers None and the core
bounds the text by its UTF-8 bytes. A model served from an `api_base` of the user's own is whatever that server
runs, whatever its name: None too. LiteLLM is imported only when a model that has a tokenizer is counted (it takes
seconds), which happens only on the way to calling it.
"""

from __future__ import annotations

from typing import Any

from dos.core.routing.policy import ModelEntry

_OPENAI = ("", "openai", "azure")
MAX_EXACT_CHARS = 4_000_000  # past this LiteLLM extrapolates from samples: not a count


def _provider(model: str) -> str:
    head, sep, _ = model.partition("/")
    return head if sep else ""


def might_have_tokenizer(entry: ModelEntry) -> bool:
    """Whether `entry` can have a tokenizer LiteLLM ships, decided without importing LiteLLM."""
    model = str(entry.params.get("model") or entry.name)
    provider = _provider(model)
    if provider not in (*_OPENAI, "deepseek"):
        return False
    return provider == "azure" or not entry.params.get("api_base")


def count_tokens(entry: ModelEntry, text: str) -> int | None:
    """Tokens of `text` by `entry`'s own tokenizer, or None if LiteLLM has none for it."""
    if not text or len(text) > MAX_EXACT_CHARS or not might_have_tokenizer(entry):
        return None
    model = str(entry.params.get("model") or entry.name)
    litellm = _litellm()
    try:
        from litellm.litellm_core_utils.token_counter import is_openai_model
        from litellm.utils import huggingface_tokenizer_kind

        if _provider(model) in _OPENAI and is_openai_model(model):
            return int(litellm.token_counter(model=model.partition("/")[2] or model, text=text))
        if _provider(model) == "deepseek" and huggingface_tokenizer_kind(model) == "deepseek":
            return int(litellm.token_counter(model=model, text=text))
    except Exception:  # a tokenizer that fails to load: the core's bound applies
        return None
    return None


def _litellm() -> Any:
    # Imported here, not at the top: LiteLLM takes seconds to import and only a model call needs it.
    from dos.adapters.models.litellm_import import litellm

    return litellm
