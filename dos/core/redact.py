"""Masks API keys, bearer tokens and other secrets before text is stored or shown.

A secret with a fixed shape (a prefix, a length) is masked whole. One without (an AWS secret access key is any 40
base64 characters, like a git commit hash) is masked only where its name says what it is; a URL's password and
a PEM private key's body are masked, and what surrounds them (user, host, BEGIN/END lines) kept to say what was
there."""

from __future__ import annotations

import re
from collections.abc import Mapping
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
    r"sk_(?:live|test)_[0-9A-Za-z]{16,}",  # Stripe secret keys (a leading character class here would slow
    r"rk_(?:live|test)_[0-9A-Za-z]{16,}",  # every redact 3x) and restricted keys
    r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",  # JWT: header.payload.signature
]
_SECRET = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/\-]{8,}=*")
# `aws_secret_access_key=...`, `AWS_SECRET_ACCESS_KEY: '...'`, `"SecretAccessKey": "..."`: the value only.
_AWS_SECRET = re.compile(r"(?i)(\b(?:aws_?)?secret_?access_?key|\baws_?secret_?key)(['\"]?\s*[:=]\s*['\"]?)"
                         r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_URL_PASSWORD = re.compile(r"(://[^\s/:@]+:)[^\s/@]+(?=@)")  # scheme://user:PASSWORD@ (starts at "://": fast)
# The whole body of a private key, headers (Proc-Type, DEK-Info) included; a block cut short is masked to its end.
_PEM_BODY = r"[A-Za-z0-9+/=\s:,.\\\-]"
_PEM = re.compile(rf"(-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----)\s*{_PEM_BODY}*?"
                  rf"(?:\s*(-----END \2PRIVATE KEY-----)|(?!{_PEM_BODY}))")
MASK = "[REDACTED]"


def redact(text: str) -> str:
    """`text` with every recognised secret replaced by [REDACTED]."""
    if not text:
        return text
    # Each pattern below runs only where its fixed part occurs: a case-insensitive scan costs 1 ms per 10 kB.
    if "PRIVATE KEY-----" in text:
        text = _PEM.sub(lambda m: f"{m.group(1)}\n{MASK}" + (f"\n{m.group(3)}" if m.group(3) else ""), text)
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    if "secret" in text.lower():
        text = _AWS_SECRET.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
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


# An environment variable whose name says it holds a credential (OPENAI_API_KEY, GITHUB_TOKEN, PGPASSWORD,
# AWS_SECRET_ACCESS_KEY, LITELLM_MASTER_KEY...); TOKENIZERS_PARALLELISM and KEYMAP-like names are not.
_SECRET_NAME = re.compile(r"(?i)API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|SECRET|PASSW(?:OR)?D|CREDENTIAL|TOKEN(?!IZER)|"
                          r"(?:^|_)KEY$|(?:^|_)AUTH$|(?:^|_)PAT$")


def without_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` without the variables that hold API keys and other secrets, by name or by value (a value `redact`
    would mask): the environment of a command a model asked for."""
    return {k: v for k, v in environ.items() if not _SECRET_NAME.search(k) and redact(v) == v}
