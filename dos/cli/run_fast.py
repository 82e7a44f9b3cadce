"""`dos run` with the warm kernel on: the command line read here (as typer reads the options of dos/cli/turn/run.py,
which a test holds it to), the turn run in the kernel (dos.kernel.turns: the use case `dos run --no-kernel`
calls), the answer shown here. `dos.cli.entry` calls `fast_run` before importing the typer app; what it does not
recognise (help, an error typer would report, a value it is not sure of) goes to the full command, in this process.
What the arguments mean (a skill, or a quoted prompt in its place; the prompt from the words and stdin) is the
use case's business, here and in the kernel alike (`Dos.run_request`).

Imports only the standard library on the way in, none of `json`, `re`, `typing`, `signal` or `socket` (see
dos.kernel.client): rich only when the answer is drawn on a terminal, while the kernel already works on the turn.
"""

from __future__ import annotations

import _json
import _signal
import io
import os
import sys

from dos.context import display_env, local_scope
from dos.core.errors import EXIT_INTERRUPTED, ModelCrashed  # standard library only
from dos.kernel import client
from dos.kernel.protocol import fingerprint

# The options of `dos run` (dos/cli/turn/run.py) -> its parameter names
VALUED = {"--model": "model", "-m": "model", "--prefer": "prefer", "--sovereignty": "sovereignty",
          "--max-tokens": "max_tokens", "--temperature": "temperature", "--tools": "tools",
          "--tool-choice": "tool_choice"}
FLAGS = {"--json": "json_out", "--no-log": "no_log", "--no-memory": "no_memory", "--show-context": "context",
         "--continue": "resume", "-c": "resume", "--no-kernel": "no_kernel"}
DIGITS = frozenset("0123456789")


def parse(args: list[str]) -> dict | None:
    """The parameters of the `run` command (dos/cli/turn/run.py) for `dos run ARGS`, as typer would pass them; None
    for help, for what typer would refuse, and for the rarer spellings of a number (typer then reads them)."""
    params: dict = {name: None for name in VALUED.values()} | {name: False for name in FLAGS.values()}
    words: list[str] = []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            words += rest
            break
        if arg[:2] == "--":
            name, has_value, value = arg.partition("=")
            if name in FLAGS and not has_value:
                params[FLAGS[name]] = True
            elif name in VALUED:
                if not has_value:
                    if not rest:
                        return None
                    value = rest.pop(0)
                params[VALUED[name]] = value
            else:
                return None
        elif arg[:1] == "-" and arg != "-":
            shorts = arg[1:]
            while shorts:
                name, shorts = "-" + shorts[0], shorts[1:]
                if name in FLAGS:
                    params[FLAGS[name]] = True
                elif name in VALUED:
                    if not shorts and not rest:
                        return None
                    params[VALUED[name]] = shorts or rest.pop(0)
                    shorts = ""
                else:
                    return None
        else:
            words.append(arg)
    if not words:
        return None
    tokens, temperature = params["max_tokens"], params["temperature"]
    if tokens is not None:
        if not tokens or not DIGITS.issuperset(tokens) or int(tokens) < 1:
            return None
        params["max_tokens"] = int(tokens)
    if temperature is not None:
        whole, _, part = temperature.partition(".")
        if not (whole or part) or not DIGITS.issuperset(whole + part) or not 0.0 <= float(temperature) <= 2.0:
            return None
        params["temperature"] = float(temperature)
    # --allow and --permission-mode are not read here (so they end the parse above): a run that sets them goes to
    # the full command in this process, where an `ask` can be put to the person at this terminal
    return params | {"skill": words[0], "text": words[1:] or None, "allow": (), "permission_mode": None}


# What dos.core.printable.printable_json writes as \uXXXX (JSON escapes the C0 controls itself); a test holds the two
_INERT = {c: f"\\u{c:04x}" for c in (*range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                                     *range(0x2066, 0x206A), 0x2028, 0x2029)}
_WORDS = {None: "null", True: "true", False: "false"}


def json_text(value: object, indent: str = "") -> str:
    """What `dos.cli.output.print_json` writes for `value` (without its newline), from the C functions `json` uses."""
    inner = indent + "  "
    if isinstance(value, dict) and value:
        items = (f"{inner}{_json.encode_basestring(str(k))}: {json_text(v, inner)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + f"\n{indent}}}"
    if isinstance(value, (list, tuple)) and value:
        return "[\n" + ",\n".join(inner + json_text(v, inner) for v in value) + f"\n{indent}]"
    if isinstance(value, str):
        return _json.encode_basestring(value).translate(_INERT)
    if value is None or value is True or value is False:
        return _WORDS[value]
    if isinstance(value, float):
        text = float.__repr__(value)
        return {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}.get(text, text)
    if isinstance(value, int):
        return int.__repr__(value)
    return "{}" if isinstance(value, dict) else "[]"


def json_answer(result: dict, logged: bool) -> dict:
    """What `dos run --json` prints of a turn's result (its exit frame's `result`)."""
    prompt_tokens, completion_tokens = result["usage"]
    return {
        "text": result["text"],
        "model": result["model"],
        "skill": result["skill"],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
        "cost": result["cost"],
        "finish_reason": result["finish_reason"],
        "duration_s": round(result["duration_s"], 4),
        "turn_id": result["turn_id"] if logged else None,
        "session_id": result["session_id"],
    }


class Answer:
    """The answer as the kernel streams it: plain text as it arrives, or (when the kernel says the `output` setting
    wants it) dos.cli.output.AnswerStream's live Markdown; nothing with `--json`."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.text = ""
        self.drawn: object = None  # an AnswerStream, on a terminal

    def setting(self, frame: dict) -> None:
        style = frame.get("output")
        if style is None or self.quiet or not (style == "rich" or (style == "auto" and sys.stdout.isatty())):
            return
        from dos.cli.output import AnswerStream  # here: rich only for an answer drawn on a terminal

        self.drawn = AnswerStream(style=style).__enter__()

    def write(self, piece: str) -> None:
        self.text += piece
        if self.drawn is not None:
            self.drawn.write(piece)  # type: ignore[attr-defined]
        elif not self.quiet:
            sys.stdout.write(piece)
            sys.stdout.flush()

    def done(self) -> None:
        """The turn ended (answered, failed or interrupted): the answer's last line ends."""
        if self.drawn is not None:
            self.drawn.__exit__(None, None, None)  # type: ignore[attr-defined]
        elif not self.quiet and self.text and not self.text.endswith("\n"):
            sys.stdout.write("\n")
            sys.stdout.flush()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM cancels the turn in the kernel, as Ctrl-C does


def fast_run(argv: list[str]) -> int | None:
    """Run `dos run ARGS` in the kernel and return its exit code; None means "run it in this process"."""
    if not client.enabled(argv):
        return None
    stdin_tty = sys.stdin is not None and sys.stdin.isatty()
    stdin = b"" if stdin_tty or sys.stdin is None else sys.stdin.buffer.read()
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8", errors="replace")  # for a run here
    params = parse(argv[1:])
    if params is None:
        return None
    try:
        state = client._state_dir()
    except Exception:  # e.g. an unusable DOS_HOME: the command itself will say what is wrong
        return None
    env = display_env()
    if sys.stdout.isatty() and "COLUMNS" not in env:
        size = os.get_terminal_size(sys.stdout.fileno())
        env |= {"COLUMNS": str(size.columns), "LINES": str(size.lines)}
    tools = [t.strip() for t in (params["tools"] or "").split(",") if t.strip()]
    run = {"skill": params["skill"], "words": params["text"] or [], "piped": stdin.decode("utf-8", errors="replace"),
           "model": params["model"], "prefer": params["prefer"], "sovereignty": params["sovereignty"],
           "max_tokens": params["max_tokens"], "temperature": params["temperature"], "log": not params["no_log"],
           "recall": not params["no_memory"], "resume": params["resume"], "tools": tools,
           "tool_choice": params["tool_choice"], "show_context": params["context"]}
    frame = {"op": "run", "fingerprint": fingerprint(), "cwd": os.getcwd(), "scope": local_scope(), "env": env,
             "ttys": {"stdin": stdin_tty, "stdout": sys.stdout.isatty(), "stderr": sys.stderr.isatty()}, "run": run}
    _signal.signal(_signal.SIGTERM, _interrupt)
    for attempt in range(2):
        if not client.start(state):
            return None
        answer = Answer(quiet=params["json_out"])
        last = client.call(state, frame, answer.write, answer.setting)
        if last is None:
            client.notice("the kernel went away; running in this process")
            return None
        if "exit" in last:
            return shown(last, answer, params["json_out"], run["log"])
        if "gone" in last:
            if "turn" not in last:
                client.notice("the kernel stopped before the turn began; running in this process")
                return None
            if answer.drawn is not None:  # a live drawing ends; plain text stays as it was
                answer.done()
            # the kernel died during the turn: it is on record, and never runs a second time
            client.notice(client.lost_turn(state, int(last["pid"]), str(last["turn"])))
            return ModelCrashed.exit_code
        if last.get("refused") != "version":
            client.notice(f"the kernel refused: {last['refused']}; running in this process")
            return None
        if attempt == 0:
            client.stop(state)  # a kernel of another DOS version or environment: replace it
    return None


def shown(last: dict, answer: Answer, json_out: bool, logged: bool) -> int:
    """The end of a turn, shown as `dos run` in this process shows it (dos.cli.errors.guarded for its errors)."""
    code = int(last["exit"])
    if last.get("broken_pipe"):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the reader left: stop quietly
        return code
    answer.done()
    if code == 0 and json_out:
        sys.stdout.write(json_text(json_answer(last["result"], logged)) + "\n")
    elif code == EXIT_INTERRUPTED:
        client.notice("interrupted")
    elif code:
        client.notice(last.get("error") or f"the turn failed in the kernel (exit {code})")
    sys.stdout.flush()
    return code
