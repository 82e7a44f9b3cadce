"""Text from files DOS did not write (skill, pack and plugin metadata, a skill's body) made inert before it is
printed: a control character or escape sequence in a description must not retitle, recolour or clear the user's
terminal, nor hide text. Each such character is shown escaped (`\\x1b`, `\\u202e`), so a reader sees it is there."""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls (0x9b is a one-byte CSI), and the bidirectional overrides and isolates that
# reorder what a terminal shows ("Trojan Source"); line breaks a terminal treats as such (U+2028, U+2029) too
_OTHERS = "\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
_ANY = re.compile(f"[\x00-\x1f{_OTHERS}]")
_KEEP_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHERS}]")  # tab and newline stay
_RAW_IN_JSON = re.compile(f"[{_OTHERS}]")  # json.dumps escapes every C0 control in a string; raw ones are its layout
_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _SHORT.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str, lines: bool = False) -> str:
    """`text` with every control character shown escaped; `lines` keeps tabs and newlines (a skill's body)."""
    if lines:
        return _KEEP_LINES.sub(_escaped, text.replace("\r\n", "\n"))
    return _ANY.sub(_escaped, text)


def printable_json(text: str) -> str:
    """JSON text with the characters `printable` escapes written as `\\uXXXX` (JSON escapes the C0 controls
    itself; with ensure_ascii off it leaves C1 controls and bidi overrides raw): the same data, inert."""
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
