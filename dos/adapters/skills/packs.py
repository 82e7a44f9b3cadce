"""Packs: folders with a `pack.yaml` (or a Claude Code plugin manifest) installed in the user's packs
folder or built in. A broken pack is reported and skipped, never fatal."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dos.adapters.files.index_cache import IndexCache
from dos.adapters.files.private import private_dir, write_private
from dos.adapters.files.yaml_text import load_yaml_file
from dos.adapters.skills.fs_skills import Source, read_skill, skill_files
from dos.adapters.skills.plugin_import import is_plugin, read_plugin
from dos.core.errors import InvalidSkill, StorageError, UsageError
from dos.core.printable import printable
from dos.core.skills.rules import Pack, check_pack_manifest, name_problems, path_list

MANIFEST = "pack.yaml"
GIT_PREFIXES = ("https://", "http://", "git@", "ssh://", "git://", "git+")


@dataclass(frozen=True)
class PackEntry:
    """A pack folder as found: the pack, or why it cannot be used."""

    folder: Path
    builtin: bool
    pack: Pack | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    enabled: bool = True
    shadowed: bool = False

    @property
    def name(self) -> str:
        return self.pack.name if self.pack else printable(self.folder.name)


@dataclass
class PackState:
    """Which packs are disabled (every other pack is enabled): a small JSON file in the config folder."""

    file: Path
    disabled: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, file: Path) -> PackState:
        try:
            data = json.loads(file.read_text("utf-8"))
            return cls(file, {str(n) for n in data.get("disabled", []) if isinstance(n, str)})
        except (OSError, ValueError, AttributeError, TypeError):
            return cls(file)

    def save(self) -> None:
        try:
            private_dir(self.file.parent)
            write_private(self.file, (json.dumps({"disabled": sorted(self.disabled)}, indent=2) + "\n").encode())
        except OSError as exc:
            raise StorageError(f"cannot write {self.file}: {exc.strerror or exc}") from None


def read_pack(folder: Path, builtin: bool = False) -> tuple[Pack, list[str]]:
    """A pack from its folder (pack.yaml or .claude-plugin/plugin.json), and warnings; InvalidSkill if broken."""
    if is_plugin(folder) and not (folder / MANIFEST).is_file():
        return read_plugin(folder, builtin)
    path = folder / MANIFEST
    if not path.is_file():
        raise InvalidSkill(f"{folder}: not a pack (no {MANIFEST} or .claude-plugin/plugin.json)")
    doc = load_yaml_file(path)
    problems = check_pack_manifest(doc.data, folder.name, doc.lines)
    errors = [f"{path}:{p.line}: {p.message}" for p in problems if p.is_error]
    if errors:
        raise InvalidSkill(errors[0])
    data = doc.data

    def component(key: str) -> Any:
        value = data.get(key)
        return value if isinstance(value, dict) or value is None else path_list(value, key, ())[0]

    return Pack(
        name=data["name"],
        version=printable(str(data["version"])),
        description=printable(" ".join(str(data["description"]).split())),
        path=str(folder),
        builtin=builtin,
        skill_dirs=path_list(data.get("skills"), "skills", ("skills",))[0],
        hooks=component("hooks"),
        mcp=component("mcp"),
        routing=dict(data.get("routing") or {}),
        budget=dict(data.get("budget") or {}),
    ), [f"{path}:{p.line}: {p.message}" for p in problems if not p.is_error]


def check_tree(folder: Path) -> None:
    """Refuse a folder holding a symlink that points outside it."""
    root = folder.resolve()
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p.is_symlink() and not p.resolve().is_relative_to(root):
                raise InvalidSkill(f"{p}: symlink points outside the pack folder")


def validate_pack(folder: Path) -> tuple[Pack, list[str], list[str], list[str]]:
    """Everything wrong with a pack folder: (pack, errors, warnings, bends), bends being its skills' departures from
    the spec they load despite (fs_skills.SkillFile). Broken manifest → InvalidSkill."""
    pack, warnings = read_pack(folder)
    check_tree(folder)
    errors: list[str] = []
    bends: list[str] = []
    sources = [Source(pack.source, folder / d, "skill", pack) for d in pack.skill_dirs]
    sources += [Source(pack.source, folder / d, "command", pack) for d in pack.command_dirs]
    for source in sources:
        for path in skill_files(source):
            try:
                _, errs, warns, bent = read_skill(path, source.kind)
            except InvalidSkill as exc:
                errs, warns, bent = [exc.message], [], []
            errors += errs
            warnings += warns
            bends += bent
    return pack, errors, warnings, bends


class PackStore:
    """Installed packs (the user's packs folder), built-in packs, and which are enabled."""

    def __init__(self, user_dir: Path, builtin_dir: Path, state_file: Path, cache: IndexCache | None = None):
        self.user_dir = user_dir
        self.builtin_dir = builtin_dir
        self.state_file = state_file
        self.cache = cache or IndexCache(None)

    def _load(self, folder: Path, builtin: bool) -> dict[str, Any]:
        manifest = folder / MANIFEST if (folder / MANIFEST).is_file() else folder / ".claude-plugin" / "plugin.json"

        def build(_: Path) -> dict[str, Any]:
            try:
                pack, warnings = read_pack(folder, builtin)
                return {"pack": asdict(pack), "warnings": [printable(w) for w in warnings]}
            except InvalidSkill as exc:
                return {"error": printable(exc.message)}

        return self.cache.get(manifest, build)

    def entries(self) -> list[PackEntry]:
        """User packs then built-in packs; a user pack shadows a built-in pack of the same name."""
        disabled = PackState.load(self.state_file).disabled
        out: list[PackEntry] = []
        seen: set[str] = set()
        for root, builtin in ((self.user_dir, False), (self.builtin_dir, True)):
            try:
                folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
            except OSError:
                continue
            for folder in folders:
                r = self._load(folder, builtin)
                pack = _pack(r["pack"]) if "pack" in r else None
                name = pack.name if pack else folder.name
                entry = PackEntry(folder, builtin, pack, r.get("error"), tuple(r.get("warnings", ())),
                                  name not in disabled, name in seen)
                seen.add(entry.name)
                out.append(entry)
        return out

    def enabled(self) -> list[Pack]:
        return [e.pack for e in self.entries() if e.pack and e.enabled and not e.shadowed]

    def find(self, name: str) -> PackEntry:
        entries = self.entries()
        for e in entries:
            if e.name == name:
                return e
        known = ", ".join(e.name for e in entries) or "none"
        raise UsageError(f"no pack named '{name}' (installed: {known})")

    def set_enabled(self, name: str, enabled: bool) -> PackEntry:
        entry = self.find(name)
        state = PackState.load(self.state_file)
        (state.disabled.discard if enabled else state.disabled.add)(name)
        state.save()
        return entry

    def install(self, source: str, force: bool = False) -> tuple[Pack, list[str]]:
        """Validate a pack folder or git repository, then copy it into the user's packs folder."""
        with tempfile.TemporaryDirectory(prefix="dos-pack-") as tmp:
            folder = _fetch(source, Path(tmp)) if source.startswith(GIT_PREFIXES) else Path(source).expanduser()
            if not folder.is_dir():
                raise UsageError(f"{source}: no such folder")
            pack, errors, warnings, bends = validate_pack(folder)  # a skill that loads despite bends installs
            warnings = bends + warnings
            if errors:
                raise InvalidSkill(f"pack '{pack.name}' not installed: {errors[0]}" + (
                    f" (and {len(errors) - 1} more problems; see `dos skills validate {folder}`)" if len(errors) > 1 else ""))
            target = self.user_dir / pack.name
            if target.exists() and not force:
                raise UsageError(f"pack '{pack.name}' is already installed at {target}; use --force to replace it")
            try:
                staging = self.user_dir / f".{pack.name}.installing"
                shutil.rmtree(staging, ignore_errors=True)
                self.user_dir.mkdir(parents=True, exist_ok=True)
                shutil.copytree(folder, staging, symlinks=True, ignore=shutil.ignore_patterns(".git"))
                shutil.rmtree(target, ignore_errors=True)
                os.replace(staging, target)
            except OSError as exc:
                raise StorageError(f"cannot install into {target}: {exc.strerror or exc}") from None
        return pack, warnings

    def remove(self, name: str) -> Path:
        entry = self.find(name)
        if entry.builtin:
            raise UsageError(f"'{name}' is a built-in pack; use `dos packs disable {name}`")
        try:
            shutil.rmtree(entry.folder)
        except OSError as exc:
            raise StorageError(f"cannot remove {entry.folder}: {exc.strerror or exc}") from None
        return entry.folder

    def new(self, name: str, parent: Path) -> Path:
        """A minimal valid pack folder: pack.yaml and one skill."""
        if problems := name_problems(name):
            raise UsageError(f"bad pack name: {problems[0]}")
        folder = parent / name
        if folder.exists():
            raise UsageError(f"{folder} already exists")
        skill = folder / "skills" / f"{name}-hello"
        skill.mkdir(parents=True)
        (folder / MANIFEST).write_text(
            f"name: {name}\nversion: 0.1.0\ndescription: What the {name} pack is for.\nskills: skills\n"
            "routing: {}\nbudget: {}\n", "utf-8")
        (skill / "SKILL.md").write_text(
            f"---\nname: {name}-hello\ndescription: Say hello. Replace this with what the skill does and when to use it.\n"
            "---\nReply with a short, friendly greeting.\n", "utf-8")
        return folder


def _pack(data: dict[str, Any]) -> Pack:
    return Pack(**{k: tuple(v) if k in ("skill_dirs", "command_dirs") else v for k, v in data.items()})


def _fetch(url: str, into: Path) -> Path:
    """A shallow git clone of `url`."""
    target = into / "repo"
    url = url.removeprefix("git+")
    if url.startswith("-"):
        raise UsageError(f"{url}: not a git URL")
    try:
        subprocess.run(["git", "clone", "--depth", "1", "--quiet", "--", url, str(target)], check=True,
                       capture_output=True, timeout=300, env=os.environ | {"GIT_TERMINAL_PROMPT": "0"})
    except FileNotFoundError:
        raise UsageError("git is not installed; install it or give a local folder") from None
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git clone {url} failed: {detail[-1] if detail else exc.returncode}") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"git clone {url} timed out") from None
    return target

