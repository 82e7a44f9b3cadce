"""The embedded model as LiteLLM's `local` provider: sync, async, streaming, real usage, cost 0, loaded once."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.model
MESSAGES = [{"role": "user", "content": "Name one colour."}]


@pytest.fixture(scope="module")
def litellm():
    from dos.adapters.models.litellm_setup import litellm_module

    return litellm_module()


def test_completion_reports_real_usage_and_zero_cost(litellm):
    from dos.adapters.models import local_model

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


def test_a_stream_is_logged_once_when_it_ends_not_per_chunk(litellm):
    """DOS turns LiteLLM's per-chunk logging off (it cost ~0.7 ms of CPU per token); success callbacks still see
    the whole answer, once."""
    import time

    from litellm.integrations.custom_logger import CustomLogger

    seen: list[tuple[str, object]] = []

    class Recorder(CustomLogger):
        def log_stream_event(self, kwargs, response_obj, start_time, end_time):
            seen.append(("chunk", response_obj))

        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            seen.append(("success", response_obj.choices[0].message.content))

    recorder = Recorder()
    litellm.callbacks = [*litellm.callbacks, recorder]
    try:
        parts = [c.choices[0].delta.content for c in litellm.completion(
            model="local/smollm2", messages=MESSAGES, max_tokens=6, temperature=0, stream=True)
            if c.choices and c.choices[0].delta.content]
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:  # LiteLLM logs from a thread of its own
            time.sleep(0.05)
    finally:
        litellm.callbacks = [c for c in litellm.callbacks if c is not recorder]
    assert len(parts) > 1
    assert seen == [("success", "".join(parts))]


def test_a_stream_closed_early_ends_its_decode_and_frees_the_model(litellm):
    """The decode runs on a thread of its own; a reader that stops (Ctrl-C, a client gone) must stop it too,
    and the next generation must have the model to itself."""
    import threading

    from dos.adapters.models import local_model

    stream = local_model.generate("smollm2", MESSAGES, {"max_tokens": 300, "temperature": 0})
    first = next(stream)
    assert first.get("text") and not first.get("is_finished")
    stream.close()
    assert not any(t.name == "dos-decode" for t in threading.enumerate())  # joined before close returned
    model = local_model.load("smollm2")
    assert model.lock.acquire(timeout=0)  # free at once
    model.lock.release()
    again = litellm.completion(model="local/smollm2", messages=MESSAGES, max_tokens=4, temperature=0)
    assert 0 < again.usage.completion_tokens <= 4
