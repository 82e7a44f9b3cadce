"""Skills from folders: SKILL.md folders (Agent Skills), and Claude Code `commands/*.md` files in packs.
Listing reads only the frontmatter index; a skill's body is read when it is activated."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from dos.adapters.files.index_cache import IndexCache
from dos.adapters.files.yaml_text import Document, load_yaml_file, parse_frontmatter, read_text
from dos.core.domain import Skill, SkillInfo
from dos.core.errors import InvalidSkill, UnknownSkill, UsageError
from dos.core.printable import printable
from dos.core.skills.rules import (
    Pack,
    check_frontmatter,
    dos_settings_problems,
    first_paragraph,
    line_of,
    near_names,
    off_machine,
    run_name,
    slug,
    split_address,
)

PROJECT = "project"  # the label of ./.dos/skills, the folder DOS runs in (a cloned repository, maybe)
RESOURCE_DIRS = ("references", "scripts", "assets")
MAX_RESOURCES = 40
MAX_BUNDLED = 100  # files a skill's catalog of files lists: dos.core.turn.disclosure.FILES_LISTED (not imported:
# listing skills stays light)
SKIP_DIRS = frozenset({"__pycache__", "node_modules"})


@dataclass(frozen=True)
class Source:
    """A folder of skills: `kind` is "skill" (sub-folders with SKILL.md) or "command" (*.md files)."""

    label: str
    folder: Path
    kind: str = "skill"
    pack: Pack | None = None


@dataclass(frozen=True)
class Entry:
    """One skill found in one source, from the index: enough to list, validate and resolve it."""

    name: str
    description: str
    path: Path
    source: Source
    errors: tuple[str, ...] = ()  # why it cannot be used
    warnings: tuple[str, ...] = ()  # the bends first, then the spec's warnings
    shadowed_by: str | None = None
    untrusted: str | None = None  # a project skill that needs `dos trust` and lacks it: why it needs it
    bends: tuple[str, ...] = ()  # errors against the spec it loads despite: `dos skills validate` counts them

    def info(self) -> SkillInfo:
        error = f"not trusted: {self.untrusted}" if self.untrusted else self.errors[0] if self.errors else None
        return SkillInfo(self.name, self.description, str(self.path), self.source.label, error, self.shadowed_by)


class SkillFile(NamedTuple):
    """One skill file read: its document and its problems as `file:line: message`. `errors` make it unusable;
    `bends` break the spec, yet it loads (skill_rules.Problem.loads); `dos skills validate` reports both as errors."""

    doc: Document
    errors: list[str]
    warnings: list[str]
    bends: list[str]


def read_skill(path: Path, kind: str = "skill") -> SkillFile:
    """Parse one skill file; InvalidSkill (file and line) if it cannot be read: no frontmatter, broken YAML."""
    text = read_text(path)
    if kind == "command":
        return read_command(path, text)
    doc = parse_frontmatter(text, str(path))
    problems = check_frontmatter(doc.data, path.parent.name, doc.lines)
    said = lambda ps: [f"{path}:{p.line}: {p.message}" for p in ps]  # noqa: E731
    return SkillFile(doc, said(p for p in problems if p.unusable), said(p for p in problems if not p.is_error),
                     said(p for p in problems if p.is_error and p.loads))


def description_of(doc: Document) -> str:
    """A skill's description on one line: its own, else its body's first paragraph (as Claude Code falls back)."""
    description = doc.data.get("description")
    if not isinstance(description, str) or not description.strip():
        description = first_paragraph(doc.body)
    return printable(" ".join(description.split()))


def read_command(path: Path, text: str) -> SkillFile:
    """A Claude Code command: optional frontmatter (description, model, ...), a prompt body using
    $ARGUMENTS. It becomes a skill named after the file; the user's text is the user message."""
    doc = parse_frontmatter(text, str(path)) if text.startswith("---") else Document({}, {}, text, 1)
    body = doc.body.replace("$ARGUMENTS", "the user's message")
    description = doc.data.get("description")
    if not isinstance(description, str) or not description.strip():
        first = next((line.strip("# ").strip() for line in body.splitlines() if line.strip()), "")
        description = first[:200] or f"The {path.stem} command."
    data: dict[str, Any] = {"name": slug(path.stem), "description": description}
    if isinstance(doc.data.get("model"), str):
        data["metadata"] = {"dos": {"model": doc.data["model"]}}
    return SkillFile(Document(data, doc.lines, body, doc.body_line), [], [], [])


def _where_set(skill_path: Path, doc: Document, pack: Pack | None, key: str) -> str:
    """`file:line` of the setting `key` (a dotted path under metadata.dos) that made a skill invalid: the
    skill's own key if it sets one, else the pack.yaml `routing:`/`budget:` entry it inherited."""
    own = f"metadata.dos.{key}" if key else "metadata.dos"
    top = own.split(".")[2] if key else ""
    metadata = doc.data.get("metadata")
    settings = metadata.get("dos") if isinstance(metadata, dict) else None
    if pack is None or (isinstance(settings, dict) and top in settings):
        return f"{skill_path}:{line_of(doc.lines, own, 2)}"
    manifest = Path(pack.path) / "pack.yaml"
    section = "budget" if top == "budget" else "routing"
    sub = key.split(".", 1)[1] if top in ("route", "budget") and "." in key else key
    try:
        lines = load_yaml_file(manifest).lines if manifest.is_file() else {}
    except InvalidSkill:
        lines = {}
    return f"{manifest}:{line_of(lines, f'{section}.{sub}' if sub else section, 1)}"


def _record(kind: str, settings: bool = False):
    """What the index keeps of a skill file, its text printable; `settings`: its `metadata.dos` too (read afresh for
    a project's skills, never cached: it may hold any YAML value)."""
    def build(path: Path) -> dict[str, Any]:
        try:
            doc, errors, warnings, bends = read_skill(path, kind)
        except InvalidSkill as exc:
            return {"name": None, "description": "", "errors": [printable(exc.message)], "warnings": [], "bends": []}
        name = doc.data.get("name") if kind == "command" else run_name(doc.data, path.parent.name)
        record = {
            "name": name if isinstance(name, str) and not errors else None,
            "description": description_of(doc),
            "errors": [printable(e) for e in errors],
            "warnings": [printable(w) for w in bends + warnings],
            "bends": [printable(b) for b in bends],
        }
        if settings:
            metadata = doc.data.get("metadata")
            record["dos"] = metadata.get("dos") if isinstance(metadata, dict) else None
        return record

    return build


def skill_files(source: Source) -> Iterator[Path]:
    """The skill files of a source, sorted by name; a missing folder has none."""
    try:
        with os.scandir(source.folder) as it:
            children = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
    except OSError:
        return
    if source.kind == "command":  # commands/*.md, and commands/<namespace>/*.md as Claude Code allows
        yield from sorted(p for p in source.folder.rglob("*.md") if p.is_file())
        return
    for e in children:
        skill_md = os.path.join(e.path, "SKILL.md")
        if e.is_dir() and os.path.isfile(skill_md):
            yield Path(skill_md)


def resources(folder: Path) -> list[str]:
    """Relative paths of the files under references/, scripts/ and assets/ (a bounded list)."""
    found: list[str] = []
    for name in RESOURCE_DIRS:
        top = folder / name
        if not top.is_dir():
            continue
        for p in sorted(top.rglob("*")):
            if p.is_file() and len(found) < MAX_RESOURCES:
                found.append(p.relative_to(folder).as_posix())
    return found


def bundled_files(folder: Path, limit: int = MAX_BUNDLED) -> tuple[str, ...]:
    """Every file in a skill's folder but its SKILL.md, relative, sorted, at most `limit`: hidden files and folders,
    caches and node_modules are left out."""
    found: list[str] = []
    for top, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        here = Path(top).relative_to(folder)
        for name in sorted(n for n in names if not n.startswith(".")):
            if here.parts or name != "SKILL.md":
                found.append((here / name).as_posix())
                if len(found) >= limit:
                    return tuple(found)
    return tuple(found)


class EnabledPacks(Protocol):
    """What the sources need of the packs: the enabled ones (dos.adapters.skills.packs.PackStore, which reads pack
    folders with this module's readers, so this one does not import it)."""

    def enabled(self) -> list[Pack]: ...


class FolderSkills:
    """Skills from sources in precedence order: ./.dos/skills, the user's folder, enabled packs, built-ins.
    The first source holding a name wins; the others are listed as shadowed."""

    def __init__(self, roots: list[tuple[str, Path]], packs: EnabledPacks | None = None, cache: IndexCache | None = None,
                 trust: Any = None, local_model: Callable[[str], bool] = lambda _: False,
                 notice: Callable[[], None] = lambda: None, warn: Callable[[str], None] = lambda _: None):
        self.roots = roots
        self.packs: Any = packs  # the PackStore: commands also list, find and change packs through it
        self.cache = cache or IndexCache(None)
        # A project skill that takes another source's name, or may send its turns off this machine (`local_model`
        # says which models stay on it), is used once `trust.allows(folder, file)` (dos.adapters.project.trust);
        # None: always
        self.trust = trust
        self.local_model = local_model
        self.notice = notice  # says, once per command, that the folder holds untrusted files (a name was passed over)
        self.warn = warn  # says, once per skill, that a skill runs despite breaking the spec (one line)
        self._warned: set[Path] = set()

    def sources(self) -> list[Source]:
        out = [Source(label, folder) for label, folder in self.roots]
        for pack in self.packs.enabled() if self.packs is not None else []:
            root = Path(pack.path)
            out += [Source(pack.source, root / d, "skill", pack) for d in pack.skill_dirs]
            out += [Source(pack.source, root / d, "command", pack) for d in pack.command_dirs]
        return out

    def entries(self) -> list[Entry]:
        """Every skill of every source, in precedence order, with shadowing marked. An untrusted project skill that
        needs trust claims no name: the next source's skill keeps it."""
        found = [(source, path, r, _name(source, path, r)) for source, path, r in self._read(self.sources())]
        self.cache.save(prune=True)  # every source was read: what was not used is gone
        elsewhere = _holders((source, name) for source, _, _, name in found)
        project = self._project()
        untrusted = {path: reason for source, path, r, name in found if source.label == PROJECT
                     and (reason := self._needs_trust(name, r, elsewhere)) and not self._trusted(project, path)}
        winner: dict[str, str] = {}
        for _, path, _, name in found:
            if path not in untrusted:
                winner.setdefault(name, str(path))
        out = []
        for source, path, r, name in found:
            shadowed_by = winner.get(name)
            out.append(Entry(name, r.get("description", ""), path, source, tuple(r.get("errors", ())),
                             tuple(r.get("warnings", ())), None if shadowed_by == str(path) else shadowed_by,
                             untrusted.get(path), tuple(r.get("bends", ()))))
        return out

    def _read(self, sources: list[Source]) -> list[tuple[Source, Path, dict[str, Any]]]:
        """Each skill file of `sources` with its index record: a project's read afresh (whether it needs trust must
        not rest on a cached record), the others' from the cache."""
        out = []
        for source in sources:
            build = _record(source.kind, settings=source.label == PROJECT)
            for path in skill_files(source):
                out.append((source, path, build(path) if source.label == PROJECT else self.cache.get(path, build)))
        return out

    def _needs_trust(self, name: str, record: dict[str, Any], elsewhere: dict[str, str]) -> str:
        """Why a project skill needs trust ("replaces builtin:dev explain, pins model ..."), or "" if it does not."""
        reasons = [f"replaces {elsewhere[name]} {name}"] if name in elsewhere else []
        return ", ".join(reasons + off_machine(record.get("dos"), self.local_model))

    def _trusted(self, folder: Path | None, path: Path) -> bool:
        return self.trust is None or folder is not None and self.trust.allows(folder, path)

    def _project(self) -> Path | None:
        """The folder DOS runs in (./.dos/skills is its skill source), if there is a project source."""
        found = dict(self.roots).get(PROJECT)
        return found.parent.parent if found else None

    def needing_trust(self, folder: Path) -> list[tuple[Path, str]]:
        """The skill files of `folder`'s ./.dos/skills used only once trusted, each with the line that says why
        (`skill explain: replaces builtin:dev explain, pins model openai/gpt-4o`); for `dos trust`."""
        mine = self._read([Source(PROJECT, folder / ".dos" / "skills")])
        if not mine:  # most folders: no need to read the other sources
            return []
        others = [s for s in self.sources() if s.label != PROJECT]
        elsewhere = _holders((source, _name(source, path, r)) for source, path, r in self._read(others))
        self.cache.save()
        return [(path, f"skill {name}: {reason}") for source, path, r in mine
                if (reason := self._needs_trust(name := _name(source, path, r), r, elsewhere))]

    def list(self) -> list[SkillInfo]:
        return [e.info() for e in self.entries()]

    def find(self, address: str) -> Entry:
        """The entry `address` names: `skill`, or `pack:skill` / `user:skill` / `project:skill`."""
        scope, name = split_address(address)
        entries = self.entries()
        for e in entries:
            in_scope = scope is None or scope in (e.source.label, e.source.pack.name if e.source.pack else None)
            if e.name == name and in_scope and (scope is not None or e.shadowed_by is None):
                if not e.untrusted and any(x.untrusted and x.name == name for x in entries):
                    self.notice()  # the folder's own skill of this name is passed over: say why, once
                return e
        raise UnknownSkill(address, near_names(name, [e.name for e in entries]))

    def resources(self, entry: Entry) -> list[str]:
        return resources(entry.path.parent) if entry.source.kind == "skill" else []

    def folder(self, label: str) -> Path:
        """The folder of the "project" or "user" source."""
        return dict(self.roots)[label]

    def import_fabric(self, patterns: Path, label: str, force: bool) -> tuple[Path, list[str], list[str]]:
        """Import fabric patterns into the "user" or "project" folder: (folder, imported, skipped)."""
        from dos.adapters.skills.fabric_import import import_patterns

        into = self.folder(label)
        return (into, *import_patterns(patterns, into, force))

    def get(self, name: str, review: bool = False) -> Skill:
        """The skill `name` resolves to, ready to run; `review` (`dos skills show`): an untrusted one too."""
        entry = self.find(name)
        doc, errors, _, bends = read_skill(entry.path, entry.source.kind)
        if errors:
            raise InvalidSkill(f"{printable(errors[0])} (run `dos skills validate {entry.path.parent}`)")
        if bends and not review and entry.path not in self._warned:  # `dos skills show` lists them itself
            self._warned.add(entry.path)
            more = f"and {len(bends) - 1} more: " if len(bends) > 1 else ""
            self.warn(f"warning: {printable(bends[0])}; loaded as '{entry.name}' ({more}dos skills validate "
                      f"{entry.path.parent})")
        found = doc.data.get("metadata")
        metadata = dict(found) if isinstance(found, dict) else {}
        pack = entry.source.pack
        own = metadata.get("dos") if isinstance(metadata.get("dos"), dict) else {}
        metadata["dos"] = (pack.defaults() if pack else {}) | own
        if doc.data.get("allowed-tools") is not None:  # the spec's field, kept for the tool loop (dos.core.turn.tool_loop)
            metadata["allowed-tools"] = doc.data["allowed-tools"]
        bad = [(key, message) for key, message, severity in dos_settings_problems(metadata["dos"]) if severity == "error"]
        if bad:  # the skill's own settings passed above, so a pack default is at fault (or how the two combine)
            key, message = bad[0]
            raise InvalidSkill(f"{_where_set(entry.path, doc, pack, key)}: {message}")
        if entry.untrusted and not review:
            raise _untrusted(entry, entry.untrusted)
        if entry.source.label == PROJECT and not review:  # the text read now decides too, not only the listing's
            pins = off_machine(own, self.local_model)
            if pins and not self._trusted(self._project(), entry.path):
                raise _untrusted(entry, ", ".join(pins))
        body = doc.body
        if files := self.resources(entry):
            body = body.rstrip() + "\n\nFiles this skill can use (ask for one by path when needed):\n" + "\n".join(
                f"- {f}" for f in files
            )
        bundled = bundled_files(entry.path.parent) if entry.source.kind == "skill" else ()
        return Skill(entry.name, description_of(doc), body, str(entry.path), entry.source.label, metadata,
                     instructions=doc.body, files=bundled)


def _name(source: Source, path: Path, record: dict[str, Any]) -> str:
    """A skill's name: its own, else its folder's or file's (printable: a broken skill's folder may be named anything)."""
    return record.get("name") or printable(path.parent.name if source.kind == "skill" else slug(path.stem))


def _holders(named: Iterable[tuple[Source, str]]) -> dict[str, str]:
    """name -> the first source other than the project that holds it (`user`, `builtin:dev`, `pack:extra`)."""
    out: dict[str, str] = {}
    for source, name in named:
        if source.label != PROJECT:
            out.setdefault(name, source.label)
    return out


def _untrusted(entry: Entry, why: str) -> UsageError:
    return UsageError(f"skill '{entry.name}' of this folder {why}, and this folder is not trusted: review it with "
                      f"`dos skills show project:{entry.name}`, then `dos trust`")
