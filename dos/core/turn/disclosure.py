"""Progressive disclosure of skills, as the Agent Skills integration guide (agentskills.io) describes it: a model that
can call tools is not given every skill's instructions but a catalog of the enabled skills (name, description, where
its SKILL.md is) within a token budget, and a `Skill` tool (Claude Code's name for it) that activates one. The full
SKILL.md body comes back as that tool's result, with the list of the files the skill bundles, which the model then
reads (`Read`) or runs (`RunScript`) when the instructions call for them.

Which turns get what:
- A turn whose request asks for the catalog (`TurnRequest.skill_catalog`: each `dos chat` turn, `dos run` without a
  skill) gets it, and the `Skill` tool, when its model can call tools (the catalog's `tools` capability, from
  LiteLLM's capability data or models.yaml). Where each SKILL.md is, only when the built-in file tools are on.
- A turn's own skill is active from the start; for a model that can call tools its system prompt is the skill's
  instructions plus its catalog of files (every file beside SKILL.md, and the folder they are in).
- A model that cannot call tools (the embedded default) gets nothing of this: its prompt is what it was.

The budget: descriptions are cut to the spec's 1,024 characters, then all shortened alike until the catalog fits;
if even `MIN_DESCRIPTION` characters each do not fit, the last skills (lowest precedence: built-in packs after the
user's own) are left out, and the catalog says how many. Sizes are estimated at 4 characters a token, as recall does.

Pure: skills come through the `SkillSource` port.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from dos.core.domain import Skill, TurnRequest
from dos.core.errors import DosError
from dos.core.ports import SkillSource
from dos.core.turn.recall import CHARS_PER_TOKEN, estimate_tokens
from dos.core.routing.policy import ModelEntry
from dos.core.skills.rules import DESCRIPTION_MAX
from dos.core.tools import BUILTIN, ToolSpec

ACTIVATE = "Skill"  # the activation tool, by Claude Code's name (its hooks' `matcher: Skill` means the same here)
DEFAULT_BUDGET = 2_000  # tokens of catalog when the model's context window is not known
MIN_BUDGET, MAX_BUDGET = 250, 4_000
BUDGET_SHARE = 50  # else 1/50 of the context window, within those bounds
MIN_DESCRIPTION = 80  # characters a description keeps before skills are left out
FILES_LISTED = 100  # files of one skill listed at most (the skills adapter stops there)
ACTIVATION_CHARS = 80_000  # of an activated skill's instructions and files, fed back whole up to this

# The plain assistant: the skill of a `dos chat` turn when none is chosen, and of `dos run` without a skill.
ASSISTANT = "chat"
ASSISTANT_BODY = ("You are DOS, a helpful assistant in the user's terminal. Answer clearly and concisely. Use Markdown; "
                  "put code in fenced code blocks with the language named.")

HEADER = ("Skills are folders of instructions, scripts and reference files for particular tasks. These are installed. "
          f"When a task matches a skill's description, call the `{ACTIVATE}` tool with the skill's name before you "
          "start: its full instructions come back, with the files it bundles.")

ACTIVATE_TOOL = ToolSpec(
    BUILTIN, ACTIVATE,
    "Activate a skill listed in <available_skills>: returns its full instructions and the list of files it bundles "
    "(read or run one only when the instructions call for it). Activate a skill before doing a task its "
    "description matches.",
    {"type": "object", "properties": {"skill": {"type": "string", "description": "The skill's name, as listed"}},
     "required": ["skill"], "additionalProperties": False})


def assistant() -> Skill:
    return Skill(ASSISTANT, "Talk with DOS.", ASSISTANT_BODY, "", "dos")


def names_no_skill(first: str) -> bool:
    """Whether the first argument of `dos run` is the prompt itself (`dos run "fill this form"`), not a skill's
    name: skill names hold no spaces. A single unknown word stays an unknown skill, with its did-you-mean."""
    return any(c.isspace() for c in first)


def budget_for(context_window: int | None) -> int:
    """Tokens the catalog may take for a model with this context window."""
    if not context_window:
        return DEFAULT_BUDGET
    return max(MIN_BUDGET, min(MAX_BUDGET, context_window // BUDGET_SHARE))


# ---------------------------------------------------------------------------------------------- the catalog


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    description: str
    location: str  # the SKILL.md


@dataclass(frozen=True)
class Catalog:
    """The catalog as the system prompt shows it, and what the budget did to it."""

    text: str
    listed: int
    left_out: int = 0  # skills not listed, for room
    cut_to: int | None = None  # the characters each description was cut to, if the budget cut them

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)


def _escape(text: str) -> str:
    if "&" in text or "<" in text or ">" in text or '"' in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return text


def _cut(text: str, limit: int) -> str:
    """`text` (escaped) in at most `limit` + 1 characters: cut at a word if one ends near, never inside an entity."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    amp = cut.rfind("&")
    if amp >= 0 and ";" not in cut[amp:]:
        cut = cut[:amp]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split()) if "\n" in text or "  " in text or "\t" in text or "\r" in text else text.strip()


def _line(name: str, description: str, location: str) -> str:
    where = f' location="{location}"' if location else ""
    return f'<skill name="{name}"{where}>{description}</skill>'


def _left_out(n: int) -> str:
    return f"({n} more skill{'s are' if n != 1 else ' is'} installed but not listed here, for room.)"


@lru_cache(maxsize=8)  # a chat or the kernel builds the same catalog turn after turn
def build_catalog(entries: tuple[CatalogEntry, ...], budget_tokens: int) -> Catalog:
    """The `<available_skills>` block for `entries` (in precedence order) in at most `budget_tokens` (estimated)."""
    budget = budget_tokens * CHARS_PER_TOKEN
    names = [_escape(e.name) for e in entries]
    places = [_escape(e.location) for e in entries]
    texts = [_escape(_one_line(e.description)) for e in entries]
    texts = [_cut(t, DESCRIPTION_MAX) for t in texts]
    frame = len(HEADER) + len("\n\n<available_skills>\n</available_skills>")
    fixed = [len(_line(n, "", p)) + 1 for n, p in zip(names, places)]  # +1: its line end

    def size(limit: int, count: int) -> int:  # an upper bound on the text with descriptions cut to `limit`
        return frame + sum(fixed[i] + min(len(texts[i]), limit + 1) for i in range(count))

    longest = max((len(t) for t in texts), default=0)
    limit, count = longest, len(entries)
    if size(limit, count) > budget:
        low, high = MIN_DESCRIPTION, longest  # the longest cut that fits, if one at least MIN_DESCRIPTION long does
        if size(low, count) > budget:
            limit, used = low, frame
            costs = [fixed[i] + min(len(texts[i]), limit + 1) for i in range(count)]
            count = 0
            for cost in costs:  # as many as fit with the line saying how many did not
                if used + cost + len(_left_out(len(entries) - count - 1)) + 1 > budget:
                    break
                used, count = used + cost, count + 1
        else:
            while low < high:
                middle = (low + high + 1) // 2
                low, high = (middle, high) if size(middle, count) <= budget else (low, middle - 1)
            limit = low
    lines = [_line(names[i], _cut(texts[i], limit), places[i]) for i in range(count)]
    left_out = len(entries) - count
    text = HEADER + "\n\n<available_skills>\n" + "".join(f"{line}\n" for line in lines) + "</available_skills>"
    if left_out:
        text += "\n" + _left_out(left_out)
    cut = any(len(t) > limit for t in texts[:count])
    return Catalog(text, count, left_out, limit if cut else None)


def catalog_entries(skills: SkillSource, active: str = "", locations: bool = True) -> tuple[CatalogEntry, ...]:
    """The enabled skills a catalog lists: usable (not broken, not waiting for `dos trust`), not shadowed by another
    of the same name, and not the one already active. `locations`: with where each SKILL.md is."""
    return tuple(CatalogEntry(i.name, i.description, i.path if locations else "") for i in skills.list()
                 if i.error is None and i.shadowed_by is None and i.name != active)


# ---------------------------------------------------------------------------------------------- a turn's disclosure


def files_section(skill: Skill) -> str:
    """A skill's catalog of files: the folder they are in and each file's path in it ('' if it bundles none)."""
    if not skill.files:
        return ""
    more = f" (the first {len(skill.files)}; there may be more)" if len(skill.files) >= FILES_LISTED else ""
    return (f"Files bundled with the skill {skill.name}{more}, in the folder {os.path.dirname(skill.path)} (paths "
            "relative to it); read or run one only when the instructions call for it:\n"
            + "\n".join(f"- {f}" for f in skill.files))


def with_files(skill: Skill) -> str:
    """The system prompt of an active skill for a model that can call tools: its instructions, then its files."""
    section = files_section(skill)
    if not section:
        return skill.body
    own = skill.instructions if skill.instructions is not None else skill.body
    return f"{own.rstrip()}\n\n{section}"


@dataclass(frozen=True)
class Activation:
    """What a call of the `Skill` tool gave: the text for the model, and the skill now active (None: refused)."""

    text: str
    skill: Skill | None = None
    error: str | None = None
    again: bool = False  # the skill was active already: its instructions were not sent again


class Disclosure:
    """Progressive disclosure for one turn: the system prompt's skill (with its files, and the catalog if offered)
    and the activation tool's calls."""

    def __init__(self, skills: SkillSource, skill: Skill, catalog: Catalog | None):
        self.skills = skills
        self.active = skill
        self.catalog = catalog
        self.tool = ACTIVATE_TOOL if catalog is not None else None  # only a catalog's turn can activate skills

    def prompt_skill(self) -> Skill:
        """The turn's skill with the system prompt this turn's model gets."""
        body = with_files(self.active)
        if self.catalog is not None:
            body = f"{body.rstrip()}\n\n{self.catalog.text}" if body.strip() else self.catalog.text
        return replace(self.active, body=body)

    def activate(self, arguments: dict[str, Any]) -> Activation:
        """Activate the skill a `Skill` call names: its instructions and files for the model, or why not."""
        name = arguments.get("skill", arguments.get("name"))
        if not isinstance(name, str) or not name.strip():
            return Activation("", error="give the skill's name as `skill`, e.g. {\"skill\": \"pdf\"}")
        name = name.strip().lstrip("/")
        if name == self.active.name:
            return Activation(f"The skill {name} is active already; its instructions are above.", self.active,
                              again=True)
        try:
            skill = self.skills.get(name)
        except DosError as exc:
            return Activation("", error=exc.message)
        own = skill.instructions if skill.instructions is not None else skill.body
        text = f'<skill_content name="{_escape(skill.name)}">\n{own.strip()}\n</skill_content>'
        if section := files_section(skill):
            text += "\n\n" + section
        self.active = skill
        return Activation(text, skill)


def disclose(skills: SkillSource, skill: Skill, request: TurnRequest, model: ModelEntry | None) -> Disclosure | None:
    """A turn's disclosure, or None when it has nothing to add: its model cannot call tools (or is not known), or
    it offers no catalog and its skill bundles no files. The catalog says where each skill is only when the turn
    has the built-in file tools (the guide's filesystem-based agent); else the `Skill` tool is the only way in, and
    the locations would cost some 20 tokens a skill for nothing."""
    if model is None or "tools" not in model.capabilities:
        return None
    catalog = None
    if request.skill_catalog:
        try:
            entries = catalog_entries(skills, skill.name, locations=BUILTIN in request.tools)
        except DosError:  # a source that cannot be listed (a broken pack): no catalog, the turn goes on
            entries = ()
        catalog = build_catalog(entries, budget_for(model.context_window)) if entries else None
    if catalog is None and not skill.files:
        return None
    return Disclosure(skills, skill, catalog)
