"""Slash commands of `dos chat`, shared by the terminal REPL and the piped mode.

`dispatch(line)` returns what the loop must do next: nothing more (a command ran), run a turn (plain text, or
`/SKILLNAME text`), or exit. Commands raise DosError subclasses for problems the user can fix; the loop prints
them as one line and goes on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dos.cli.repl.render import Out, code_blocks
from dos.cli.repl.session import CHAT_SKILL, ChatSession
from dos.core.errors import DosError, StorageError, UnknownSkill, UsageError
from dos.core.routing.policy import require


@dataclass(frozen=True)
class Turn:
    """Run a turn: `text` to `skill` (None: the active skill)."""

    text: str
    skill: str | None = None


EXIT = "exit"
DONE = "done"


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    help: str
    run: Callable[[Commands, str], object]
    complete: str | None = None  # what the argument is: skill, pack, model, path, command


class Commands:
    def __init__(self, session: ChatSession, out: Out):
        self.session = session
        self.out = out

    # -- dispatch

    def dispatch(self, line: str) -> object:
        """What to do with one submitted input."""
        text = line.strip()
        if not text:
            return DONE
        if not text.startswith("/") or text.startswith("//"):
            return Turn(line[1:] if text.startswith("//") else line)  # `//` sends a literal leading slash
        name, _, arg = text[1:].partition(" ")
        if "\n" in name:
            name, _, rest = name.partition("\n")
            arg = f"{rest} {arg}".strip() if arg else rest
        command = COMMANDS.get(name) or COMMANDS.get(ALIASES.get(name, ""))
        if command is not None:
            return command.run(self, arg.strip())
        try:  # `/SKILLNAME text`: run a skill once
            skill = self.session.resolve(name)
        except UnknownSkill as exc:
            near = f" or skill; did you mean: {', '.join(exc.near)}?" if exc.near else "; /help lists them"
            raise UsageError(f"unknown command /{name}{near}") from None
        if not arg.strip():
            raise UsageError(f"/{name} needs text: /{name} TEXT")
        return Turn(arg.strip(), skill)

    # -- the commands

    def help(self, arg: str) -> object:
        rows = [[c.usage, c.help] for c in COMMANDS.values()]
        rows.append(["/SKILL TEXT", "Run a skill once on TEXT."])
        self.out.table(["command", "what it does"], rows)
        self.out.notice('Enter sends; Esc Enter (or a """ block) for several lines; Ctrl-C stops an answer; '
                        "Ctrl-D exits.")
        return DONE

    def skill(self, arg: str) -> object:
        s = self.session
        if not arg:
            self.out.notice(f"skill: {s.skill}  (/skill NAME to change, /skill {CHAT_SKILL} for plain chat)")
            return DONE
        s.skill = s.resolve(arg)
        found = s.skill_object()
        self.out.notice(f"skill: {found.name}{' - ' + found.description if found.description else ''}")
        return DONE

    def pack(self, arg: str) -> object:
        s = self.session
        packs = s.dos.skills.packs
        if not arg:
            rows = [[p.name, "enabled" if p.enabled else "disabled", (p.pack.description if p.pack else p.error) or ""]
                    for p in packs.entries()]
            self.out.table(["pack", "state", "description"], rows)
            self.out.notice(f"active pack: {s.pack or '(none)'}")
            return DONE
        if arg in ("-", "none", "off"):
            s.pack = None
            self.out.notice("no active pack")
            return DONE
        entry = packs.find(arg)
        if entry.pack is None or not entry.enabled:
            raise UsageError(f"pack '{arg}' is {'disabled' if entry.pack else 'broken: ' + str(entry.error)}")
        s.pack = entry.name
        names = sorted({e.name for e in s.dos.skills.entries() if e.source.pack and e.source.pack.name == entry.name})
        self.out.notice(f"pack: {entry.name} - skills: {', '.join(names) or '(none)'}; /SKILL TEXT runs one")
        return DONE

    def model(self, arg: str) -> object:
        s = self.session
        if not arg:
            self.out.notice(f"model: {s.model or 'routed (' + (s.last_model or 'default') + ')'}  "
                            "(/model NAME pins one, /model auto routes again)")
            return DONE
        s.model = None if arg in ("auto", "-") else arg
        if s.model:  # a model no turn would take (its route, budgets, refuse it) is not pinned
            try:
                skill, decision = s.route()
                require(decision, skill.name)
            except DosError:
                s.model = None
                raise
        self.out.notice(f"model: {s.model or 'routed'}")
        return DONE

    def route(self, arg: str) -> object:
        """As `dos route explain`: the candidates, kept or removed (budgets too), and the chain."""
        skill, decision = self.session.route(self.session.resolve(arg) if arg else None)
        info = decision.describe()
        req = info["request"]
        sov = ",".join(req["sovereignty"]) if req["sovereignty"] is not None else "any"
        self.out.text(f"{skill.name}: prefer {req['prefer']}, sovereignty {sov}"
                      f"{', pinned ' + req['pin'] if req['pin'] else ''}")
        self.out.table(["model", "kept", "why"],
                       [[c["name"], "yes" if c["kept"] else "no", c["reason"]] for c in info["candidates"]])
        self.out.text("chain: " + (" -> ".join(info["chain"]) or "(empty: nothing satisfies the route)"))
        return DONE

    def memory(self, arg: str) -> object:
        verb, _, rest = arg.partition(" ")
        if verb != "search" or not rest.strip():
            raise UsageError("usage: /memory search WORDS")
        from dos.cli.memory_fast import words_match

        match = words_match(rest)
        if not match:
            raise UsageError("nothing to search for: give a word or two")
        events = self.session.dos.memory.search(match, limit=10)
        self.out.table(["id", "kind", "text"],
                       [[e.id, e.kind, " ".join(e.text.split())[:100]] for e in events])
        return DONE

    def remember(self, arg: str) -> object:
        if not arg:
            raise UsageError("usage: /remember TEXT")
        from dos.core.domain import Event
        from dos.core.ids import new_id

        event = self.session.dos.memory.append(
            Event(kind="note", text=arg, actor="user", session_id=self.session.session_id, turn_id=new_id()))
        self.out.notice(f"remembered: {event.id}")
        return DONE

    def correct(self, arg: str) -> object:
        ident, _, text = arg.partition(" ")
        if not ident or not text.strip():
            raise UsageError("usage: /correct ID TEXT")
        event = self.session.dos.memory.annotate("correction", text.strip(), ident)
        self.out.notice(f"corrected {ident}: {event.id}")
        return DONE

    def cost(self, arg: str) -> object:
        t = self.session.totals
        rows = [[m, str(int(r[0])), str(int(r[1])), f"${r[2]:.4f}"] for m, r in t.by_model.items()]
        rows.append(["total", str(t.turns), str(t.tokens), f"${t.cost:.4f}"])
        self.out.table(["model", "turns", "tokens", "cost"], rows)
        return DONE

    def clear(self, arg: str) -> object:
        session_id = self.session.clear()
        if self.out.rich:
            self.out.console.clear()
        self.out.notice(f"new session {session_id}")
        return DONE

    def save(self, arg: str) -> object:
        if not arg:
            raise UsageError("usage: /save FILE")
        path = Path(os.path.expanduser(arg))
        try:
            path.write_text(transcript_markdown(self.session), encoding="utf-8")
        except OSError as exc:
            raise StorageError(f"cannot write {path}: {exc.strerror or exc}") from None
        self.out.notice(f"saved {len(self.session.transcript)} messages to {path}")
        return DONE

    def copy(self, arg: str) -> object:
        from dos.cli.repl.clipboard import copy

        answer = self.session.last_answer
        if answer is None:
            raise UsageError("nothing to copy yet")
        what = "answer"
        if arg in ("code", "c"):
            blocks = code_blocks(answer)
            if not blocks:
                raise UsageError("the last answer has no code block")
            answer, what = "\n".join(blocks), "code block" if len(blocks) == 1 else f"{len(blocks)} code blocks"
        try:
            how = copy(answer)
        except OSError as exc:
            raise UsageError(f"cannot copy: {exc}") from None
        self.out.notice(f"copied the {what} ({len(answer)} characters, {how})")
        return DONE

    def exit(self, arg: str) -> object:
        return EXIT


def transcript_markdown(session: ChatSession) -> str:
    lines = [f"# dos chat {session.session_id}", "", f"_saved {datetime.now().isoformat(timespec='seconds')}_", ""]
    for said in session.transcript:
        if said.role == "user":
            who = "You" + (f" (/{said.skill})" if said.skill and said.skill != CHAT_SKILL else "")
        else:
            who = "DOS" + (f" ({said.model})" if said.model else "") + (" [interrupted]" if said.partial else "")
        lines += [f"## {who}", "", said.text.rstrip(), ""]
    return "\n".join(lines)


COMMANDS: dict[str, Command] = {c.name: c for c in (
    Command("help", "/help", "This list.", Commands.help, "command"),
    Command("skill", "/skill NAME", "Use skill NAME for the next turns (/skill chat: plain chat).", Commands.skill,
            "skill"),
    Command("pack", "/pack NAME", "Prefer pack NAME's skills; /pack alone lists packs.", Commands.pack, "pack"),
    Command("model", "/model NAME", "Pin a model for the next turns (/model auto: routed).", Commands.model, "model"),
    Command("route", "/route [SKILL]", "Explain where the next turn goes and why.", Commands.route, "skill"),
    Command("memory", "/memory search WORDS", "Search the memory log.", Commands.memory),
    Command("remember", "/remember TEXT", "Add a note to memory.", Commands.remember),
    Command("correct", "/correct ID TEXT", "Correct a memory event.", Commands.correct),
    Command("cost", "/cost", "Tokens and cost of this session.", Commands.cost),
    Command("clear", "/clear", "Start a new session.", Commands.clear),
    Command("save", "/save FILE", "Save this session as Markdown.", Commands.save, "path"),
    Command("copy", "/copy [code]", "Copy the last answer (or its code) to the clipboard.", Commands.copy),
    Command("exit", "/exit", "Leave (Ctrl-D too).", Commands.exit),
)}
ALIASES = {"quit": "exit", "q": "exit", "h": "help", "?": "help", "s": "skill", "m": "model"}
