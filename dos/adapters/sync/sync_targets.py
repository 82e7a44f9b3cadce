"""`dos sync` (issue 11): copies of DOS's skills in other harnesses' folders, kept in step through a manifest of
content hashes per target (`.dos-sync.json` in the target folder). The decisions are dos.core.skills.sync's; this
module reads, hashes and writes. Every write is atomic (a temp file in the same folder, then os.replace), so
a harness never reads a half-written file, and a failed sync leaves each file as it was or fully updated."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dos.context import cwd
from dos.core.skills import sync as plan_rules
from dos.core.errors import InvalidConfig, StorageError, UsageError
from dos.core.skills.sync import FilePlan, TargetSpec

if TYPE_CHECKING:
    from dos.adapters.skills.fs_skills import FolderSkills

MANIFEST = ".dos-sync.json"
TEMP_PREFIX = ".dos-sync-"
SKIP_NAMES = ("__pycache__",)
MAX_FILE_BYTES = 20_000_000


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _visible(name: str) -> bool:
    return not name.startswith(".") and name not in SKIP_NAMES


def folder_files(folder: Path) -> dict[str, Path]:
    """The files of a skill folder, by path relative to it (hidden files and __pycache__ left out)."""
    out: dict[str, Path] = {}
    if not folder.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if _visible(d))
        for name in sorted(filenames):
            p = Path(dirpath) / name
            if _visible(name) and p.is_file():
                out[p.relative_to(folder).as_posix()] = p
    return out


def hash_files(files: dict[str, Path]) -> dict[str, str]:
    out: dict[str, str] = {}
    for rel, p in files.items():
        try:
            out[rel] = sha256(p.read_bytes())
        except OSError:
            continue
    return out


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write `data` to `path` so readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _remove(path: Path, root: Path) -> None:
    """Remove a file, then the folders it leaves empty, up to (not including) `root`."""
    path.unlink(missing_ok=True)
    parent = path.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent


@dataclass(frozen=True)
class SourceSkill:
    """A skill as DOS resolves it: the winner of its name."""

    name: str
    origin: str        # "user", "project", or the pack's name
    label: str         # the source label: user, project, builtin:writing, pack:x
    folder: Path

    @property
    def editable(self) -> bool:
        return self.label in ("user", "project")


@dataclass
class TargetReport:
    """One target's sync (or status): its plan, what was done, what went wrong."""

    spec: TargetSpec
    path: Path
    plans: list[FilePlan] = field(default_factory=list)
    done: set[str] = field(default_factory=set)
    skipped_changed: set[str] = field(default_factory=set)   # edited between the scan and the write
    error: str | None = None
    notes: list[str] = field(default_factory=list)       # about this target (e.g. git)
    warnings: list[str] = field(default_factory=list)    # about the source (skills that cannot be synced)
    diffs: list[str] = field(default_factory=list)

    @property
    def skills(self) -> dict[str, str]:
        return plan_rules.skill_statuses(self.plans)

    @property
    def status(self) -> str:
        return "failed" if self.error else plan_rules.combine(self.skills.values())

    @property
    def changes(self) -> list[FilePlan]:
        return [p for p in self.plans if p.action in (plan_rules.WRITE, plan_rules.REMOVE)]

    @property
    def skips(self) -> list[FilePlan]:
        return [p for p in self.plans if p.action == plan_rules.SKIP or p.path in self.skipped_changed]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.spec.name, "kind": self.spec.kind, "path": str(self.path), "status": self.status,
            "error": self.error, "skills": self.skills, "notes": self.notes, "warnings": self.warnings,
            "files": [{"path": p.path, "state": p.state, "action": p.action, "done": p.path in self.done,
                       **({"why": plan_rules.explain(p, self.spec.name)} if p in self.skips else {})}
                      for p in self.plans if p.state != plan_rules.IN_STEP or p.action != plan_rules.NONE],
            **({"diff": "".join(self.diffs)} if self.diffs else {}),
        }


@dataclass
class PullReport:
    target: str
    skill: str
    into: Path
    source_label: str
    copied: bool            # True: the source was a built-in or a pack, so the edit went to the user's folder
    written: list[str]
    removed: list[str]


class SyncTargets:
    """Targets from `sync.yaml` and the built-in presets; sync, status, pull and watch."""

    def __init__(self, skills: FolderSkills, config_dir: Path, user_skills: Path):
        self.skills = skills
        self.config_file = config_dir / "sync.yaml"
        self.user_skills = user_skills

    # --- configuration ---------------------------------------------------------------------------------

    def configured(self) -> list[TargetSpec]:
        """The targets in sync.yaml; InvalidConfig (file and line) if it is broken."""
        if not self.config_file.is_file():
            return []
        from dos.adapters.files.yaml_text import parse_yaml, read_text
        from dos.core.errors import InvalidSkill

        try:
            data, lines = parse_yaml(read_text(self.config_file, 256_000), str(self.config_file))
        except InvalidSkill as exc:
            raise InvalidConfig(exc.message) from None
        targets, problems = plan_rules.read_targets(data, lines, str(self.config_file))
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise InvalidConfig(problems[0] + more)
        return targets

    def available(self) -> list[TargetSpec]:
        """Configured targets, then the presets no configured target is named after."""
        mine = self.configured()
        return mine + [p for name, p in plan_rules.PRESETS.items() if name not in {t.name for t in mine}]

    def resolve(self, names: Iterable[str]) -> list[TargetSpec]:
        names = list(dict.fromkeys(names))
        mine = self.configured()
        if not names:
            # Only what the user configured: never a preset because its folder holds a manifest, which anyone
            # who can write that folder (a cloned repository's ./.claude/skills) can put there.
            if mine:
                return mine
            raise UsageError(f"no targets in {self.config_file}; name one (e.g. `dos sync claude`) "
                             "or list them there; see `dos sync targets`")
        known = {t.name: t for t in self.available()}
        out = []
        for n in names:
            if n not in known:
                raise UsageError(f"no sync target named '{n}' (known: {', '.join(known)}); see `dos sync targets`")
            out.append(known[n])
        return out

    def path_of(self, spec: TargetSpec) -> Path:
        p = Path(os.path.expanduser(spec.path))
        return p if p.is_absolute() else cwd() / p

    def real_root(self, spec: TargetSpec) -> tuple[Path, Path]:
        """The target's folder as configured, and where it really is (symlinks followed): everything dos writes
        or removes must resolve inside the latter. A relative target (a project preset) must stay inside the
        folder dos runs in, so a cloned repository's `.claude -> ~` cannot point it at the user's files."""
        root = self.path_of(spec)
        try:
            real = root.resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise StorageError(f"{root} cannot be resolved ({exc})") from None
        if not Path(os.path.expanduser(spec.path)).is_absolute() and not real.is_relative_to(cwd().resolve()):
            raise StorageError(f"{root} leads outside {cwd()} (to {real}) through a symlink; nothing written or "
                               "removed (give the target an absolute path in sync.yaml to sync there)")
        if root.exists() and not root.is_dir():
            raise StorageError(f"{root} is not a folder")
        return root, real

    # --- the source ------------------------------------------------------------------------------------

    def source(self) -> tuple[dict[str, SourceSkill], list[SourceSkill]]:
        """The skills DOS resolves (winners only), and the Claude Code commands among them, which are files, not
        skill folders, and are not synced."""
        out: dict[str, SourceSkill] = {}
        commands: list[SourceSkill] = []
        for e in self.skills.entries():
            if e.shadowed_by is not None or e.untrusted:  # an untrusted project skill is not used, so not copied
                continue
            origin = e.source.pack.name if e.source.pack else e.source.label
            found = SourceSkill(e.name, origin, e.source.label, e.path.parent)
            if e.source.kind != "skill":
                commands.append(found)
            else:
                out[e.name] = found
        return out, commands

    @staticmethod
    def unsynced(spec: TargetSpec, commands: list[SourceSkill]) -> list[str]:
        """One line per source of the commands this target would want but cannot get."""
        by_source: dict[str, list[str]] = {}
        for c in commands:
            if spec.wants(c.name, c.origin):
                by_source.setdefault(c.label, []).append(c.name)
        return [f"{len(names)} Claude Code command{'s' if len(names) > 1 else ''} from {label} "
                f"({', '.join(sorted(names))}) {'are not skill folders' if len(names) > 1 else 'is not a skill folder'}"
                ": not synced"
                for label, names in by_source.items()]

    def wanted(self, spec: TargetSpec, source: dict[str, SourceSkill]) -> dict[str, SourceSkill]:
        return {n: s for n, s in source.items() if spec.wants(n, s.origin)}

    @staticmethod
    def source_files(skills: dict[str, SourceSkill]) -> dict[str, Path]:
        return {f"{name}/{rel}": p for name, s in skills.items() for rel, p in folder_files(s.folder).items()}

    # --- a target --------------------------------------------------------------------------------------

    @staticmethod
    def read_manifest(root: Path) -> dict[str, str]:
        try:
            data = json.loads((root / MANIFEST).read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StorageError(f"cannot read {root / MANIFEST}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise StorageError(f"{root / MANIFEST}: not a dos sync manifest ({exc}); move it away") from None
        files = data.get("files") if isinstance(data, dict) else None
        return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}

    @classmethod
    def checked_manifest(cls, root: Path, real: Path) -> dict[str, str]:
        """The manifest, every entry a `<skill>/<file>` inside the target; StorageError (one line) otherwise, so
        a hostile manifest (`../x`, `/home/u/x`) gets nothing written or removed, with or without --force."""
        manifest = cls.read_manifest(root)
        for rel in manifest:
            problem = plan_rules.path_problem(rel)
            if problem:
                raise StorageError(f"{root / MANIFEST}: the entry {rel!r} {problem}; nothing written or removed "
                                   "(move the manifest away if dos did not write it)")
        inside(root, real, manifest)
        return manifest

    @staticmethod
    def write_manifest(root: Path, spec: TargetSpec, files: dict[str, str], source: dict[str, SourceSkill]) -> None:
        skills = sorted({plan_rules.skill_of(p) for p in files})
        data = {"version": 1, "written_by": "dos sync", "target": spec.name, "kind": spec.kind,
                "skills": {n: source[n].label if n in source else None for n in skills},
                "files": dict(sorted(files.items()))}
        write_atomic(root / MANIFEST, (json.dumps(data, indent=2) + "\n").encode())

    @staticmethod
    def target_files(root: Path, skills: Iterable[str]) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for name in sorted(set(skills)):
            out |= {f"{name}/{rel}": p for rel, p in folder_files(root / name).items()}
        return out

    def _plan(self, spec: TargetSpec, source: dict[str, SourceSkill], force: bool
              ) -> tuple[TargetReport, dict[str, Path], dict[str, Path]]:
        root, real = self.real_root(spec)
        report = TargetReport(spec, root)
        wanted = self.wanted(spec, source)
        src = self.source_files(wanted)
        manifest = self.checked_manifest(root, real)
        managed = set(wanted) | {plan_rules.skill_of(p) for p in manifest}
        tgt = self.target_files(root, managed)
        inside(root, real, [*src, *tgt])  # every path written, removed or hashed, before any of it happens
        report.plans = plan_rules.plan(hash_files(src), manifest, hash_files(tgt), force)
        return report, src, tgt

    def status(self, names: Iterable[str] = ()) -> list[TargetReport]:
        specs = self.resolve(names)
        source, commands = self.source()
        reports = []
        for spec in specs:
            try:
                report = self._plan(spec, source, False)[0]
            except (StorageError, OSError) as exc:
                report = TargetReport(spec, self.path_of(spec), error=_reason(exc))
            report.warnings = self.unsynced(spec, commands)
            reports.append(report)
        return reports

    def sync(self, names: Iterable[str] = (), dry_run: bool = False, force: bool = False,
             specs: list[TargetSpec] | None = None) -> list[TargetReport]:
        specs = specs if specs is not None else self.resolve(names)
        source, commands = self.source()
        reports = []
        for spec in specs:
            try:
                report, src, tgt = self._plan(spec, source, force)
            except (StorageError, OSError) as exc:
                reports.append(TargetReport(spec, self.path_of(spec), error=_reason(exc),
                                            warnings=self.unsynced(spec, commands)))
                continue
            report.warnings = self.unsynced(spec, commands)
            if dry_run:
                report.diffs = [self._diff(p, spec, src, tgt) for p in report.changes]
            else:
                self._apply(report, src, tgt, source)
            reports.append(report)
        return reports

    @staticmethod
    def _diff(p: FilePlan, spec: TargetSpec, src: dict[str, Path], tgt: dict[str, Path]) -> str:
        old = tgt[p.path].read_bytes() if p.path in tgt else None
        new = src[p.path].read_bytes() if p.action == plan_rules.WRITE else None
        return plan_rules.unified_diff(p.path, old, new, spec.name, "dos")

    def _apply(self, report: TargetReport, src: dict[str, Path], tgt: dict[str, Path],
               source: dict[str, SourceSkill]) -> None:
        root = report.path
        real = root.resolve()
        before = self.read_manifest(root) if root.is_dir() else {}
        try:
            for p in report.changes:
                dest = root / p.path
                inside(root, real, [p.path])  # again, right before: a folder may have become a symlink since
                if _hash_or_none(dest) != p.target:  # edited since the scan: never overwrite it silently
                    report.skipped_changed.add(p.path)
                    continue
                if p.action == plan_rules.WRITE:
                    data = src[p.path].read_bytes()
                    if sha256(data) != p.source:  # the source changed since the scan; the next sync takes it
                        continue
                    write_atomic(dest, data, src[p.path].stat().st_mode)
                else:
                    _remove(dest, root)
                report.done.add(p.path)
        except (OSError, StorageError) as exc:
            report.error = _reason(exc)
        finally:
            after = plan_rules.next_manifest(report.plans, report.done)
            if after != before and (report.done or root.is_dir()):
                try:
                    self.write_manifest(root, report.spec, after, source)
                except OSError as exc:
                    report.error = report.error or _reason(exc)
        if report.spec.kind == "git" and report.done and not report.error:
            note = _git_commit(root, sorted(report.done) + [MANIFEST])
            if note:
                report.notes.append(note)

    # --- pull ------------------------------------------------------------------------------------------

    def pull(self, target: str, skill: str) -> PullReport:
        """Take a target's copy of a skill back into the source: the skill's own folder if it is the user's or
        the project's, else (a built-in or a pack) a new folder in the user's skills folder that shadows it."""
        spec = self.resolve([target])[0]
        problem = plan_rules.name_problem(skill)
        if problem:
            raise UsageError(f"the skill name {skill!r} {problem}; name a skill folder of {spec.name} "
                             f"(`dos sync status {spec.name}` lists them)")
        root, real = self.real_root(spec)
        folder = root / skill
        if not (folder / "SKILL.md").is_file():
            raise UsageError(f"target '{spec.name}' has no skill '{skill}' ({folder}/SKILL.md is missing)")
        manifest = self.checked_manifest(root, real)
        theirs = folder_files(folder)
        inside(root, real, [f"{skill}/{rel}" for rel in ["SKILL.md", *theirs]])  # read nothing from elsewhere
        source, _ = self.source()
        own = source.get(skill)
        copied = own is None or not own.editable
        into = self.user_skills / skill if copied else own.folder
        if copied and into.exists() and own is not None and own.folder != into:
            raise UsageError(f"{into} exists but is not the skill dos resolves; move it away first")
        mine = folder_files(into)
        written, removed = [], []
        try:
            for rel, p in theirs.items():
                data = p.read_bytes()
                if rel not in mine or sha256(mine[rel].read_bytes()) != sha256(data):
                    write_atomic(into / rel, data, p.stat().st_mode)
                    written.append(rel)
            for rel, p in mine.items():  # deleted in the target after a sync: delete in the source too
                if rel not in theirs and f"{skill}/{rel}" in manifest:
                    _remove(p, into)
                    removed.append(rel)
            kept = {k: v for k, v in manifest.items() if plan_rules.skill_of(k) != skill}
            kept |= {f"{skill}/{rel}": sha256(p.read_bytes()) for rel, p in theirs.items()}
            source_after = dict(source)
            source_after[skill] = SourceSkill(skill, "user" if copied else own.origin,
                                              "user" if copied else own.label, into)
            self.write_manifest(root, spec, kept, source_after)
        except OSError as exc:
            raise StorageError(f"cannot pull {skill} from {spec.name}: {_reason(exc)}") from None
        return PullReport(spec.name, skill, into, own.label if own else "none", copied, written, removed)

    # --- watch -----------------------------------------------------------------------------------------

    def watch(self, names: Iterable[str], force: bool, on_round: Callable[[list[TargetReport]], None],
              debounce: float = 0.3, stop: threading.Event | None = None,
              on_ready: Callable[[list[Path]], None] | None = None) -> None:
        """Sync now, then again after every change to the source or a target (debounced), until `stop` is set
        or Ctrl-C. Our own writes wake it too; that round finds everything in step and changes nothing."""
        import logging

        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        logging.getLogger("watchdog").setLevel(logging.CRITICAL)  # no "emitter inactive" noise at Ctrl-C

        specs = self.resolve(names)
        stop = stop or threading.Event()
        woken = threading.Event()
        last = [0.0]

        class Wake(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                path = os.fsdecode(getattr(event, "dest_path", "") or event.src_path)
                if os.path.basename(path).startswith(TEMP_PREFIX) or event.event_type in ("opened", "closed_no_write"):
                    return
                last[0] = time.monotonic()
                woken.set()

        on_round(self.sync(specs=specs, force=force))
        observer = Observer()
        watched: list[Path] = []
        try:
            self.user_skills.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass
        folders = [s.folder for s in self.skills.sources()] + [self.path_of(s) for s in specs]
        for folder in dict.fromkeys(folders):
            if folder.is_dir():
                observer.schedule(Wake(), str(folder), recursive=True)
                watched.append(folder)
        observer.start()
        try:
            if on_ready:
                on_ready(watched)
            while not stop.is_set():
                if not woken.wait(0.1):
                    continue
                while time.monotonic() - last[0] < debounce and not stop.is_set():
                    time.sleep(min(0.05, debounce))
                woken.clear()
                on_round(self.sync(specs=specs, force=force))
        finally:
            observer.stop()
            observer.join(timeout=2)


def inside(root: Path, real: Path, paths: Iterable[str]) -> None:
    """StorageError (one line) unless every `root/path` resolves inside `real` (the target, symlinks followed):
    a skill folder, a subfolder or a file that is a symlink out of the target is never written, removed or read."""
    for rel in paths:
        try:
            where = (root / rel).resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop: RuntimeError up to Python 3.12, OSError after
            raise StorageError(f"{str(root / rel)!r} cannot be resolved ({exc}); nothing written or removed") from None
        if where != real and not where.is_relative_to(real):
            # repr: the names come from the target folder, so they may hold newlines or escape codes
            raise StorageError(f"{str(root / rel)!r} leads outside the target (to {str(where)!r}) through a "
                               "symlink; nothing written or removed")


def _hash_or_none(path: Path) -> str | None:
    try:
        return sha256(path.read_bytes())
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        return "<folder>"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    return getattr(exc, "message", str(exc))


def _git_commit(root: Path, paths: list[str]) -> str | None:
    """Commit what a sync changed in a `git` target (initialising the repository if needed); never push.
    Returns a note if git is missing or the commit failed."""
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=60,
                              env=os.environ | {"GIT_TERMINAL_PROMPT": "0"})

    try:
        if git("rev-parse", "--is-inside-work-tree").returncode != 0:
            git("init", "-q")
        who = [] if git("config", "user.email").stdout.strip() else ["-c", "user.name=dos sync", "-c", "user.email=dos@localhost"]
        git("add", "-A", "--", *paths)
        done = git(*who, "commit", "-q", "-m", f"dos sync: {len(paths) - 1} files", "--", *paths)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"git commit skipped: {exc}"
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        return f"git commit failed: {detail[-1] if detail else done.returncode}"
    return None
