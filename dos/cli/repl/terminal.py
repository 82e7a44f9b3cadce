"""The terminal REPL of `dos chat` (prompt-toolkit for input, rich for answers).

Start-up is kept short: the prompt is drawn before LiteLLM is imported; `warm_up()` (LiteLLM, the embedded
model) runs in a background thread from the start, and so do the completion names, the toolbar's route preview
and the file watcher. The first turn waits for the warm-up if it is still running, under the spinner.

Keys: Enter sends; Esc Enter inserts a newline, and so does Enter inside an open `\"\"\"` block; Ctrl-C clears the
line, stops an answer (the partial answer stays in memory), and at an empty prompt twice in a row exits; Ctrl-D
at an empty prompt exits.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from dos.cli.repl.commands import EXIT, Commands, Turn
from dos.cli.repl.render import Out
from dos.cli.repl.session import ChatSession
from dos.context import getenv
from dos.core.errors import DosError

FENCE = '"""'
HISTORY_FILE = "chat-history"
HISTORY_MAX_CHARS = 20_000  # longer inputs (pastes) are not kept in the history file


def open_block(text: str) -> bool:
    """Is a `\"\"\"` block open at the end of `text` (so Enter means a newline)?"""
    return text.lstrip().startswith(FENCE) and text.count(FENCE) % 2 == 1


def strip_fences(text: str) -> str:
    """A `\"\"\"...\"\"\"` input without its fences."""
    inner = text.strip()
    if inner.startswith(FENCE) and inner.endswith(FENCE) and len(inner) >= 2 * len(FENCE):
        return inner[len(FENCE): -len(FENCE)].strip("\n")
    return text


def wants_vi(flag: bool, settings: dict[str, Any]) -> bool:
    """--vi, then config's `chat_keys`, then DOS_CHAT_KEYS, then `set editing-mode vi` in ~/.inputrc."""
    if flag:
        return True
    choice = str(settings.get("chat_keys") or os.environ.get("DOS_CHAT_KEYS") or "").strip().lower()
    if choice:
        return choice == "vi"
    try:
        inputrc = Path(os.environ.get("INPUTRC") or Path.home() / ".inputrc").read_text(errors="replace")
    except OSError:
        return False
    return any(line.split() == ["set", "editing-mode", "vi"] for line in inputrc.splitlines())


def history(session: ChatSession) -> Any:
    """The prompt history file in the state folder (0600: it holds what you typed); in memory if unwritable."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    class CappedHistory(FileHistory):
        def store_string(self, string: str) -> None:  # a 1 MB paste would slow every later start
            if len(string) <= HISTORY_MAX_CHARS:
                super().store_string(string)

    path = session.dos.paths.state / HISTORY_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
        return CappedHistory(str(path))
    except OSError:
        return InMemoryHistory()


def key_bindings(toolbar: Any) -> Any:
    from prompt_toolkit.filters import completion_is_selected
    from prompt_toolkit.key_binding import KeyBindings

    kb = KeyBindings()

    @kb.add("enter", filter=completion_is_selected)
    def _(event: Any) -> None:  # take the selected completion, keep editing
        event.current_buffer.complete_state = None

    @kb.add("enter", filter=~completion_is_selected)
    def _(event: Any) -> None:
        buffer = event.current_buffer
        if open_block(buffer.text):
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @kb.add("escape", "enter")
    def _(event: Any) -> None:
        event.current_buffer.insert_text("\n")

    @kb.add("c-c")
    def _(event: Any) -> None:
        buffer = event.current_buffer
        if buffer.text:
            buffer.reset()
            toolbar.hint = ""
        else:
            event.app.exit(exception=KeyboardInterrupt())

    return kb


def prompt_session(session: ChatSession, toolbar: Any, completer: Any, vi: bool) -> Any:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.enums import EditingMode

    return PromptSession(
        history=history(session),
        completer=completer,
        complete_while_typing=False,
        multiline=True,
        key_bindings=key_bindings(toolbar),
        bottom_toolbar=toolbar,
        editing_mode=EditingMode.VI if vi else EditingMode.EMACS,
        prompt_continuation=lambda width, line, wrap: "… ".rjust(width),
        enable_history_search=False,
        mouse_support=False,
        refresh_interval=0.5,  # the toolbar follows the warm-up and the route preview
    )


def run_terminal(session: ChatSession, out: Out, vi: bool = False) -> int:
    from dos.cli.repl.completion import ChatCompleter, Names
    from dos.cli.repl.toolbar import Toolbar

    session.warm.start()  # LiteLLM and the embedded model, while the user types
    toolbar = Toolbar(session)
    names = Names()
    try:
        settings = session.dos.settings
    except DosError:
        settings = {}
    prompt = prompt_session(session, toolbar, ChatCompleter(names), wants_vi(vi, settings))
    commands = Commands(session, out)

    def background() -> None:  # after the first prompt is up
        names.refresh().join()
        toolbar.preview()
        session.watcher = _watch(session)

    threading.Timer(0.05, background).start()
    out.notice(f"dos chat · session {session.session_id}{' (continued)' if session.resumed else ''} · "
               "/help for commands, Ctrl-D to exit")
    code = 0
    try:
        session.start()
        toolbar.refresh_credit()
        armed = False  # Ctrl-C at an empty prompt once: a second one exits
        while True:
            try:
                line = prompt.prompt("› ")
            except KeyboardInterrupt:
                if armed:
                    break
                armed = True
                toolbar.hint = "Ctrl-C again or Ctrl-D to exit"
                continue
            except EOFError:
                break
            armed, toolbar.hint = False, ""
            if not _step(session, commands, out, strip_fences(line)):
                break
            toolbar.refresh_credit()
            threading.Thread(target=toolbar.preview, daemon=True).start()
    finally:
        watcher = getattr(session, "watcher", None)
        if watcher is not None:
            watcher.stop()
        session.end()
    return code


def _step(session: ChatSession, commands: Commands, out: Out, line: str) -> bool:
    """One input: a command or a turn. False to exit. Never raises but for SystemExit."""
    try:
        for what in session.reload_if_stale():
            out.notice(f"reloaded: {what} changed")
        action = commands.dispatch(line)
        if action == EXIT:
            return False
        if isinstance(action, Turn):
            with out.answer() as stream:
                session.turn(action.text, action.skill, on_text=stream.write)
    except KeyboardInterrupt:
        out.notice("stopped; the partial answer is kept in memory")
    except DosError as exc:
        out.error(exc.message)
    except Exception as exc:  # noqa: BLE001 - a bug must not end the session
        if getenv("DOS_DEBUG") not in (None, "", "0"):
            import traceback

            traceback.print_exc()
        out.error(f"internal error: {type(exc).__name__}: {exc} (run with DOS_DEBUG=1 for the traceback)")
    return True


def _watch(session: ChatSession) -> Any:
    from dos.cli.repl.watch import start_watcher

    def changed(what: str) -> None:
        session.changed(what)

    return start_watcher(session.dos, changed)
