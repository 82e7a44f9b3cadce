"""Rules for skills and packs: the Agent Skills spec (agentskills.io), `metadata.dos`, pack manifests,
precedence. Pure functions on plain data; parsing files is the adapters' job."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

NAME_MAX = 64
DESCRIPTION_MAX = 1024
COMPATIBILITY_MAX = 500
SPEC_FIELDS = frozenset({"name", "description", "license", "allowed-tools", "metadata", "compatibility"})
DOS_SETTINGS = frozenset({"model", "temperature", "max_tokens", "output", "route", "budget", "tools"})
OUTPUT_FORMATS = frozenset({"text", "markdown", "json"})
PACK_SETTINGS = ("model", "temperature", "max_tokens")  # under a pack's routing: generation settings, not route keys
PACK_FIELDS = frozenset({"name", "version", "description", "skills", "hooks", "mcp", "routing", "budget", "license"})


@dataclass(frozen=True)
class Problem:
    """One finding about a file: `line` is 1-based (0 when the file as a whole is at fault). An error that `loads`
    breaks the spec in a way a host can still make sense of, as Claude Code does (an over-long description, a name
    that is not the folder's): `dos skills validate` reports it as an error, yet the skill loads under its folder
    name with a warning."""

    line: int
    message: str
    severity: str = "error"  # or "warning"
    loads: bool = False

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def unusable(self) -> bool:
        """An error the skill cannot be used with."""
        return self.is_error and not self.loads


@dataclass(frozen=True)
class Pack:
    """A bounded context: skills plus the hooks, MCP servers, routing and budget defaults that go with them.
    Paths are relative to `path` and already checked not to escape it."""

    name: str
    version: str
    description: str
    path: str
    kind: str = "dos"  # or "claude-plugin"
    builtin: bool = False
    skill_dirs: tuple[str, ...] = ("skills",)
    command_dirs: tuple[str, ...] = ()
    hooks: Any = None
    mcp: Any = None
    routing: dict[str, Any] = field(default_factory=dict)
    budget: dict[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return f"{'builtin' if self.builtin else 'pack'}:{self.name}"

    def defaults(self) -> dict[str, Any]:
        """What the pack adds to each of its skills' `metadata.dos`, under the skill's own settings."""
        out: dict[str, Any] = {k: v for k, v in self.routing.items() if k in PACK_SETTINGS}
        route = {k: v for k, v in self.routing.items() if k not in PACK_SETTINGS or k == "model"}
        if route:
            out["route"] = route
        if self.budget:
            out["budget"] = dict(self.budget)
        return out


def name_problems(name: object, what: str = "name") -> list[str]:
    """Why `name` is not a valid skill or pack name (empty when it is)."""
    if not isinstance(name, str) or not name:
        return [f"'{what}' must be a non-empty string"]
    name = unicodedata.normalize("NFKC", name)
    out = []
    if len(name) > NAME_MAX:
        out.append(f"'{what}' is {len(name)} characters; the limit is {NAME_MAX}")
    if not all(c == "-" or (c.isalnum() and c == c.lower()) for c in name):
        out.append(f"'{what}' {name[:NAME_MAX]!r} may only hold lowercase letters, digits and hyphens")
    if name.startswith("-") or name.endswith("-"):
        out.append(f"'{what}' must not start or end with a hyphen")
    if "--" in name:
        out.append(f"'{what}' must not contain a double hyphen")
    return out


def slug(text: str) -> str:
    """The nearest valid name for `text` (a file or folder name from another format)."""
    chars = [c if (c.isascii() and c.isalnum()) else "-" for c in text.lower()]
    out = "-".join(part for part in "".join(chars).split("-") if part)[:NAME_MAX].strip("-")
    return out or "skill"


def check_frontmatter(meta: Mapping[str, Any], folder: str, lines: Mapping[str, int] | None = None) -> list[Problem]:
    """Every way `meta` departs from the Agent Skills spec. Bends seen in real skills (unknown fields, a
    name differing from the folder only in case) are warnings. The other departures from the spec's own fields are
    errors that still load (`Problem.loads`), as Claude Code loads them: the skill runs under its folder name
    (`run_name`), with its body's first paragraph if it has no description. Only a bad `metadata.dos` setting, which
    DOS could not apply, makes it unusable (and a file that cannot be read at all, which never gets here). `lines`
    maps dotted key paths (`metadata.dos.temperature`) to file lines; a problem gets the line of the nearest key."""
    at = lambda key: line_of(lines, key, 2)  # noqa: E731
    out: list[Problem] = []
    named = not name_problems(folder.lower())  # the folder's name can stand in for a bad or different `name`
    name = meta.get("name")
    for message in name_problems(name):
        uppercase_only = isinstance(name, str) and not name_problems(name.lower())
        out.append(Problem(at("name"), message, "warning" if uppercase_only else "error", loads=named))
    if isinstance(name, str) and name and name != folder:
        severity = "warning" if name.lower() == folder.lower() else "error"
        out.append(Problem(at("name"), f"'name' {name[:NAME_MAX]!r} must equal the folder name {folder!r}", severity,
                           loads=named))
    description = meta.get("description")
    if not isinstance(description, str) or not description.strip():
        out.append(Problem(at("description"), "'description' must be a non-empty string", loads=True))
    elif len(description) > DESCRIPTION_MAX:
        out.append(Problem(at("description"), f"'description' is {len(description)} characters; the limit is "
                                              f"{DESCRIPTION_MAX}", loads=True))
    compatibility = meta.get("compatibility")
    if compatibility is not None and (not isinstance(compatibility, str) or not 1 <= len(compatibility) <= COMPATIBILITY_MAX):
        out.append(Problem(at("compatibility"), f"'compatibility' must be a string of 1-{COMPATIBILITY_MAX} characters",
                           loads=True))
    if "license" in meta and not isinstance(meta["license"], str):
        out.append(Problem(at("license"), "'license' must be a string", "warning"))
    tools = meta.get("allowed-tools")
    if tools is not None and not isinstance(tools, str):
        ok_list = isinstance(tools, list) and all(isinstance(t, str) for t in tools)
        out.append(Problem(at("allowed-tools"), "'allowed-tools' should be a space-delimited string",
                           "warning" if ok_list else "error", loads=True))  # unreadable: it pre-approves nothing
    metadata = meta.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, Mapping):
            out.append(Problem(at("metadata"), "'metadata' must be a mapping of keys to values", loads=True))
        else:
            out += [Problem(at(f"metadata.dos.{key}" if key else "metadata.dos"), m, s)
                    for key, m, s in dos_settings_problems(metadata.get("dos"))]
    for key in meta:
        if key not in SPEC_FIELDS:
            out.append(Problem(at(str(key)), f"unknown field {str(key)[:40]!r} (not in the Agent Skills spec)", "warning"))
    return out


def run_name(meta: Mapping[str, Any], folder: str) -> str:
    """The name a skill folder runs under: its `name` when that is the folder's name in any case, else the folder's
    (lowercased), as Claude Code names a skill after its folder."""
    name = meta.get("name")
    if isinstance(name, str) and name.lower() == folder.lower() and not name_problems(name.lower()):
        return name.lower()
    return folder.lower() if not name_problems(folder.lower()) else folder


def first_paragraph(body: str, limit: int = DESCRIPTION_MAX) -> str:
    """A skill's description when its frontmatter has none: the first paragraph of its body that is not a heading,
    on one line (Claude Code's fallback)."""
    for block in body.split("\n\n"):
        text = " ".join(line.strip() for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#"))
        if text:
            return text[:limit]
    return ""


def line_of(lines: Mapping[str, int] | None, path: str, default: int = 1) -> int:
    """The line of a dotted key path, or of its nearest parent that has one, or `default`."""
    while path and lines:
        if path in lines:
            return lines[path]
        path = path.rpartition(".")[0]
    return default


def dos_settings_problems(dos: object, where: str = "metadata.dos") -> list[tuple[str, str, str]]:
    """(key, message, severity) for each bad `metadata.dos` setting; `key` is the dotted path of the offending
    key under `metadata.dos` (`temperature`, `route.colour`, `budget.weekly`), empty for `metadata.dos` itself."""
    if dos is None:
        return []
    if not isinstance(dos, Mapping):
        return [("", f"'{where}' must be a mapping", "error")]
    out = []
    temperature = dos.get("temperature")
    if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2):
        out.append(("temperature", f"'{where}.temperature' must be a number from 0 to 2", "error"))
    max_tokens = dos.get("max_tokens")
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1):
        out.append(("max_tokens", f"'{where}.max_tokens' must be a whole number of at least 1", "error"))
    if dos.get("model") is not None and not isinstance(dos.get("model"), str):
        out.append(("model", f"'{where}.model' must be a string such as local/smollm2", "error"))
    output = dos.get("output")
    if output is not None and output not in OUTPUT_FORMATS:
        out.append(("output", f"'{where}.output' must be one of {', '.join(sorted(OUTPUT_FORMATS))}", "error"))
    tools = dos.get("tools")
    if tools is not None and tools is not False and not isinstance(tools, str) and not (
            isinstance(tools, list) and all(isinstance(t, str) for t in tools)):
        out.append(("tools", f"'{where}.tools' must be a list of MCP server names (or a string of them)", "error"))
    for key in ("route", "budget"):
        if dos.get(key) is not None and not isinstance(dos.get(key), Mapping):
            out.append((key, f"'{where}.{key}' must be a mapping", "error"))
    if isinstance(dos.get("route"), Mapping):
        out += [(f"route.{k}", m, "error") for k, m in route_problems(dos["route"], f"{where}.route")]
    if isinstance(dos.get("budget"), Mapping):
        out += [(f"budget.{k}", m, "error") for k, m in budget_problems(dos["budget"], f"{where}.budget")]
    out += [(str(k), f"unknown setting '{where}.{str(k)[:40]}'", "warning") for k in dos if k not in DOS_SETTINGS]
    return out


def route_problems(route: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
    """(key, message) for each route key the router would refuse (dos.core.routing.policy.constraints_from)."""
    from dos.core.errors import UsageError
    from dos.core.routing.policy import ROUTE_KEYS, constraints_from

    out = []
    for key, value in route.items():
        if key not in ROUTE_KEYS:
            out.append((str(key), f"unknown route key '{where}.{str(key)[:40]}' (known: {', '.join(sorted(ROUTE_KEYS))})"))
            continue
        try:
            constraints_from({key: value}, where)
        except UsageError as exc:
            out.append((str(key), exc.message))
    return out


def budget_problems(budget: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
    """(period, message) for each budget entry the ledger would refuse (dos.core.routing.ledger.budgets_from)."""
    from dos.core.errors import InvalidConfig
    from dos.core.routing.ledger import budgets_from

    out = []
    for period, amount in budget.items():
        try:
            budgets_from({period: amount}, "all", "", where)
        except InvalidConfig as exc:
            out.append((str(period), exc.message))
    return out


def off_machine(settings: object, is_local: Callable[[str], bool]) -> list[str]:
    """How a skill's `metadata.dos` could send its turns to a model that is not on this machine, one phrase each
    (`pins model openai/gpt-4o`): a model it names first that `is_local` does not vouch for, a preference other than
    local-first, a route key that can leave only remote models (capabilities, tags, min_context, sovereignty without
    local). None when its route allows local models only: then nothing it names can be reached."""
    if not isinstance(settings, Mapping):
        return []
    route = settings.get("route") if isinstance(settings.get("route"), Mapping) else {}
    allowed = route.get("sovereignty")
    if isinstance(allowed, (str, list, tuple)):  # as dos.core.routing.policy reads it: names, or one comma-separated string
        allowed = {str(p).strip() for p in (allowed.split(",") if isinstance(allowed, str) else allowed)} - {""}
    else:
        allowed = None
    if allowed is not None and allowed <= {"local"}:
        return []
    out = [f"pins model {m}" for m in dict.fromkeys(str(m) for m in (settings.get("model"), route.get("model"))
                                                     if m) if not is_local(m)]
    if route.get("prefer") not in (None, "", "local-first"):
        out.append(f"prefers {route['prefer']}")
    out += [f"requires {key} {', '.join(map(str, v)) if isinstance(v := route[key], (list, tuple)) else v}"
            for key in ("capabilities", "tags", "min_context") if route.get(key)]
    if allowed is not None and "local" not in allowed:
        out.append(f"allows sovereignty {', '.join(sorted(map(str, allowed)))} only")
    return out


def inside(relative: str) -> bool:
    """Whether a manifest path stays inside its folder: relative, no drive, no `..` above the root."""
    if not relative or "\x00" in relative:
        return False
    for flavour in (PurePosixPath, PureWindowsPath):
        p = flavour(relative)
        if p.is_absolute() or p.drive or p.root:
            return False
    depth = 0
    for part in relative.replace("\\", "/").split("/"):
        depth += -1 if part == ".." else (0 if part in ("", ".") else 1)
        if depth < 0:
            return False
    return True


def path_list(value: object, key: str, default: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    """A manifest entry that is one path or a list of paths; (paths, problems)."""
    if value is None:
        return default, []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        return default, [f"'{key}' must be a path or a list of paths"]
    bad = [i for i in items if not inside(i)]
    if bad:
        return default, [f"'{key}' path {bad[0][:80]!r} escapes the pack folder"]
    return tuple(items), []


def check_pack_manifest(manifest: Mapping[str, Any], folder: str, lines: Mapping[str, int] | None = None) -> list[Problem]:
    """Every problem with a `pack.yaml` mapping."""
    at = lambda key: line_of(lines, key, 1)  # noqa: E731
    out = [Problem(at("name"), m) for m in name_problems(manifest.get("name"))]
    for key in ("version", "description"):
        value = manifest.get(key)
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
            out.append(Problem(at(key), f"'{key}' must be a non-empty string"))
    for key in ("skills", "hooks", "mcp"):
        value = manifest.get(key)
        if isinstance(value, Mapping) and key != "skills":
            continue
        out += [Problem(at(key), m) for m in path_list(value, key, ())[1]]
    for key in ("routing", "budget"):
        if manifest.get(key) is not None and not isinstance(manifest.get(key), Mapping):
            out.append(Problem(at(key), f"'{key}' must be a mapping"))
    routing = manifest.get("routing")
    if isinstance(routing, Mapping):  # what Pack.defaults() hands each skill: generation settings, then the route
        settings = {k: v for k, v in routing.items() if k in PACK_SETTINGS}
        out += [Problem(at(f"routing.{k}"), m, s) for k, m, s in dos_settings_problems(settings, "routing")]
        route = {k: v for k, v in routing.items() if k not in PACK_SETTINGS or k == "model"}
        out += [Problem(at(f"routing.{k}"), m) for k, m in route_problems(route, "routing")]
    if isinstance(manifest.get("budget"), Mapping):
        out += [Problem(at(f"budget.{k}"), m) for k, m in budget_problems(manifest["budget"], "budget")]
    out += [Problem(at(str(k)), f"unknown field {str(k)[:40]!r} in pack.yaml", "warning") for k in manifest if k not in PACK_FIELDS]
    return out


def split_address(address: str) -> tuple[str | None, str]:
    """`pack:skill` → (pack, skill); `skill` → (None, skill)."""
    pack, sep, name = address.partition(":")
    return (pack, name) if sep else (None, address)


def near_names(name: str, names: Iterable[str]) -> list[str]:
    """Up to three names close to `name`, for an UnknownSkill hint."""
    return difflib.get_close_matches(name, sorted(set(names)), n=3, cutoff=0.5)
