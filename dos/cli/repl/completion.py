"""Tab completion in `dos chat`: slash commands, skill, pack and model names, file paths.

Names come from dos/cli/complete.py (as shell completion does), fetched once in a background thread and
refreshed when skills or packs change, so a keystroke never waits on disk or a network probe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from dos.cli.repl.commands import ALIASES, COMMANDS


class Names:
    """Skill, pack and model names, loaded off the main thread; empty until loaded."""

    def __init__(self, sources: dict[str, Callable[[str], list[str]]] | None = None):
        if sources is None:
            from dos.cli.complete import model_names, pack_names, skill_names

            sources = {"skill": skill_names, "pack": pack_names, "model": model_names}
        self.sources = sources
        self.values: dict[str, list[str]] = {k: [] for k in sources}
        self.values["command"] = sorted(COMMANDS)

    def refresh(self, kinds: Iterable[str] | None = None) -> threading.Thread:
        def load() -> None:
            for kind in kinds or self.sources:
                self.values[kind] = self.sources[kind]("")

        thread = threading.Thread(target=load, name="dos-chat-names", daemon=True)
        thread.start()
        return thread

    def __getitem__(self, kind: str) -> list[str]:
        return self.values.get(kind, [])


class ChatCompleter(Completer):
    def __init__(self, names: Names):
        self.names = names
        self.paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        if text.startswith("/") and " " not in text and "\n" not in text:
            word = text[1:]
            seen = set()
            for name in [*COMMANDS, *self.names["skill"]]:
                if name.startswith(word) and name not in seen:
                    seen.add(name)
                    meta = COMMANDS[name].help if name in COMMANDS else "run this skill once"
                    yield Completion("/" + name, start_position=-len(text), display_meta=meta)
            return
        if text.startswith("/") and "\n" not in text:
            name, _, arg = text[1:].partition(" ")
            command = COMMANDS.get(name) or COMMANDS.get(ALIASES.get(name, ""))
            kind = command.complete if command else None
            if kind == "path":
                yield from self.paths.get_completions(Document(arg, len(arg)), event)
                return
            if kind and " " not in arg:
                for value in self.names[kind]:
                    if value.startswith(arg):
                        yield Completion(value, start_position=-len(arg))
                return
        word = document.get_word_before_cursor(WORD=True)
        if word and ("/" in word or word.startswith(("~", "."))):
            yield from self.paths.get_completions(Document(word, len(word)), event)
