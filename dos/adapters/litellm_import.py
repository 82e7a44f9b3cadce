"""The one way DOS imports LiteLLM: its cost map comes from the copy inside the package, never from the
network, and its debug banners stay off. Every adapter that needs LiteLLM imports it from here."""

import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import litellm  # noqa: E402  (the variable above must be set first)

litellm.suppress_debug_info = True
