"""`dos --help` groups commands by area; shell completion offers skill, pack and model names."""

from __future__ import annotations

import pytest

PANELS = {
    "Run": ["run"],
    "Chat": ["chat"],
    "Memory": ["memory"],
    "Skills & Packs": ["skills", "packs"],
    "Models & Routing": ["models", "route", "stats"],
    "Credits": ["credits", "budget", "ledger"],
    "Hooks": ["hooks"],
    "MCP": ["mcp"],
    "Sync": ["sync"],
    "Serve": ["serve", "tokens"],
    "System": ["config", "kernel", "doctor", "trust"],
}


def panel_of(help_text: str) -> dict[str, str]:
    """command -> the panel it is listed under, read from rich's boxed help."""
    where, panel = {}, None
    for line in help_text.splitlines():
        if line.startswith("╭─"):
            panel = line.strip("╭─╮ ").split(" ─")[0].strip()
        elif line.startswith("│ ") and panel:
            words = line.strip("│ ").split()
            if words and words[0].isidentifier():
                where.setdefault(words[0], panel)
    return where


def test_help_groups_every_command_by_area_with_an_example(dos):
    run = dos("--help", env={"COLUMNS": "200"})
    assert run.code == 0
    where = panel_of(run.out)
    for panel, commands in PANELS.items():
        for command in commands:
            assert where.get(command) == panel, (command, panel, where)
    assert run.out.count("Example: dos ") >= 10
    shown = [line.strip("╭─╮ ").split(" ─")[0].strip() for line in run.out.splitlines() if line.startswith("╭─")]
    assert [p for p in shown if p != "Options"] == list(PANELS)  # areas in the documented order


@pytest.mark.parametrize(
    "words, expected",
    [("dos run summ", "summarize"), ("dos packs show wri", "writing"), ("dos run x --model local/sm", "local/smollm2"),
     ("dos skills show commit", "commit-message")],
)
def test_completion_offers_names(dos, words, expected):
    run = dos(env={"_DOS_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)})
    assert run.code == 0, run.err
    assert expected in run.out.split()


def test_completion_scripts_exist_for_bash_zsh_fish(dos):
    """The script `dos --install-completion` installs, asked for by shell name (detection needs a real shell)."""
    for shell, marker in (("bash", "_dos_completion()"), ("zsh", "#compdef dos"), ("fish", "complete --command dos")):
        run = dos(env={"_DOS_COMPLETE": f"source_{shell}"})
        assert run.code == 0 and marker in run.out and "_DOS_COMPLETE" in run.out, shell
