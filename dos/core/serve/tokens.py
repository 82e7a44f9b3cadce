"""`dos serve`'s bearer tokens, pure: minting one, the digest stored in its place, and the policy it puts on a
request (which skills and models it may use, which sovereignty classes, who is charged).

A token is shown once, when created; only its SHA-256 digest is kept, so a copy of the database holds nothing
that authenticates. Tokens are long random strings, so a plain digest (no salt, no slow hash) is enough.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from dos.core.errors import UsageError

PREFIX = "dos_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
SKILL_MODEL = "skill:"  # `skill:NAME` as a model name runs that skill


def mint() -> str:
    """A new secret token: 256 random bits, URL-safe, with a prefix that makes a leaked one easy to spot."""
    return PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hint(secret: str) -> str:
    return secret[: len(PREFIX) + 4] + "…"


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise UsageError(f"token name {name!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a "
                         "letter or digit")
    return name


def names(value: str | None) -> tuple[str, ...]:
    """`--skills a,b` or `--sovereignty local,eu` as a tuple of names."""
    return tuple(dict.fromkeys(p.strip() for p in (value or "").split(",") if p.strip()))


def skill_of(model: str) -> str | None:
    """The skill a `skill:NAME` model name asks for, else None."""
    return model[len(SKILL_MODEL):] if model.startswith(SKILL_MODEL) else None
