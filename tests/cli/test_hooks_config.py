"""`dos hooks list` warns with the file and line of an unknown hook event in hooks.yaml."""

from __future__ import annotations


def test_cli_warns_with_the_line_of_an_unknown_event(dos, dos_home):
    (dos_home / "config").mkdir()
    hooks = dos_home / "config" / "hooks.yaml"
    hooks.write_text("# my hooks\nhooks:\n  Stop:\n    - hooks: [{command: 'true'}]\n  userpromptsubmit:\n"
                     "    - hooks: [{command: 'true'}]\n")
    r = dos("hooks", "list")
    assert r.code == 0 and "Traceback" not in r.err
    assert f"warning: {hooks}:5: unknown hook event 'userpromptsubmit'; did you mean UserPromptSubmit?" in r.err
