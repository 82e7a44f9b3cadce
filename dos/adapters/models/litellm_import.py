"""The one way DOS imports LiteLLM: its cost map comes from the copy inside the package, never from the
network, its debug banners stay off, and it logs a stream once, when it ends, not once per chunk. Every adapter
that needs LiteLLM imports it from here."""

import logging
import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import litellm  # noqa: E402  (the variable above must be set first)

litellm.suppress_debug_info = True
# Otherwise every streamed chunk goes to a logging thread that runs a fresh asyncio loop and the success
# callbacks: about 0.7 ms of CPU per token, contending with the decode (docs/benchmarks.md). DOS has no per-chunk
# callback; success callbacks still get the whole response once, when the stream ends.
litellm.disable_streaming_logging = True
# LiteLLM logs each failed attempt and fallback at ERROR, multi-line, on stderr; DOS reports a failure itself, in
# one line naming each model of the route. DOS_DEBUG=1 keeps LiteLLM's own logs.
if os.environ.get("DOS_DEBUG", "") in ("", "0"):
    for _name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(_name).disabled = True
