"""printable(): control characters and escape codes shown as inert text, everything else kept."""

from __future__ import annotations

from dos.core.printable import printable


def test_printable_escapes_controls_and_keeps_text():
    assert printable("a\x1b]0;t\x07b\x9bc\u202ed\x7f") == "a\\x1b]0;t\\x07b\\x9bc\\u202ed\\x7f"
    assert printable("tab\tnew\nline") == "tab\\tnew\\nline"
    assert printable("tab\tnew\nline", lines=True) == "tab\tnew\nline"
    assert printable("héllo 日本 ✓ — “q”") == "héllo 日本 ✓ — “q”"
    assert printable("cr\r") == "cr\\r"
