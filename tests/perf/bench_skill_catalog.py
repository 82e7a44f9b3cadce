"""Progressive disclosure (issue 20, Build 1), stdlib only (plus DOS itself):

1. what the skill catalog costs a turn's prompt, in tokens, for 100 installed skills: descriptions of 100, 250
   (Anthropic's `pdf` skill has about that) and 1,024 characters (the spec's maximum), whole and within the default
   budgets; estimated as DOS does (4 characters a token) and counted with OpenAI's o200k tokenizer (bundled with
   LiteLLM, no network);
2. the latency a turn pays for it when the model calls no tool: the same in-process turn (real skill folders read
   through the real FolderSkills and its index cache, the real tool host, an instant scripted model, nothing
   recorded) for a model that cannot call tools (no catalog: today's turn) and for one that can (catalog built and
   offered), taking turns in one run; plus the catalog alone (listing the skills, building the text).

    .venv/bin/python tests/perf/bench_skill_catalog.py [--turns 200] [--skills 100]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dos.core.domain import Chunk, TurnRequest, Usage  # noqa: E402
from dos.core.routing.policy import ModelEntry, Routing  # noqa: E402
from dos.core.turn.disclosure import (  # noqa: E402
    CatalogEntry,
    assistant,
    budget_for,
    build_catalog,
    catalog_entries,
)

PDF = ("Comprehensive PDF manipulation toolkit for extracting text and tables, creating new PDFs, merging and "
       "splitting documents, and handling forms. Use when asked to fill in a PDF form or to process PDF files.")
TOOL_MODEL = ModelEntry("tool-model", capabilities=frozenset({"chat", "tools"}), context_window=128_000)
PLAIN_MODEL = ModelEntry("plain-model", capabilities=frozenset({"chat"}), context_window=4_096)


def description(chars: int) -> str:
    text = (PDF + " ") * (chars // len(PDF) + 1)
    return text[:chars].rstrip()


def make_skills(home: Path, n: int, chars: int = 250) -> None:
    root = home / "data" / "skills"
    for i in range(n):
        folder = root / f"skill-{i:03d}"
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(f"---\nname: skill-{i:03d}\ndescription: {description(chars)}\n---\n"
                                         + "Follow these steps.\n" * 40, "utf-8")


# ---------------------------------------------------------------------------------------------- tokens


def o200k() -> object:
    """A counter with gpt-4o's tokenizer (LiteLLM bundles it; imported here only)."""
    from dos.adapters.models.litellm_tokens import count_tokens

    entry = ModelEntry("gpt-4o", params={"model": "gpt-4o"})
    return lambda text: count_tokens(entry, text)


def token_table(n: int) -> None:
    count = o200k()
    location = f"{Path.home()}/.local/share/dos/skills/skill-000/SKILL.md"
    print(f"### Catalog cost for {n} skills\n")
    print(f"Locations (like {location}) are listed only when the turn has the built-in file tools.\n")
    print("| descriptions | locations | budget | listed | left out | descriptions cut to (chars) | estimated tokens "
          "| o200k tokens | o200k tokens a listed skill |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = [(chars, False) for chars in (100, 250, 1024)] + [(250, True)]
    for chars, located in rows:
        entries = tuple(CatalogEntry(f"skill-{i:03d}", description(chars),
                                     location.replace("000", f"{i:03d}") if located else "") for i in range(n))
        for label, budget in (("none", 10**9), ("2,000 (context unknown)", budget_for(None)),
                              ("2,560 (128K context)", budget_for(128_000)), ("4,000 (200K context)", budget_for(200_000))):
            found = build_catalog(entries, budget)
            exact = count(found.text)
            print(f"| {chars} chars | {'yes' if located else 'no'} | {label} | {found.listed} | {found.left_out} "
                  f"| {found.cut_to or '-'} | {found.tokens} | {exact} | {exact / max(found.listed, 1):.1f} |")
    print()


# ---------------------------------------------------------------------------------------------- latency


class Model:
    """An instant model that answers without calling a tool."""

    system = ""

    def stream(self, model, messages, *, max_tokens, temperature, **options):  # noqa: ANN001, ANN201
        self.system = messages[0]["content"]
        yield Chunk(text="Hello.")
        yield Chunk(finish_reason="stop", usage=Usage(5, 1), cost=0.0, model=model)

    def report(self) -> dict:
        return {}


class Catalog:
    """A model catalog of one model (dos.core.routing.policy.ModelCatalog)."""

    def __init__(self, entry: ModelEntry):
        self.entry = entry

    def entries(self) -> list[ModelEntry]:
        return [self.entry]

    def route_settings(self) -> dict:
        return {}

    def adhoc(self, name: str) -> ModelEntry:
        return ModelEntry(name)


class Binder:
    def __init__(self, model: Model):
        self.model = model

    def bind(self, decision: object) -> Model:
        return self.model


def latency(n: int, turns: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="dos-bench-catalog-"))
    os.environ["DOS_HOME"] = str(home)
    try:
        make_skills(home, n)
        from dos.bootstrap import SystemClock, build
        from dos.core.turn.runner import TurnRunner

        dos = build()
        tools = dos.turn_tools()
        models = {"plain": Model(), "tools": Model()}
        runners = {name: TurnRunner(dos.skills, Routing(Catalog(entry), Binder(models[name]), SystemClock()), None,
                                    SystemClock(), tools=tools)
                   for name, entry in (("plain", PLAIN_MODEL), ("tools", TOOL_MODEL))}
        request = TurnRequest(skill="chat", text="Say hello.", log=False, recall=False, skill_catalog=True)
        skill = assistant()
        for runner in runners.values():
            runner.run(request, skill=skill)
        assert "<available_skills>" not in models["plain"].system
        assert "<available_skills>" in models["tools"].system
        times: dict[str, list[float]] = {"plain": [], "tools": [], "listing": [], "building": []}
        for _ in range(turns):  # side by side: each round runs each
            for name, runner in runners.items():
                started = time.perf_counter()
                runner.run(request, skill=skill)
                times[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            entries = catalog_entries(dos.skills, "chat")
            times["listing"].append(time.perf_counter() - started)
            build_catalog.cache_clear()
            started = time.perf_counter()
            build_catalog(entries, budget_for(TOOL_MODEL.context_window))
            times["building"].append(time.perf_counter() - started)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    ms = {k: (statistics.median(v) * 1000, min(v) * 1000) for k, v in times.items()}
    print(f"### Added latency per turn, no tool called ({n} skills, {turns} turns each, taking turns)\n")
    print("| what | median ms | min ms |")
    print("| --- | ---: | ---: |")
    print(f"| turn, model without tools (no catalog: as before) | {ms['plain'][0]:.2f} | {ms['plain'][1]:.2f} |")
    print(f"| turn, model with tools (catalog offered) | {ms['tools'][0]:.2f} | {ms['tools'][1]:.2f} |")
    print(f"| added by the catalog | {ms['tools'][0] - ms['plain'][0]:.2f} | {ms['tools'][1] - ms['plain'][1]:.2f} |")
    print(f"| ratio | {ms['tools'][0] / ms['plain'][0]:.1f}x | {ms['tools'][1] / ms['plain'][1]:.1f}x |")
    print(f"| of which: listing the skills (index cache) | {ms['listing'][0]:.2f} | {ms['listing'][1]:.2f} |")
    print(f"| of which: building the catalog text (not cached) | {ms['building'][0]:.2f} | {ms['building'][1]:.2f} |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--skills", type=int, default=100)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {load[0]:.1f} at the start\n")
    token_table(args.skills)
    latency(args.skills, args.turns)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
