"""What the kernel serves: turns, through the use cases an in-process command calls (dos.bootstrap).

- `run`: a `dos run` its client has read the command line of (dos.cli.run_fast): the request `Dos.run_request`
  makes of it, run by `Dos.turn_runner`, as `dos run --no-kernel` does.
- `turn`: one turn of a `dos chat` (dos.cli.repl.kernel): run by `Dos.chat_runner` with what the chat's one
  SessionStart said, as the chat does in its own process.

Both stream the answer as `{"t": text}` frames and end with `{"exit": 0, "result": RESULT_FIELDS}`; the client
shows them. `run` first says the `output` setting (`{"output": "auto"}`), which decides how its client shows the
answer. This module and `python -m dos.kernel` are the kernel's composition root: dos.kernel.server knows none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dos.bootstrap import build, keep_tools_connected, warm_up as warm_up_models
from dos.context import scope, turn_id
from dos.core.domain import TurnRequest, TurnResult
from dos.core.turn.hooks import Conversation
from dos.kernel.protocol import RESULT_FIELDS

Frame = dict[str, Any]
Send = Callable[[Frame], None]


def result_frame(result: TurnResult) -> Frame:
    return {"exit": 0, "result": {f: getattr(result, f) for f in RESULT_FIELDS}
            | {"usage": [result.usage.prompt_tokens, result.usage.completion_tokens]}}


def serve_run(request: Frame, send: Send) -> Frame:
    """`dos run`, from the arguments its client read (dos.cli.run_fast.parse) and what was piped to it."""
    run = request["run"]
    dos = build()
    turn, named = dos.run_request(run["skill"], run["words"], run["piped"], resume=run["resume"], model=run["model"],
                                  max_tokens=run["max_tokens"], temperature=run["temperature"], log=run["log"],
                                  recall=run["recall"], scope=scope(), tools=tuple(run["tools"]),
                                  tool_choice=run["tool_choice"], turn_id=turn_id())
    runner = dos.turn_runner(prefer=run["prefer"], sovereignty=run["sovereignty"])
    on_context = (lambda recalled: send({"e": recalled.summary})) if run["show_context"] else (lambda _: None)
    send({"output": dos.settings["output"]})
    return result_frame(runner.run(turn, on_text=lambda piece: send({"t": piece}), on_context=on_context,
                                   skill=named))


def serve_chat_turn(request: Frame, send: Send) -> Frame:
    """One `dos chat` turn, with the context its chat's SessionStart hooks gave (they fired in the chat)."""
    payload = request["turn"]
    dos = build()
    dos.trust.said = True  # the chat said any untrusted-project notice once, at its start; not again each turn
    conversation = Conversation(payload["context"], payload["stopped"], payload["stop_reason"])
    runner = dos.chat_runner(conversation, payload["prefer"], payload["sovereignty"])
    return result_frame(runner.run(TurnRequest(**payload["request"]), on_text=lambda piece: send({"t": piece})))


HANDLERS = {"run": serve_run, "turn": serve_chat_turn}


def warm_up() -> Callable[[], None]:
    """Import what a turn needs and load the embedded model, so requests pay for neither; MCP servers, once
    started by a turn, stay connected for the next ones. Returns what closes them."""
    warm_up_models()
    return keep_tools_connected()
