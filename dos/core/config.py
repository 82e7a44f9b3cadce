"""The settings a user can change, their types, defaults and meaning; validation without any I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    key: str
    kind: type
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    minimum: float | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting("default_model", str, "local/smollm2", "Model for skills that do not pin one."),
    Setting("prefer", str, "local-first", "How the router orders models.", ("local-first", "cheapest", "best", "fastest")),
    Setting("recall", bool, True, "Offer relevant past turns to the model as context."),
    Setting("recall_tokens", int, 600, "Most tokens of recalled context per turn (0: none).", minimum=0),
    Setting("kernel_idle_minutes", int, 15, "Minutes before an idle kernel exits.", minimum=1),
    Setting("output", str, "auto", "auto: rich on a terminal, plain on a pipe.", ("auto", "plain", "rich")),
    Setting("editor", str, "", "Editor for `dos config edit` (empty: $VISUAL, $EDITOR, then vi)."),
    Setting("chat_keys", str, "", "Key bindings in `dos chat` (empty: $DOS_CHAT_KEYS, then ~/.inputrc, then emacs).",
            ("", "emacs", "vi")),
)
BY_KEY = {s.key: s for s in SETTINGS}


def defaults() -> dict[str, Any]:
    return {s.key: s.default for s in SETTINGS}


def check(key: str, value: Any) -> str | None:
    """Why `value` is not valid for `key`, or None if it is."""
    setting = BY_KEY.get(key)
    if setting is None:
        return f"unknown key '{key}' (known: {', '.join(BY_KEY)})"
    if setting.kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        return f"'{key}' must be a whole number, not {value!r}"
    if setting.kind is bool and not isinstance(value, bool):
        return f"'{key}' must be true or false, not {value!r}"
    if setting.kind is str and not isinstance(value, str):
        return f"'{key}' must be {setting.kind.__name__}, not {value!r}"
    if setting.choices and value not in setting.choices:
        return f"'{key}' must be one of {', '.join(c or repr(c) for c in setting.choices)}, not {value!r}"
    if setting.minimum is not None and value < setting.minimum:
        return f"'{key}' must be at least {setting.minimum:g}, not {value!r}"
    return None


def parse_value(key: str, text: str) -> Any:
    """A command-line VALUE as the setting's type (`true`/`false` for booleans)."""
    setting = BY_KEY.get(key)
    if setting is None or setting.kind is str:
        return text
    if setting.kind is bool:
        lowered = text.strip().lower()
        return {"true": True, "yes": True, "on": True, "1": True,
                "false": False, "no": False, "off": False, "0": False}.get(lowered, text)
    try:
        return int(text)
    except ValueError:
        return text
