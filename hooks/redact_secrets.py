"""Built-in UserPromptSubmit hook: masks API keys and bearer tokens in the prompt before any model sees it.

In-process: `hook(event, block=False)`. As a command hook (Claude Code too): `python3 redact_secrets.py`.
With `block: true` a prompt holding a secret is refused instead (exit 2 semantics).
"""

from __future__ import annotations

import json
import sys
from typing import Any

try:
    from dos.core.redact import MASK, redact
except ImportError:  # run outside DOS: a small fallback with the commonest key shapes
    import re

    MASK = "[REDACTED]"
    _FALLBACK = re.compile(r"sk-[A-Za-z0-9_\-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|AIza[0-9A-Za-z_\-]{30,}")

    def redact(text: str) -> str:
        return _FALLBACK.sub(MASK, text)


def hook(event: dict[str, Any], block: bool = False, **_: Any) -> dict[str, Any] | None:
    prompt = event.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        return None
    clean = redact(prompt)
    if clean == prompt:
        return None
    found = clean.count(MASK) - prompt.count(MASK)
    if block:
        return {"decision": "block",
                "reason": f"the prompt holds {found} secret(s) (API key or token); remove them and try again"}
    return {
        "hookSpecificOutput": {"hookEventName": "UserPromptSubmit", "updatedPrompt": clean},
        "systemMessage": f"masked {found} secret(s) in the prompt before sending it",
    }


if __name__ == "__main__":
    decision = hook(json.load(sys.stdin), block="--block" in sys.argv)
    if decision and decision.get("decision") == "block":
        sys.stderr.write(decision["reason"] + "\n")
        sys.exit(2)
    if decision:
        print(json.dumps(decision))
