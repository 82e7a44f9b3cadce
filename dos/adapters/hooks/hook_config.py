"""Where hooks are declared, read into `HookSpec`s in declared order:

1. `hooks.yaml` in the user's config folder,
2. `./.dos/hooks.yaml` in the project,
3. each enabled pack's manifest `hooks` (a `pack.yaml` entry, or a Claude Code plugin's hooks/hooks.json),
4. Claude Code's project settings, `./.claude/settings.json` then `./.claude/settings.local.json`, as they are.

Every source uses Claude Code's shape, `{hooks: {EventName: [{matcher, hooks: [{type, command, timeout}]}]}}`.
DOS adds, per matcher group, `skill` and `pack` (regexes on the skill and pack name), and a hook `type: python`
with `function: module:function` (or `path/to/file.py:function`, relative to the file) or `entry_point: NAME`
(group `dos.hooks`). A DOS hooks.yaml may also name built-in hooks under `builtin:`, and set
`entry_points: true` to register every `dos.hooks` entry point named `EventName` or `EventName.label`.

A DOS hooks.yaml that is not YAML, or not a mapping, is an InvalidConfig error (a safety hook must not vanish
silently); a bad entry anywhere, and anything wrong in a pack or in Claude's settings, is a problem line and the
entry is skipped.

The project's files (2 and 4) run only if the user trusted them (`trust`, see dos.adapters.project.trust); an untrusted
one is not even read, except by `untrusted()` for `dos hooks list`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dos.adapters.files.json_text import load_json_file
from dos.adapters.files.yaml_text import line_at, load_yaml_file
from dos.adapters.hooks.declared import DeclaredIn
from dos.core.errors import InvalidConfig, InvalidSkill
from dos.core.hook_records import DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S, HookSpec
from dos.core.turn.hooks import EVENTS, FOREIGN_EVENTS, matcher_problem
from dos.core.skills.rules import Pack

USER_FILE = "hooks.yaml"
CLAUDE_SETTINGS = ("settings.json", "settings.local.json")
BUILTIN_MANIFEST = "builtin.yaml"
TOP_KEYS = {"hooks", "builtin", "entry_points"}


class HookConfig(DeclaredIn):
    """Reads every hook source; `load()` gives (specs in declared order, problems)."""

    def __init__(self, config_dir: Path, project: Path,
                 packs: list[Pack] | Callable[[], list[Pack]] | None = None, builtin_dir: Path | None = None,
                 trust: Any = None):
        """`trust.allows(project, file)` says whether a project file's hooks may run; None: they all may."""
        self.config_dir = config_dir
        self.project = project
        self._packs = packs
        self.builtin_dir = builtin_dir
        self.trust = trust

    def builtins(self) -> dict[str, dict[str, Any]]:
        return builtin_catalog(self.builtin_dir)

    def files(self) -> list[tuple[str, Path]]:
        """The files that may declare hooks, whether or not they exist."""
        out = [("user", self.config_dir / USER_FILE), ("project", self.project / ".dos" / USER_FILE)]
        out += [("claude", self.project / ".claude" / name) for name in CLAUDE_SETTINGS]
        return out

    def load(self) -> tuple[list[HookSpec], list[str]]:
        """The hooks that may run: the user's, the project's trusted files', the packs'."""
        specs: list[HookSpec] = []
        problems: list[str] = []
        for label, path in self.files()[:2]:
            if path.is_file() and self._trusted(label, path):
                s, p = self.read(path)
                specs += s
                problems += p
        for pack in self.packs:
            s, p = self._pack(pack)
            specs += s
            problems += p
        for label, path in self.files()[2:]:
            if path.is_file() and self._trusted(label, path):
                s, p = self.read(path)
                specs += s
                problems += p
        return specs, problems

    def untrusted(self) -> tuple[list[HookSpec], list[str]]:
        """The hooks of the project files the user has not trusted: shown by `dos hooks list`, never run."""
        specs: list[HookSpec] = []
        problems: list[str] = []
        for label, path in self.files():
            if path.is_file() and not self._trusted(label, path):
                s, p = self.read(path)
                specs += s
                problems += p
        return specs, problems

    def read(self, path: Path) -> tuple[list[HookSpec], list[str]]:
        """The hooks one file declares: a DOS hooks.yaml, or Claude Code's settings."""
        return self._dos_file(path) if path.name == USER_FILE else self._claude_file(path)

    # -- sources

    def _dos_file(self, path: Path) -> tuple[list[HookSpec], list[str]]:
        try:
            doc = load_yaml_file(path)
        except InvalidSkill as exc:
            raise InvalidConfig(exc.message) from None
        data = doc.data
        if data is None:
            return [], []
        if not isinstance(data, dict):
            raise InvalidConfig(f"{path}:1: must be a mapping with a 'hooks' key")
        problems = [f"{path}:{doc.lines.get(str(k), 1)}: unknown key {str(k)[:40]!r} (expected: hooks, builtin, "
                    f"entry_points)" for k in data if k not in TOP_KEYS]
        specs: list[HookSpec] = []
        if data.get("builtin") is not None:
            s, p = self._builtins(data["builtin"], path, doc.lines)
            specs += s
            problems += p
        if data.get("entry_points") is True:
            s, p = entry_point_specs()
            specs += s
            problems += p
        s, p = parse_block(data.get("hooks"), str(path), doc.lines, "hooks", base=path.parent)
        return specs + s, problems + p

    def _claude_file(self, path: Path) -> tuple[list[HookSpec], list[str]]:
        data, lines, problem = claude_settings(path)
        if problem:
            return [], [f"{problem}; its hooks are skipped"]
        if data is None or data.get("hooks") is None:
            return [], []
        if data.get("disableAllHooks") is True:
            return [], []
        return parse_block(data.get("hooks"), str(path), lines, "hooks", base=path.parent, claude=True)

    def _pack(self, pack: Pack) -> tuple[list[HookSpec], list[str]]:
        root = Path(pack.path)
        env = (("CLAUDE_PLUGIN_ROOT", str(root)), ("DOS_PACK_ROOT", str(root)))
        scope = "" if pack.kind == "claude-plugin" else f"^{re.escape(pack.name)}$"  # plugins' hooks are global
        blocks: list[tuple[Any, str, dict[str, int], str]] = []  # (block, file, its key lines, the block's path)
        files: list[tuple[Path, str]] = []  # (file, the block's key path in it)
        if pack.kind == "claude-plugin" and pack.hooks:  # read again from the plugin's own files, for their lines
            files = plugin_files(root, "hooks", "hooks/hooks.json")
        if not files and isinstance(pack.hooks, dict):
            manifest = root / ("pack.yaml" if pack.kind != "claude-plugin" else ".claude-plugin/plugin.json")
            blocks.append((pack.hooks, str(manifest), _lines_of(manifest), "hooks"))
        elif not files and isinstance(pack.hooks, (list, tuple)):
            files = [(root / rel, "") for rel in pack.hooks]
        for file, prefix in files:
            try:
                if file.suffix == ".json":
                    data, lines = load_json_file(file)
                else:
                    doc = load_yaml_file(file)
                    data, lines = doc.data, doc.lines
            except InvalidSkill as exc:
                return [], [f"pack {pack.name}: {exc.message}; its hooks are skipped"]
            if prefix:
                data = data.get(prefix) if isinstance(data, dict) else None
            blocks.append((data, str(file), lines, prefix))
        specs: list[HookSpec] = []
        problems: list[str] = []
        for block, where, lines, prefix in blocks:
            if isinstance(block, dict) and isinstance(block.get("hooks"), dict):
                block, prefix = block["hooks"], _join(prefix, "hooks")
            s, p = parse_block(block, where, lines, prefix, base=root, env=env, pack_scope=scope, claude=True)
            specs += s
            problems += p
        return specs, problems

    def _builtins(self, value: Any, path: Path, lines: dict[str, int]) -> tuple[list[HookSpec], list[str]]:
        catalog = builtin_catalog(self.builtin_dir)
        listed = isinstance(value, list)
        items = value if listed else [value]
        specs: list[HookSpec] = []
        problems: list[str] = []
        for i, item in enumerate(items):
            name, options = (next(iter(item.items())) if isinstance(item, dict) and len(item) == 1 else (item, {}))
            if not isinstance(name, str) or name not in catalog:
                known = ", ".join(sorted(catalog)) or "none"
                at = line_at(lines, f"builtin.{i}" if listed else "builtin")
                problems.append(f"{path}:{at}: no built-in hook {str(name)[:40]!r} (built-in: {known})")
                continue
            entry = catalog[name]
            opts = dict(entry.get("options") or {}) | (options if isinstance(options, dict) else {})
            specs.append(HookSpec(
                event=entry["event"], kind="python", target=str(self.builtin_dir / entry["function"]) if
                self.builtin_dir else entry["function"], origin=f"builtin ({path})",
                timeout=_timeout(entry.get("timeout"))[0], matcher=str(entry.get("matcher") or ""),
                options=tuple(sorted(opts.items())), name=f"builtin:{name}",
            ))
        return specs, problems


def claude_settings(path: Path) -> tuple[dict[str, Any] | None, dict[str, int], str | None]:
    """A settings file in Claude Code's shape (`./.claude/settings.json`, and DOS's own files of that shape, which
    declare permissions): (its mapping, the line of each key by dotted path, None); (None, {}, None) when it is JSON
    but not an object; (None, {}, the problem) when it cannot be read or is not JSON."""
    try:
        data, lines = load_json_file(path)
    except InvalidSkill as exc:
        return None, {}, exc.message
    return (data, lines, None) if isinstance(data, dict) else (None, {}, None)


def builtin_catalog(builtin_dir: Path | None) -> dict[str, dict[str, Any]]:
    """The built-in hooks (hooks/builtin.yaml): name -> event, function, description, options."""
    if builtin_dir is None or not (builtin_dir / BUILTIN_MANIFEST).is_file():
        return {}
    try:
        data = load_yaml_file(builtin_dir / BUILTIN_MANIFEST).data
    except InvalidSkill:
        return {}
    return {k: v for k, v in (data or {}).items() if isinstance(v, dict) and v.get("event") in EVENTS
            and isinstance(v.get("function"), str)}


def entry_point_specs() -> tuple[list[HookSpec], list[str]]:
    """Every `dos.hooks` entry point named `EventName` or `EventName.label`."""
    from importlib.metadata import entry_points

    specs, problems = [], []
    for ep in entry_points(group="dos.hooks"):
        event = ep.name.split(".", 1)[0]
        if event not in EVENTS:
            problems.append(f"entry point {ep.name} ({ep.value}): not named after a hook event ({', '.join(EVENTS)})")
            continue
        specs.append(HookSpec(event, "python", f"entry-point:{ep.name}", f"entry point ({ep.dist.name if ep.dist else '?'})",
                              name=ep.name))
    return specs, problems


def _timeout(value: Any) -> tuple[float, str | None]:
    if value is None:
        return DEFAULT_TIMEOUT_S, None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return DEFAULT_TIMEOUT_S, f"'timeout' must be a positive number of seconds, not {str(value)[:20]!r}"
    return min(float(value), MAX_TIMEOUT_S), None


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


def _lines_of(path: Path) -> dict[str, int]:
    """The key lines of a pack manifest (for problems in its inline `hooks:`); none if it cannot be read."""
    try:
        return load_json_file(path)[1] if path.suffix == ".json" else load_yaml_file(path).lines
    except InvalidSkill:
        return {}


def plugin_files(root: Path, key: str, default: str) -> list[tuple[Path, str]]:
    """The files a Claude Code plugin declares `key` in (see dos.adapters.skills.plugin_import.component_files)."""
    from dos.adapters.skills.plugin_import import MANIFEST, component_files, read_json

    try:
        manifest = read_json(root / MANIFEST)
    except InvalidSkill:
        return []
    return component_files(root, manifest.get(key) if isinstance(manifest, dict) else None, key, default)


def parse_block(block: Any, where: str, lines: dict[str, int] | None = None, prefix: str = "", *, base: Path,
                env: tuple[tuple[str, str], ...] = (), pack_scope: str = "",
                claude: bool = False) -> tuple[list[HookSpec], list[str]]:
    """A `hooks:` mapping in Claude Code's shape -> specs and problems (bad entries are skipped). `lines` maps
    the file's dotted key paths to lines and `prefix` is the block's own path (`hooks`), so each problem names
    the line of the offending event, group, hook or key."""
    def at(*parts: Any) -> str:
        return f"{where}:{line_at(lines or {}, '.'.join(str(p) for p in (prefix, *parts) if p != ''))}"

    if block is None:
        return [], []
    if not isinstance(block, dict):
        return [], [f"{at()}: 'hooks' must map event names to lists of matcher groups"]
    specs: list[HookSpec] = []
    problems: list[str] = []
    for event, groups in block.items():
        if event not in EVENTS:
            if event not in FOREIGN_EVENTS:
                near = [e for e in EVENTS if e.lower() == str(event).lower()]
                hint = f"; did you mean {near[0]}?" if near else f" (events: {', '.join(EVENTS)})"
                problems.append(f"{at(event)}: unknown hook event {str(event)[:40]!r}{hint}")
            continue  # Claude Code events DOS has no moment for are accepted and never fire
        if not isinstance(groups, list):
            problems.append(f"{at(event)}: {event} must be a list of matcher groups")
            continue
        for g, group in enumerate(groups):
            if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
                problems.append(f"{at(event, g)}: each {event} entry needs a 'hooks' list")
                continue
            patterns = {k: group.get(k) for k in ("matcher", "skill", "pack")}
            bad = [(k, f"'{k}' must be a string") for k, v in patterns.items() if v is not None and not isinstance(v, str)]
            bad += [(k, p) for k, v in patterns.items() if isinstance(v, str) and (p := matcher_problem(v))]
            if bad:
                problems.append(f"{at(event, g, bad[0][0])}: {event}: {bad[0][1]}; group skipped")
                continue
            for h, hook in enumerate(group["hooks"]):
                spec, problem, key = _hook(hook, event, where, base, env)
                if problem:
                    line = at(event, g, "hooks", h, *([key] if key else []))
                    skipped = "; skipped" if claude and problem.startswith("unsupported") else ""
                    problems.append(f"{line}: {event}: {problem}{skipped}")
                    continue
                assert spec is not None
                specs.append(HookSpec(
                    spec.event, spec.kind, spec.target, spec.origin, spec.timeout,
                    matcher=patterns["matcher"] or "", skill=patterns["skill"] or "",
                    pack=patterns["pack"] if patterns["pack"] is not None else pack_scope,
                    env=spec.env, options=spec.options, name=spec.name,
                ))
    return specs, problems


def _hook(hook: Any, event: str, where: str, base: Path,
          env: tuple[tuple[str, str], ...]) -> tuple[HookSpec | None, str | None, str]:
    """One hook entry -> (spec, None, "") or (None, problem, the offending key or "" for the entry)."""
    if not isinstance(hook, dict):
        return None, "each hook must be a mapping with 'type' and 'command'", ""
    kind = hook.get("type", "command")
    timeout, problem = _timeout(hook.get("timeout"))
    if problem:
        return None, problem, "timeout"
    name = hook.get("name") if isinstance(hook.get("name"), str) else ""
    if kind == "command":
        command = hook.get("command")
        if not isinstance(command, str) or not command.strip():
            return None, "a command hook needs a non-empty 'command'", "command" if "command" in hook else ""
        return HookSpec(event, "command", command, where, timeout, env=env, name=name), None, ""
    if kind == "python":
        options = hook.get("options") or {}
        if not isinstance(options, dict):
            return None, "'options' must be a mapping", "options"
        if isinstance(hook.get("entry_point"), str):
            target = f"entry-point:{hook['entry_point']}"
        elif isinstance(hook.get("function"), str) and ":" in hook["function"]:
            target = hook["function"]
            module, _, fn = target.rpartition(":")
            if module.endswith(".py") and not Path(module).expanduser().is_absolute():
                target = f"{base / module}:{fn}"
        else:
            key = "function" if "function" in hook else "entry_point" if "entry_point" in hook else ""
            return None, "a python hook needs 'function: module:function' or 'entry_point: NAME'", key
        return HookSpec(event, "python", target, where, timeout, env=env, options=tuple(sorted(options.items())),
                        name=name), None, ""
    return None, f"unsupported hook type {str(kind)[:20]!r} (DOS runs 'command' and 'python' hooks)", "type"
