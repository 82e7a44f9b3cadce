"""Masks API keys and bearer tokens before text is stored or shown."""

from __future__ import annotations

import re
from typing import Any

_PATTERNS = [
    r"sk-ant-[A-Za-z0-9_\-]{16,}",  # Anthropic
    r"sk-(?:proj-|svcacct-)?[A-Za-z0-9_\-]{16,}",  # OpenAI and compatibles
    r"AIza[0-9A-Za-z_\-]{30,}",  # Google
    r"gh[pousr]_[A-Za-z0-9]{30,}",  # GitHub
    r"github_pat_[A-Za-z0-9_]{40,}",
    r"xox[abprs]-[A-Za-z0-9\-]{10,}",  # Slack
    r"AKIA[0-9A-Z]{16}",  # AWS access key id
    r"gsk_[A-Za-z0-9]{30,}",  # Groq
    r"hf_[A-Za-z0-9]{30,}",  # Hugging Face
    r"dos_[A-Za-z0-9_\-]{40,}",  # `dos serve` tokens
]
_SECRET = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/\-]{8,}=*")
MASK = "[REDACTED]"


def redact(text: str) -> str:
    """`text` with every recognised secret replaced by [REDACTED]."""
    if not text:
        return text
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    return _SECRET.sub(MASK, text)


def redact_data(value: Any) -> Any:
    """`redact` applied to every string inside a JSON-like value."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_data(v) for v in value]
    return value
