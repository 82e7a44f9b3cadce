"""Sync planning (issue 11): pure decisions about copies of skills in other harnesses' folders.

Three maps of `relpath -> sha256` go in, where a relpath is `<skill>/<path inside the skill folder>`:
the source (what DOS resolves now), the target's manifest (what DOS wrote there at the last sync) and the
target's current files (under the skill folders the source or the manifest name). Out comes one decision per
file, and a status per skill and per target. No I/O here: the adapter reads, hashes and writes.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# File states
IN_STEP = "in step"          # source, manifest and target agree (or source and target already agree)
NEW = "new"                  # in the source, never synced to this target
BEHIND = "behind"            # the source changed since the last sync; the target copy is untouched
DRIFTED = "drifted"          # the target copy was edited (changed, added or deleted there); the source did not change
BOTH = "both"                # both changed since the last sync, differently (a conflict)
DELETED = "deleted"          # gone from the source; the target copy is untouched, so it goes too
KEPT = "kept"                # gone from the source but edited in the target: kept, reported
UNTRACKED = "untracked"      # in the source and in the target, never written by DOS, and different

# Actions
NONE = "none"        # nothing to write (the manifest may still be updated)
WRITE = "write"      # write the source file into the target
REMOVE = "remove"    # remove the file from the target
SKIP = "skip"        # would lose an edit made in the target: reported, not written (--force overrides)

# Skill and target statuses, worst last
STATUS_ORDER = (IN_STEP, BEHIND, DRIFTED, BOTH)


@dataclass(frozen=True)
class FilePlan:
    """What happens to one file of one target."""

    path: str                 # `<skill>/<relpath>`
    state: str
    action: str
    source: str | None        # hashes: None = absent
    manifest: str | None
    target: str | None

    @property
    def skill(self) -> str:
        return skill_of(self.path)

    @property
    def recorded(self) -> str | None:
        """The hash the manifest holds for this file after the plan is carried out."""
        if self.action == WRITE:
            return self.source
        if self.action == REMOVE:
            return None
        if self.state == IN_STEP:
            return self.source
        return self.manifest  # skipped or kept: the old base, so the edit stays visible as drift


def skill_of(path: str) -> str:
    return path.split("/", 1)[0]


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a skill folder in a target (None when it can): one plain, visible path component.
    Skill names come from the command line (`pull`) and from a target's manifest, which anyone who can write
    the target folder (a cloned repository's `.claude/skills`) controls."""
    if not isinstance(name, str) or not name:
        return "is empty"
    if name in (".", "..") or "/" in name or "\\" in name or (len(name) > 1 and name[1] == ":"):
        return "is a path, not a skill name"
    if name.startswith("."):
        return "is hidden (dos never syncs hidden folders)"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "holds a control character"
    return None


def path_problem(path: str) -> str | None:
    """Why `path` cannot be a file of a target (None when it can): `<skill>/<file>` relative to the target, with
    no absolute part, no `..` or `.`, no empty component and no backslash, so joined to the target it stays inside
    it (symlinks are the adapter's to check: they need the file system)."""
    if not isinstance(path, str):
        return "is not a `<skill>/<file>` path"
    if path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":"):
        return "is absolute: outside the target"
    parts = path.replace("\\", "/").split("/")
    if ".." in parts:
        return "climbs out with '..': outside the target"
    if "\\" in path or "\0" in path:
        return "holds a backslash or a NUL: not a path dos writes"
    if len(parts) < 2 or "" in parts or "." in parts:
        return "is not a `<skill>/<file>` path"
    problem = name_problem(parts[0])
    return f"is not a `<skill>/<file>` path (the skill name {problem})" if problem else None


def plan_file(path: str, source: str | None, manifest: str | None, target: str | None, force: bool = False) -> FilePlan:
    """The decision for one file. `force` turns every skip into a write (or a remove)."""
    s, m, t = source, manifest, target

    def out(state: str, action: str) -> FilePlan:
        if action == SKIP and force:
            action = WRITE if s is not None else REMOVE
        return FilePlan(path, state, action, s, m, t)

    if s is not None:
        if t == s:
            return out(IN_STEP, NONE)           # also: converged, or a first sync onto an identical copy
        if m is None:
            return out(NEW, WRITE) if t is None else out(UNTRACKED, SKIP)
        if t == m:
            return out(BEHIND, WRITE)
        # the target differs from what DOS last wrote (edited or deleted there)
        return out(DRIFTED, SKIP) if s == m else out(BOTH, SKIP)
    if m is None:
        # only in the target, inside a skill folder DOS manages: added there
        return out(DRIFTED, SKIP)
    if t is None:
        return out(IN_STEP, NONE)               # gone from both: just forget it
    if t == m:
        return out(DELETED, REMOVE)
    return out(KEPT, SKIP)


def plan(source: Mapping[str, str], manifest: Mapping[str, str], target: Mapping[str, str],
         force: bool = False) -> list[FilePlan]:
    """One decision per file of `source`, `manifest` and `target` (sorted by path). `target` should hold the
    files under the skill folders named in `source` or `manifest` only: anything else there is not DOS's."""
    managed = {skill_of(p) for p in source} | {skill_of(p) for p in manifest}
    paths = sorted(set(source) | set(manifest) | {p for p in target if skill_of(p) in managed})
    return [plan_file(p, source.get(p), manifest.get(p), target.get(p), force) for p in paths]


def file_status(state: str) -> str:
    """A file state as one of the four statuses: in step, behind, drifted, both."""
    if state in (NEW, DELETED, BEHIND):
        return BEHIND
    if state in (DRIFTED, KEPT):
        return DRIFTED
    if state in (BOTH, UNTRACKED):
        return BOTH
    return IN_STEP


def combine(statuses: Iterable[str]) -> str:
    """Behind and drifted together make both; otherwise the worst one."""
    found = set(statuses)
    if BEHIND in found and DRIFTED in found:
        return BOTH
    return max(found, key=STATUS_ORDER.index, default=IN_STEP)


def skill_statuses(plans: Iterable[FilePlan]) -> dict[str, str]:
    by_skill: dict[str, list[str]] = {}
    for p in plans:
        by_skill.setdefault(p.skill, []).append(file_status(p.state))
    return {name: combine(states) for name, states in sorted(by_skill.items())}


def next_manifest(plans: Iterable[FilePlan], done: set[str] | None = None) -> dict[str, str]:
    """The manifest after carrying out `plans`; with `done`, only those paths' actions happened (a sync that
    failed part way records exactly what it wrote)."""
    out: dict[str, str] = {}
    for p in plans:
        happened = done is None or p.action not in (WRITE, REMOVE) or p.path in done
        value = p.recorded if happened else p.manifest
        if value is not None:
            out[p.path] = value
    return out


def explain(p: FilePlan, target: str) -> str:
    """Why a file is skipped, and what to do about it."""
    skill = p.skill
    how = f"`dos sync pull {target} {skill}` takes it back, --force overwrites"
    if p.state == DRIFTED and p.source is None:
        return f"added in the target; {how}"
    if p.state == DRIFTED and p.target is None:
        return f"deleted in the target; {how}"
    return {
        DRIFTED: f"edited in the target; {how}",
        BOTH: f"edited in the target and changed in the source; {how}",
        UNTRACKED: f"already in the target, not written by dos and different; {how}",
        KEPT: "deleted from the source but edited in the target: kept; --force removes it",
    }.get(p.state, p.state)


# --- which skills go to a target -------------------------------------------------------------------------

KINDS = ("claude", "codex", "gemini", "folder", "git")


@dataclass(frozen=True)
class TargetSpec:
    """A place skills are copied to. `path` may hold `~` and is relative to the folder DOS runs in."""

    name: str
    kind: str
    path: str
    skills: tuple[str, ...] = ("*",)     # globs over skill names
    packs: tuple[str, ...] = ()          # source names: a pack's name, "user" or "project"; empty = all
    exclude: tuple[str, ...] = ()        # globs over skill names
    preset: bool = False
    note: str = ""

    def wants(self, skill: str, source: str) -> bool:
        if self.packs and source not in self.packs:
            return False
        if not any(fnmatch.fnmatchcase(skill, g) for g in self.skills):
            return False
        return not any(fnmatch.fnmatchcase(skill, g) for g in self.exclude)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "path": self.path, "skills": list(self.skills),
                "packs": list(self.packs), "exclude": list(self.exclude), "preset": self.preset, "note": self.note}


PRESETS: dict[str, TargetSpec] = {t.name: t for t in (
    TargetSpec("claude", "claude", "~/.claude/skills", preset=True, note="Claude Code, every project"),
    TargetSpec("claude-project", "claude", ".claude/skills", preset=True, note="Claude Code, this project"),
    TargetSpec("codex", "codex", "~/.codex/skills", preset=True, note="OpenAI Codex CLI"),
    TargetSpec("gemini", "gemini", "~/.gemini/skills", preset=True,
               note="Gemini CLI (Agent Skills, v0.23+; may need experimental.skills)"),
    TargetSpec("gemini-project", "gemini", ".gemini/skills", preset=True, note="Gemini CLI, this project"),
)}
DEFAULT_PATHS = {"claude": "~/.claude/skills", "codex": "~/.codex/skills", "gemini": "~/.gemini/skills"}
RESERVED = ("status", "pull", "targets", "push")


@dataclass
class ConfigProblems:
    where: str
    found: list[str] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.found.append(f"{self.where}:{line}: {message}")


def _globs(value: Any, key: str, line: int, problems: ConfigProblems, default: tuple[str, ...]) -> tuple[str, ...]:
    if value is None:
        return default
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.add(line, f"'{key}' must be a name or a list of names (globs allowed)")
        return default
    return tuple(v.strip() for v in value)


def _line(lines: Mapping[str, int], path: str, default: int) -> int:
    """The line of a dotted key path (`targets.0.kind`) when the reader recorded it, else `default`."""
    return lines.get(path, default)


def read_targets(data: Any, lines: Mapping[str, int], where: str) -> tuple[list[TargetSpec], list[str]]:
    """Targets from sync.yaml's data: `targets:` a list of preset names or mappings
    (name, kind, path, skills, packs, exclude; `preset:` starts from a preset). Problems as `file:line: msg`,
    the line of the offending key (`lines` maps dotted key paths such as `targets.0.kind` to lines)."""
    problems = ConfigProblems(where)
    if data is None:
        return [], []
    if not isinstance(data, dict):
        return [], [f"{where}:1: must be a mapping with a 'targets' list"]
    for key in data:
        if key != "targets":
            problems.add(lines.get(key, 1), f"unknown key '{key}' (expected: targets)")
    items = data.get("targets") or []
    line = lines.get("targets", 1)
    if not isinstance(items, list):
        return [], [f"{where}:{line}: 'targets' must be a list"]
    out: list[TargetSpec] = []
    for i, item in enumerate(items, 1):
        at = f"target {i}"
        item_line = _line(lines, f"targets.{i - 1}", line)
        key_line = lambda key: _line(lines, f"targets.{i - 1}.{key}", item_line)  # noqa: E731
        if isinstance(item, str):
            item = {"preset": item}
        if not isinstance(item, dict):
            problems.add(item_line, f"{at}: must be a preset name or a mapping")
            continue
        unknown = sorted(map(str, set(item) - {"name", "kind", "path", "skills", "packs", "exclude", "preset"}))
        if unknown:
            problems.add(key_line(unknown[0]), f"{at}: unknown key '{unknown[0]}'")
        base: TargetSpec | None = None
        if "preset" in item:
            base = PRESETS.get(str(item["preset"]))
            if base is None:
                problems.add(key_line("preset"), f"{at}: unknown preset '{item['preset']}' (presets: {', '.join(PRESETS)})")
                continue
        name = item.get("name", base.name if base else None)
        kind = item.get("kind", base.kind if base else None)
        if not isinstance(name, str) or not name.strip() or "/" in name or name.startswith("-"):
            problems.add(key_line("name"), f"{at}: needs a 'name' (no '/', not starting with '-')")
            continue
        if name in RESERVED:
            problems.add(key_line("name"), f"{at}: '{name}' is a dos sync command; pick another name")
            continue
        if kind not in KINDS:
            problems.add(key_line("kind"), f"{at} ({name}): 'kind' must be one of {', '.join(KINDS)}")
            continue
        path = item.get("path", base.path if base else DEFAULT_PATHS.get(kind))
        if not isinstance(path, str) or not path.strip():
            problems.add(key_line("path"), f"{at} ({name}): needs a 'path' (kind {kind} has no default)")
            continue
        if any(t.name == name for t in out):
            problems.add(key_line("name"), f"{at}: the name '{name}' is used twice")
            continue
        out.append(TargetSpec(
            name.strip(), kind, path.strip(),
            _globs(item.get("skills"), "skills", key_line("skills"), problems, ("*",)),
            _globs(item.get("packs"), "packs", key_line("packs"), problems, ()),
            _globs(item.get("exclude"), "exclude", key_line("exclude"), problems, ()),
            note=base.note if base else "",
        ))
    return out, problems.found


# --- diffs ---------------------------------------------------------------------------------------------

def unified_diff(path: str, old: bytes | None, new: bytes | None, old_label: str, new_label: str) -> str:
    """A unified diff of one file (None = absent); binary files get one line."""
    def text(data: bytes | None) -> list[str] | None:
        if data is None:
            return []
        try:
            return data.decode("utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            return None

    a, b = text(old), text(new)
    if a is None or b is None:
        return f"Binary files {old_label}/{path} and {new_label}/{path} differ\n"
    lines = list(difflib.unified_diff(a, b, f"{old_label}/{path}" if old is not None else "/dev/null",
                                      f"{new_label}/{path}" if new is not None else "/dev/null"))
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
