"""`dos run`'s thin client (dos.cli.run_fast) reads the command line as typer does and prints `--json` as
print_json does, without importing either."""

from __future__ import annotations

import io
import sys

import pytest
import typer.main

from dos.cli.output import print_json
from dos.cli.run_fast import json_answer, json_text, parse
from dos.core.domain import TurnResult, Usage

ARGVS = [
    ["explain", "what", "is", "a", "file"],
    ["explain"],
    ["summarize", "--json", "--max-tokens", "8", "--temperature", "0"],
    ["summarize", "--max-tokens=8", "--temperature=1.5", "hi"],
    ["x", "-m", "local/smollm2", "hi"],
    ["x", "-mlocal/smollm2", "hi"],
    ["x", "-cmlocal/smollm2", "hi"],
    ["x", "-cm", "local/smollm2", "hi"],
    ["-c", "x", "hello", "--no-log", "--no-memory", "--show-context"],
    ["x", "--model", "-c", "hi"],  # an option's value may start with a dash
    ["x", "--", "--json", "-c"],  # after `--`, words
    ["x", "-", "hi"],
    ["x", "--tools", "time, git", "--tool-choice", "time__now", "hi"],
    ["x", "--prefer", "cheapest", "--sovereignty", "local,eu", "--prefer", "best"],  # the last one counts
    ["x", "--temperature", ".5"],
    ["x", "--temperature", "2."],
    ["x", "--max-tokens", "007"],
    ["x", "--model="],
    ["", "hi"],
    ["fill this form", "--json", "now"],  # a quoted prompt in place of the skill
]
# typer reports an error, shows help, or reads a number spelled in a way the thin client leaves to it
NOT_MINE = [
    [], ["--json"], ["x", "--json=1"], ["x", "--nope"], ["x", "-z"], ["x", "-5"], ["x", "--model"], ["x", "-m"],
    ["x", "--max-tokens", "0"], ["x", "--max-tokens", "x"], ["x", "--temperature", "3"], ["x", "--temperature", "."],
    ["x", "--temperature", "1e0"], ["x", "--max-tokens", "+5"], ["x", "-ch"], ["x", "--max-tokens", "²"],
]


def typer_params(args: list[str]) -> dict | None:
    """What typer passes the `run` command for `dos run ARGS`, or None when it reports an error."""
    from dos.cli.app import app

    command = typer.main.get_command(app).commands["run"]  # type: ignore[attr-defined]
    try:
        ctx = command.make_context("run", list(args))
    except Exception:  # click's usage errors, and its exit for --help
        return None
    params = dict(ctx.params)
    params["text"] = list(params["text"]) if params["text"] else None
    return params


@pytest.mark.parametrize("args", ARGVS, ids=" ".join)
def test_the_thin_client_reads_a_command_line_as_typer_does(args):
    assert parse(args) == typer_params(args)


@pytest.mark.parametrize("args", NOT_MINE, ids=" ".join)
def test_what_the_thin_client_does_not_read_goes_to_typer(args):
    assert parse(args) is None


def printed(value: object) -> str:
    out, sys.stdout = sys.stdout, io.StringIO()
    try:
        print_json(value)
        return sys.stdout.getvalue()
    finally:
        sys.stdout = out


def test_json_is_written_as_print_json_writes_it():
    controls = "".join(chr(c) for c in range(0x2100)) + "\u202e\u2066\U0001f600"
    values = [{"text": controls, "n": None, "t": True, "f": False, "cost": 0.0, "big": 10**20, "x": 1e-300,
               "nested": {"a": [1, 2.5, "é"], "empty": {}, "none": []}}, [], {}, "plain", 3]
    for value in values:
        assert json_text(value) + "\n" == printed(value)


def test_json_answer_is_what_dos_run_json_prints():
    result = TurnResult("T", "S", "explain", "local/smollm2", "hi\u2028", Usage(3, 4), 0.0, "stop", 1.234567, 0.1)
    fields = vars(result) | {"usage": [3, 4]}
    assert json_answer(fields, logged=False)["turn_id"] is None
    answer = json_answer(fields, logged=True)
    assert answer == {"text": "hi\u2028", "model": "local/smollm2", "skill": "explain",
                      "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}, "cost": 0.0,
                      "finish_reason": "stop", "duration_s": 1.2346, "turn_id": "T", "session_id": "S"}
    assert json_text(answer) + "\n" == printed(answer)
