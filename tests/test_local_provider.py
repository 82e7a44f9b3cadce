"""The embedded model as LiteLLM's `local` provider: sync, async, streaming, real usage, cost 0, loaded once."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.model
MESSAGES = [{"role": "user", "content": "Name one colour."}]


@pytest.fixture(scope="module")
def litellm():
    from dos.adapters.litellm_setup import litellm_module

    return litellm_module()


def test_completion_reports_real_usage_and_zero_cost(litellm):
    from dos.adapters import local_model

    response = litellm.completion(model="local/smollm2", messages=MESSAGES, max_tokens=6, temperature=0)
    assert response.choices[0].message.content.strip()
    assert response.usage.prompt_tokens > 5 and 0 < response.usage.completion_tokens <= 6
    assert litellm.completion_cost(completion_response=response) == 0
    first = local_model.load("smollm2")
    assert local_model.load("smollm2") is first  # loaded once per process


def test_streaming_matches_the_non_streaming_answer(litellm):
    whole = litellm.completion(model="local/smollm2", messages=MESSAGES, max_tokens=6, temperature=0)
    parts, usage = [], None
    for chunk in litellm.completion(model="local/smollm2", messages=MESSAGES, max_tokens=6, temperature=0,
                                    stream=True, stream_options={"include_usage": True}):
        if chunk.choices and chunk.choices[0].delta.content:
            parts.append(chunk.choices[0].delta.content)
        usage = getattr(chunk, "usage", None) or usage
    assert "".join(parts) == whole.choices[0].message.content
    assert (usage.prompt_tokens, usage.completion_tokens) == (whole.usage.prompt_tokens, whole.usage.completion_tokens)


def test_async_completion_and_async_streaming(litellm):
    async def both():
        response = await litellm.acompletion(model="local/smollm2", messages=MESSAGES, max_tokens=6, temperature=0)
        stream = await litellm.acompletion(model="local/smollm2", messages=MESSAGES, max_tokens=6, temperature=0,
                                           stream=True)
        parts = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
        return response, "".join(parts)

    response, streamed = asyncio.run(both())
    assert response.choices[0].message.content.strip()
    assert streamed == response.choices[0].message.content


def test_unknown_embedded_model_is_a_clear_error(litellm):
    with pytest.raises(Exception) as caught:
        litellm.completion(model="local/nope", messages=MESSAGES, max_tokens=2)
    assert "no embedded model named 'nope'" in str(caught.value)
