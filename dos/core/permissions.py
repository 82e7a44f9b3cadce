"""Tool permissions in Claude Code's own format: which tool calls run, which ask a person first, which never run.
Pure: rules and calls in, a `Verdict` out; reading the files that declare rules is the adapters' job
(dos.adapters.project.permissions).

Rules. A rule is `Tool` (every use of the tool) or `Tool(specifier)`; `Tool(*)` is the same as `Tool`. They come in
three lists, `permissions.allow`, `permissions.ask` and `permissions.deny`, of a settings file in Claude Code's
shape (`{"permissions": {"allow": [...], "ask": [...], "deny": [...], "defaultMode": "...",
"additionalDirectories": [...]}}`), from the command line (`--allow RULE`), and from the active skill's
`allowed-tools` (allow rules: the skill pre-approves its tools). Each `Rule` keeps its origin (a file, `--allow`,
`skill pdf`) so a verdict can say where it came from. A malformed rule is a `UsageError` with one clear line
(`parse_rule`); a settings file's bad rule becomes a problem line and is skipped (`declared`).

- `Bash(npm run build)`: that command exactly. `*` matches any text, spaces included, anywhere in the rule:
  `Bash(git * main)`. A rule ending in ` *` with no other `*` also matches the bare command, and the space is a word
  boundary: `Bash(ls *)` matches `ls` and `ls -la`, not `lsof`; `Bash(ls*)` matches all three. The older `:*` suffix
  means the same as ` *` (`Bash(npm run test:*)` = `Bash(npm run test *)`) and may only end a rule.
  Compound commands are split on `&&`, `||`, `;`, `|`, `|&`, `&` and newlines (outside quotes); an allow rule
  approves a compound command only if every part is allowed (each by some rule), so `Bash(safe *)` never approves
  `safe && other`. Before matching, leading `timeout`, `time`, `nice`, `nohup` and `stdbuf` wrappers and trailing
  `2>&1` / `>/dev/null` redirections are set aside, as Claude Code does. A command holding `$(...)`, backticks,
  `<(...)`, a subshell `( )` or an unclosed quote is approved only by a rule for all of Bash. Deny and ask rules
  look harder (each part, and each fragment between operators or inside substitutions, also without leading
  `VAR=value`, `sudo`, `env`, `command`, `exec`, `xargs` or a program's directory), but, as Claude Code's own page
  says, a Bash deny rule is not a security boundary around a program: `Bash(rm *)` does not stop a script that
  deletes files.
- `Read(path)` and `Edit(path)` take gitignore-style patterns: `//abs/path` from the filesystem root, `~/path` from
  the home folder, `/path` from the folder the settings belong to (the project of a `./.dos` or `./.claude` file;
  the working folder for the user's own file and the command line), `path` or `./path` from the working folder.
  `*` matches within one folder name, `**` across folders; a pattern without a `/` matches a name at any depth
  (`Read(*.env)`), and a pattern matching a folder covers everything in it. `Read` rules apply to every tool that
  reads files (Read, Glob, Grep, LS, NotebookRead; for searches the tool skips what `Permissions.hides`); rules of
  any editing tool (Edit, Write, MultiEdit, NotebookEdit) apply to all of them. Deny and ask path rules ignore
  case; allow rules do not. Paths are compared as given, `..` collapsed: the tool resolves symlinks first.
- `WebFetch(domain:example.com)`: fetches from that host (`domain:*.example.com` for its subdomains).
- `mcp__server` or `mcp__server__*`: every tool of that MCP server; `mcp__server__tool`: one tool. MCP tools are
  named `mcp__SERVER__TOOL` here, as in Claude Code. A skill's `allowed-tools` may also name DOS's `SERVER__TOOL`.
- Another tool with a specifier matches on its main argument where one is known (`Agent(Explore)` on
  `subagent_type`, `Skill(pdf)` on `skill`), else only as a bare name.

Order. Deny rules first, then ask, then allow, whatever their origin; the first match decides and specificity does
not change that order: `Bash(aws *)` denied beats `Bash(aws s3 ls)` allowed. Then the mode:

- `default`: reads inside the working folders (the folder DOS runs in, `additionalDirectories`, the active skill's
  folder) need no permission; everything else asks.
- `acceptEdits`: also accepts edits inside the working folders (not the skill's folder, nor `.git`, `.dos`,
  `.claude`, `.vscode` or `.idea`, except `.claude/commands|agents|skills` and `.dos/skills`).
- `plan`: only reads run; any other call is denied, allow rules or not.
- `dontAsk`: nothing asks; what would ask is denied (reads inside the working folders still run).
- `bypassPermissions`: everything runs but what a deny or ask rule names, and edits of those protected folders,
  which ask. A settings file's `disableBypassPermissionsMode: "disable"` turns this mode off.

Shapes for the callers (not in this module: running tools, prompting, the flags; dos.core.turn.tool_gate wires them
into a turn's tool loop):
- `Permissions.decide(tool_name, arguments, cwd) -> Verdict(behavior, rule, reason)`, behavior `allow`, `ask` or
  `deny`; `reason` is one line naming the rule and its origin, or the mode. On a terminal an `ask` is a prompt
  (allow once / always for this folder / deny); without one (pipes, scripts, `dos serve`) the caller treats it as
  a deny and reports the reason; `suggest_rules` gives the rules "always for this folder" would save.
- `--allow RULE` / `--deny RULE`: `parse_rule(text, origin="--allow")`, then `permissions.with_rules(ALLOW, [...])`.
- `--permission-mode MODE`: `parse_mode(text)`, then `permissions.with_mode(mode)`.
- The active skill: `permissions.with_skill(name, skill.metadata.get("allowed-tools"), folder)` -> (permissions,
  problems): its tools pre-approved, its folder readable.
- `declared(block, origin, base, lines)`: one settings file's `permissions` -> (`Declared`, problems), and
  `combine([...])` the declared files in precedence order (later files set the mode) -> `Permissions`.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from dos.core.errors import UsageError

ALLOW, ASK, DENY = "allow", "ask", "deny"
BEHAVIORS = (DENY, ASK, ALLOW)  # the order rules are checked in
MODES = ("default", "acceptEdits", "plan", "dontAsk", "bypassPermissions")
BASH = "Bash"
READ_TOOLS = frozenset({"Read", "Glob", "Grep", "LS", "NotebookRead"})
EDIT_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"})
FETCH = "WebFetch"
MCP_PREFIX = "mcp__"
KNOWN_TOOLS = READ_TOOLS | EDIT_TOOLS | {BASH, FETCH, "WebSearch", "Agent", "Task", "Skill", "TodoWrite",
                                        "BashOutput", "KillShell", "ExitPlanMode", "SlashCommand", "RunScript"}
SPECIFIER_ARGS = {"Agent": "subagent_type", "Task": "subagent_type", "Skill": "skill",
                  "RunScript": "script"}  # DOS's: a script of the active skill, `RunScript(scripts/*.py)`
PATH_ARGS = ("file_path", "notebook_path", "path")
SEARCH_TOOLS = frozenset({"Glob", "Grep", "LS"})  # their path is a folder searched
PROTECTED = (".git", ".dos", ".claude", ".vscode", ".idea")  # edits here ask even in acceptEdits / bypassPermissions
UNPROTECTED = (".claude/commands", ".claude/agents", ".claude/skills", ".dos/skills")
SETTINGS_KEYS = frozenset({"allow", "ask", "deny", "defaultMode", "additionalDirectories",
                           "disableBypassPermissionsMode"})
WRAPPERS = re.compile(  # process wrappers set aside before matching (their options and durations with them)
    r"^(?:timeout(?:\s+(?:-[sk]\s+\S+|--?[A-Za-z][\w-]*(?:=\S+)?))*\s+\d+(?:\.\d+)?[smhd]?"
    r"|time(?:\s+-p)?|nohup"
    r"|nice(?:\s+(?:-n\s*-?\d+|-\d+|--adjustment=-?\d+))?"
    r"|stdbuf(?:\s+(?:-[ioe]\s*\S+|--(?:input|output|error)=\S+))+)\s+")
QUIET_REDIRECT = re.compile(r"\s+(?:\d*>&\d+|&>>?\s*/dev/null|\d*>>?\s*/dev/null)$")
ENV_ASSIGNMENT = re.compile(r"^(?:[A-Za-z_]\w*=(?:'[^']*'|\"[^\"]*\"|\S*)\s+)+")
DENY_PREFIXES = re.compile(r"^(?:sudo|env|command|exec|xargs|builtin)(?:\s+-[\w-]+)*\s+")
FRAGMENT_SPLIT = re.compile(r"&&|\|\||[;&|\n()`]|\$\(|<\(|>\(")
TOOL_NAME = re.compile(r"[A-Za-z][\w.-]*")
MCP_NAME = re.compile(r"mcp__[\w.*-]+")


@dataclass(frozen=True)
class Rule:
    """One permission rule and where it was written: `origin` a file, `--allow` or `skill NAME`; `base` the folder a
    `/path` pattern is relative to (empty: the working folder); `line` its line in the file (0: none)."""

    tool: str
    specifier: str | None = None
    origin: str = ""
    base: str = ""
    line: int = 0

    def __str__(self) -> str:
        return self.tool if self.specifier is None else f"{self.tool}({self.specifier})"

    @property
    def whole(self) -> bool:
        """A rule for every use of its tool: `Tool`, or `Tool(*)`."""
        return self.specifier is None or self.specifier.strip() == "*"

    @property
    def where(self) -> str:
        return f"{self.origin}:{self.line}" if self.line else self.origin


@dataclass(frozen=True)
class Verdict:
    """What to do with one tool call: `behavior` allow, ask or deny; the rule that decided (None: the mode did);
    `reason`, one line for the person, the model and the memory log."""

    behavior: str
    rule: Rule | None
    reason: str

    @property
    def allowed(self) -> bool:
        return self.behavior == ALLOW


@dataclass(frozen=True)
class Question:
    """A call that asks first, as a person sees it (the `Approver` port): what it does, why it asks, and the rules
    "always, for this folder" would keep, where."""

    call: str  # Bash(python3 scripts/x.py form.txt)
    reason: str
    rules: tuple[str, ...]
    where: str  # "" when nothing can be kept


@dataclass(frozen=True)
class Declared:
    """What one settings file's `permissions` declares (`declared`)."""

    origin: str
    base: str = ""  # the folder relative `additionalDirectories` start from
    allow: tuple[Rule, ...] = ()
    ask: tuple[Rule, ...] = ()
    deny: tuple[Rule, ...] = ()
    mode: str | None = None
    directories: tuple[str, ...] = ()
    no_bypass: bool = False  # disableBypassPermissionsMode: "disable"


# ------------------------------------------------------------------------------------------------------ parsing


def parse_rule(text: Any, origin: str = "", base: str = "", line: int = 0) -> Rule:
    """`Tool` or `Tool(specifier)` -> Rule; UsageError, one line, for anything else."""
    if not isinstance(text, str):
        raise UsageError(f"a permission rule must be a string such as Bash(git diff *), not {_short(text)}")
    text = text.strip()
    if not text:
        raise UsageError("empty permission rule (expected Tool or Tool(specifier), e.g. Read or Bash(git diff *))")
    tool, paren, rest = text.partition("(")
    tool = tool.strip()
    if paren and not rest.endswith(")"):
        what = "unclosed '('" if ")" not in rest else "text after ')'"
        raise UsageError(f"permission rule {text!r}: {what} (expected Tool or Tool(specifier))")
    if ")" in tool or not (MCP_NAME.fullmatch(tool) or TOOL_NAME.fullmatch(tool)):
        raise UsageError(f"permission rule {text!r}: {tool!r} is not a tool name (expected Tool or Tool(specifier))")
    if tool not in KNOWN_TOOLS and not tool.startswith(MCP_PREFIX):
        near = [k for k in KNOWN_TOOLS if k.lower() == tool.lower()]
        if near:
            raise UsageError(f"permission rule {text!r}: unknown tool {tool!r}; did you mean {near[0]}?")
    specifier = rest[:-1] if paren else None
    if specifier is not None:
        if not specifier.strip():
            raise UsageError(f"permission rule {text!r}: empty '()'; write {tool} for every use of it")
        if specifier.strip() != "*":
            _check_specifier(text, tool, specifier)
    return Rule(tool, specifier, origin, base, line)


def _check_specifier(text: str, tool: str, spec: str) -> None:
    if "\x00" in spec or ("\n" in spec and tool != BASH):
        raise UsageError(f"permission rule {text!r}: control characters in the specifier")
    if tool == BASH and ":*" in spec[:-2]:
        raise UsageError(f"permission rule {text!r}: ':*' may only end a Bash rule; use '*' elsewhere")
    if tool in READ_TOOLS | EDIT_TOOLS and spec.startswith("!"):
        raise UsageError(f"permission rule {text!r}: negation ('!') is not supported; add a deny rule instead")
    if tool == FETCH and (not spec.startswith("domain:") or not spec[len("domain:"):].strip()):
        raise UsageError(f"permission rule {text!r}: WebFetch rules take domain:HOST, e.g. WebFetch(domain:example.com)")
    if tool.startswith(MCP_PREFIX):
        raise UsageError(f"permission rule {text!r}: MCP rules take no '()'; name the tool: mcp__server__tool")


def parse_mode(text: Any) -> str:
    """A permission mode (`--permission-mode`, `defaultMode`); UsageError naming the modes for anything else."""
    if isinstance(text, str) and text.strip() in MODES:
        return text.strip()
    near = [m for m in MODES if isinstance(text, str) and m.lower() == text.strip().lower().replace("-", "")]
    hint = f"; did you mean {near[0]}?" if near else ""
    raise UsageError(f"unknown permission mode {_short(text)} (modes: {', '.join(MODES)}){hint}")


def split_rules(value: Any) -> tuple[list[str], list[str]]:
    """A skill's `allowed-tools` (a list, or a string of rules separated by spaces or commas, as the Agent Skills
    spec and Claude Code write it; a space inside `( )` belongs to the rule) -> (rule texts, problems)."""
    if value is None or value is False:
        return [], []
    if isinstance(value, (list, tuple)):
        bad = [f"'allowed-tools' entry {_short(v)} is not a rule" for v in value if not isinstance(v, str)]
        return [v.strip() for v in value if isinstance(v, str) and v.strip()], bad
    if not isinstance(value, str):
        return [], [f"'allowed-tools' must be a string or a list of strings, not {_short(value)}"]
    out, buf, depth = [], "", 0
    for c in value:
        if depth == 0 and (c.isspace() or c == ","):
            if buf:
                out.append(buf)
            buf = ""
            continue
        depth += 1 if c == "(" else -1 if c == ")" and depth else 0
        buf += c
    if buf:
        out.append(buf)
    return out, []


def declared(block: Any, origin: str, base: str = "", lines: Mapping[str, int] | None = None,
             prefix: str = "permissions") -> tuple[Declared, list[str]]:
    """One settings file's `permissions` mapping -> (what it declares, problems as `file:line: message`). A bad
    entry is a problem and is skipped; the rest still counts."""
    def at(*parts: Any) -> str:
        key = ".".join(str(p) for p in (prefix, *parts) if p != "")
        while key and lines and key not in lines:
            key = key.rpartition(".")[0]
        return f"{origin}:{(lines or {}).get(key, 1)}"

    if block is None:
        return Declared(origin, base), []
    if not isinstance(block, Mapping):
        return Declared(origin, base), [f"{at()}: 'permissions' must be a mapping with allow, ask and deny lists"]
    problems = [f"{at(k)}: unknown key {str(k)[:40]!r} under 'permissions' (known: {', '.join(sorted(SETTINGS_KEYS))})"
                for k in block if k not in SETTINGS_KEYS]
    rules: dict[str, list[Rule]] = {ALLOW: [], ASK: [], DENY: []}
    for behavior in BEHAVIORS:
        items = block.get(behavior)
        if items is None:
            continue
        if not isinstance(items, list):
            problems.append(f"{at(behavior)}: 'permissions.{behavior}' must be a list of rules")
            continue
        for i, item in enumerate(items):
            where = at(behavior, i)
            try:
                rules[behavior].append(parse_rule(item, origin, base, int(where.rpartition(":")[2])))
            except UsageError as exc:
                problems.append(f"{where}: {exc.message}; skipped")
    mode = None
    if block.get("defaultMode") is not None:
        try:
            mode = parse_mode(block["defaultMode"])
        except UsageError as exc:
            problems.append(f"{at('defaultMode')}: {exc.message}")
    directories: list[str] = []
    extra = block.get("additionalDirectories")
    if extra is not None:
        if not isinstance(extra, list) or not all(isinstance(d, str) and d.strip() for d in extra):
            problems.append(f"{at('additionalDirectories')}: 'additionalDirectories' must be a list of folders")
        else:
            directories = [d.strip() for d in extra]
    no_bypass = block.get("disableBypassPermissionsMode") == "disable"
    return Declared(origin, base, tuple(rules[ALLOW]), tuple(rules[ASK]), tuple(rules[DENY]), mode,
                    tuple(directories), no_bypass), problems


def _short(value: Any) -> str:
    return repr(value)[:40]


# ------------------------------------------------------------------------------------------------- the value


@dataclass(frozen=True)
class Permissions:
    """Every rule in force, the mode, and the working folders beyond the one DOS runs in. Built with `combine`, then
    narrowed or widened for one run (`with_rules`, `with_mode`, `with_skill`); `decide` gives each call's verdict."""

    allow: tuple[Rule, ...] = ()
    ask: tuple[Rule, ...] = ()
    deny: tuple[Rule, ...] = ()
    mode: str = "default"
    directories: tuple[str, ...] = ()  # more working folders (absolute): additionalDirectories, --add-dir
    read_directories: tuple[str, ...] = ()  # folders only read: the active skill's
    home: str = ""  # where `~/` points (empty: `~/` rules match nothing)
    no_bypass: bool = False

    def with_rules(self, behavior: str, rules: Iterable[Rule]) -> Permissions:
        if behavior not in BEHAVIORS:
            raise UsageError(f"unknown rule list {behavior!r} (allow, ask or deny)")
        return replace(self, **{behavior: (*getattr(self, behavior), *rules)})

    def with_mode(self, mode: str) -> Permissions:
        mode = parse_mode(mode)
        if mode == "bypassPermissions" and self.no_bypass:
            raise UsageError("bypassPermissions is turned off by a settings file (disableBypassPermissionsMode)")
        return replace(self, mode=mode)

    def with_skill(self, name: str, allowed_tools: Any, folder: str = "") -> tuple[Permissions, list[str]]:
        """The active skill's `allowed-tools` pre-approved (deny and ask rules still win) and its folder readable;
        problems for entries that are not rules (they approve nothing)."""
        texts, problems = split_rules(allowed_tools)
        rules = []
        for text in texts:
            if "__" in text and not text.startswith(MCP_PREFIX) and "(" not in text:
                text = MCP_PREFIX + text  # DOS's SERVER__TOOL
            try:
                rules.append(parse_rule(text, f"skill {name} (allowed-tools)"))
            except UsageError as exc:
                problems.append(f"skill {name}: allowed-tools: {exc.message}")
        extra = (posixpath.normpath(folder),) if folder else ()
        return replace(self, allow=(*self.allow, *rules), read_directories=(*self.read_directories, *extra)), problems

    def decide(self, tool_name: str, arguments: Mapping[str, Any] | None, cwd: str) -> Verdict:
        """The verdict on calling `tool_name` with `arguments` in the working folder `cwd` (absolute)."""
        call = _Call(tool_name, arguments if isinstance(arguments, Mapping) else {}, posixpath.normpath(cwd), self.home)
        rule = next((r for r in self.deny if call.hit(r)), None)
        if rule is not None:
            return Verdict(DENY, rule, f"{call.label} is denied by {rule} ({rule.where})")
        if self.mode == "plan" and call.kind != "read":
            return Verdict(DENY, None, f"{call.label} is denied: plan mode runs nothing but reads")
        rule = next((r for r in self.ask if call.hit(r)), None)
        if rule is not None:
            return self._asks(Verdict(ASK, rule, f"{call.label} asks first: {rule} ({rule.where})"))
        if self.mode == "bypassPermissions":
            if call.kind == "edit" and self._protected(call.path, call.cwd):
                return Verdict(ASK, None, f"{call.label} asks first: it edits {call.path} (protected)")
            return Verdict(ALLOW, None, f"{call.label} is allowed: bypassPermissions mode")
        allowed = call.allowed_by(self.allow)
        if isinstance(allowed, list):
            by = ", ".join(dict.fromkeys(f"{r} ({r.where})" for r in allowed))
            return Verdict(ALLOW, allowed[0], f"{call.label} is allowed by {by}")
        if call.kind == "read" and call.path and self._inside(call.path, call.cwd, readonly=True):
            return Verdict(ALLOW, None, f"{call.label} is allowed: a read inside the working folders")
        if (self.mode == "acceptEdits" and call.kind == "edit" and call.path and self._inside(call.path, call.cwd)
                and not self._protected(call.path, call.cwd)):
            return Verdict(ALLOW, None, f"{call.label} is allowed: acceptEdits mode, inside the working folders")
        why = allowed or f"no rule allows {call.label}"
        if self.mode == "acceptEdits" and call.kind == "edit" and self._protected(call.path, call.cwd):
            why += " (a protected folder: acceptEdits does not cover it)"
        return self._asks(Verdict(ASK, None, why))

    def hides(self, path: str, cwd: str) -> Rule | None:
        """The deny rule that keeps `path` out of a search's results (Glob, Grep), if one does."""
        verdict = self.decide("Read", {"file_path": path}, cwd)
        return verdict.rule if verdict.behavior == DENY else None

    def _asks(self, verdict: Verdict) -> Verdict:
        if self.mode == "dontAsk":
            return Verdict(DENY, verdict.rule, f"dontAsk mode: {verdict.reason}")
        return verdict

    def _inside(self, path: str, cwd: str, readonly: bool = False) -> bool:
        folders = (cwd, *self.directories, *(self.read_directories if readonly else ()))
        return any(_under(path, posixpath.normpath(f)) is not None for f in folders if f)

    @staticmethod
    def _protected(path: str | None, cwd: str) -> bool:
        """Whether an edit of `path` touches a protected folder (named from the working folder when inside it)."""
        rel = _under(path or "", cwd)
        parts = (rel if rel is not None else path or "").split("/")
        for i, part in enumerate(parts):
            if part in PROTECTED:
                rel = "/".join(parts[i:])
                return not any(rel == u or rel.startswith(u + "/") for u in UNPROTECTED)
        return False


def combine(files: Iterable[Declared], home: str = "", cwd: str = "") -> Permissions:
    """The declared files in precedence order (the user's first): rules add up, the last `defaultMode` wins,
    `additionalDirectories` (relative ones from `cwd`) add up."""
    out = Permissions(home=home)
    for d in files:
        extra = tuple(posixpath.normpath(posixpath.join(d.base or cwd or "/", home + x[1:] if x.startswith("~")
                                                        and home else x)) for x in d.directories)
        out = replace(out, allow=(*out.allow, *d.allow), ask=(*out.ask, *d.ask), deny=(*out.deny, *d.deny),
                      mode=d.mode or out.mode, directories=(*out.directories, *extra),
                      no_bypass=out.no_bypass or d.no_bypass)
    if out.no_bypass and out.mode == "bypassPermissions":
        out = replace(out, mode="default")
    return out


def suggest_rules(tool_name: str, arguments: Mapping[str, Any] | None, cwd: str) -> list[str]:
    """The allow rules "always, for this folder" would save for a call: one per part of a compound command."""
    call = _Call(tool_name, arguments if isinstance(arguments, Mapping) else {}, posixpath.normpath(cwd), "")
    if call.kind == "bash":
        parts = split_command(call.command) or []
        return list(dict.fromkeys(r for p in parts if (r := _prefix_rule(p))))
    if call.kind in ("read", "edit") and call.path:
        folder = call.path if tool_name in SEARCH_TOOLS else posixpath.dirname(call.path)
        rel = _under(folder, call.cwd)
        where = f"./{rel}/**" if rel else "./**" if rel == "" else f"/{folder}/**"
        return [f"{'Read' if call.kind == 'read' else 'Edit'}({where})"]
    if call.kind == "fetch" and call.host:
        return [f"WebFetch(domain:{call.host})"]
    value = call.args.get(SPECIFIER_ARGS.get(tool_name, ""))
    if isinstance(value, str) and value.strip() and not set(value) & set("*()\n"):
        return [f"{tool_name}({value.strip()})"]
    return [tool_name]


def describe_call(tool_name: str, arguments: Mapping[str, Any] | None, cwd: str) -> str:
    """A call as one line, the way verdicts name it: `Bash(git diff HEAD)`, `Read(/abs/file)`, `mcp__time__now`."""
    return _Call(tool_name, arguments if isinstance(arguments, Mapping) else {}, posixpath.normpath(cwd), "").label


SUBCOMMANDS = frozenset({"git", "npm", "pnpm", "yarn", "npx", "docker", "cargo", "go", "kubectl", "pip", "uv",
                         "poetry", "gh", "brew", "apt", "dos", "make", "bun", "deno"})


def _prefix_rule(part: str) -> str | None:
    words = ENV_ASSIGNMENT.sub("", _unwrap(part)).split()
    if not words:
        return None
    if len(words) > 1 and words[0] in SUBCOMMANDS and re.fullmatch(r"[a-z][\w:-]*", words[1]):
        return f"Bash({words[0]} {words[1]} *)"
    return f"Bash({words[0]} *)"


# ------------------------------------------------------------------------------------------------- matching


class _Call:
    """One tool call as the rules see it."""

    def __init__(self, tool: str, args: Mapping[str, Any], cwd: str, home: str):
        self.tool, self.args, self.cwd, self.home = tool, args, cwd, home
        self.kind = ("bash" if tool == BASH else "read" if tool in READ_TOOLS else "edit" if tool in EDIT_TOOLS
                     else "fetch" if tool == FETCH else "mcp" if tool.startswith(MCP_PREFIX) else "other")
        self.command = args.get("command") if isinstance(args.get("command"), str) else ""
        self._strict: list[str] | None = None  # the texts deny and ask rules are tried on, made when first needed
        self.path = self._path() if self.kind in ("read", "edit") else None
        url = args.get("url") if isinstance(args.get("url"), str) else ""
        try:
            self.host = (urlsplit(url).hostname or "") if self.kind == "fetch" else ""
        except ValueError:
            self.host = ""

    @property
    def label(self) -> str:
        named = self.args.get(SPECIFIER_ARGS.get(self.tool, ""))
        shown = (self.command if self.kind == "bash" else self.path if self.path else
                 self.host if self.kind == "fetch" else named if isinstance(named, str) else "")
        shown = " ".join(str(shown).split())
        return f"{self.tool}({shown[:120] + ('…' if len(shown) > 120 else '')})" if shown else self.tool

    def _path(self) -> str | None:
        raw = next((self.args[k] for k in PATH_ARGS if isinstance(self.args.get(k), str) and self.args[k]), None)
        if raw is None:
            return self.cwd if self.tool in SEARCH_TOOLS else None
        if raw == "~" or raw.startswith("~/"):
            if not self.home:
                return None
            raw = self.home + raw[1:]
        return posixpath.normpath(posixpath.join(self.cwd, raw))

    def applies(self, rule: Rule) -> bool:
        if rule.tool == self.tool:
            return True
        if self.kind == "read":
            return rule.tool == "Read"
        if self.kind == "edit":
            return rule.tool in EDIT_TOOLS
        if self.kind == "mcp" and rule.tool.startswith(MCP_PREFIX):
            return self.tool.startswith(rule.tool + "__") or fnmatch.fnmatchcase(self.tool, rule.tool)
        return False

    def hit(self, rule: Rule) -> bool:
        """Whether a deny or ask rule names this call (Bash: any part or fragment of the command)."""
        if not self.applies(rule):
            return False
        if rule.whole:
            return True
        if self.kind == "bash":
            if self._strict is None:
                self._strict = _strict_forms(self.command)
            rx = _bash_regex(rule.specifier or "*")
            return any(rx.fullmatch(f) for f in self._strict)
        return self._matches(rule, strict=True)

    def allowed_by(self, rules: tuple[Rule, ...]) -> list[Rule] | str | None:
        """The allow rules that approve this call (one per part of a command); for a command that none approve,
        why (a string), or None."""
        mine = [r for r in rules if self.applies(r)]
        whole = next((r for r in mine if r.whole), None)
        if whole or self.kind != "bash":
            found = whole or next((r for r in mine if self._matches(r, strict=False)), None)
            return [found] if found else None
        parts = split_command(self.command)
        if parts is None:
            return (f"no rule allows {self.label}: it holds $(...), backticks, a subshell or an unclosed quote, "
                    f"which only a rule for all of Bash approves") if mine else None
        found: list[Rule] = []
        for i, part in enumerate(parts):
            forms = _forms(part)
            rule = next((r for r in mine if any(_bash_regex(r.specifier or "*").fullmatch(f) for f in forms)), None)
            if rule is None:
                if len(parts) == 1:
                    return None
                return f"no rule allows `{part}` (part {i + 1} of {len(parts)} of {self.label})"
            found.append(rule)
        return found or None

    def _matches(self, rule: Rule, strict: bool) -> bool:
        spec = rule.specifier or ""
        if self.kind == "bash":
            return bool(_bash_regex(spec).fullmatch(self.command.strip()))
        if self.kind in ("read", "edit"):
            return self.path is not None and _path_match(spec, rule.base or self.cwd, self.cwd, self.home,
                                                         self.path, strict, self.tool in SEARCH_TOOLS)
        if self.kind == "fetch":
            host = spec[len("domain:"):].strip().lower()
            return bool(self.host) and (self.host == host or fnmatch.fnmatchcase(self.host, host))
        key = SPECIFIER_ARGS.get(self.tool)
        value = self.args.get(key) if key else None
        return isinstance(value, str) and fnmatch.fnmatchcase(value, spec)


def split_command(command: str) -> list[str] | None:
    """A shell command's parts, split on `&&`, `||`, `;`, `|`, `|&`, `&` and newlines outside quotes; None when it
    cannot be matched part by part: `$(...)`, backticks, `<(...)`, `>(...)`, a subshell or group `( )`, an unclosed
    quote."""
    parts: list[str] = []
    buf: list[str] = []
    quote = ""
    i, n = 0, len(command)

    def flush() -> None:
        text = "".join(buf).strip()
        if text:
            parts.append(text)
        buf.clear()

    while i < n:
        c = command[i]
        if quote == "'":
            buf.append(c)
            quote = "" if c == "'" else quote
            i += 1
            continue
        if c == "\\":
            if quote == "" and command[i + 1:i + 2] == "\n":  # a continued line
                i += 2
                continue
            buf.append(command[i:i + 2])
            i += 2
            continue
        if c == "`" or command.startswith("$(", i) or (quote == "" and command.startswith(("<(", ">("), i)):
            return None
        if quote == '"':
            buf.append(c)
            quote = "" if c == '"' else quote
            i += 1
            continue
        if c in "'\"":
            quote = c
            buf.append(c)
            i += 1
            continue
        if c in "()":
            return None
        prev = command[i - 1] if i else ""
        if command.startswith(("&&", "||", "|&"), i):
            flush()
            i += 2
            continue
        if c == "|" and prev == ">":  # >| is a redirection
            buf.append(c)
        elif c == "&" and (prev in "<>" or command[i + 1:i + 2] == ">"):  # 2>&1, &>file
            buf.append(c)
        elif c in ";|&\n":
            flush()
        else:
            buf.append(c)
        i += 1
    if quote:
        return None
    flush()
    return parts


def _unwrap(part: str) -> str:
    """A part without its process wrappers and trailing quiet redirections, whitespace collapsed."""
    text = " ".join(part.split())
    while True:
        before = text
        text = WRAPPERS.sub("", text)
        text = QUIET_REDIRECT.sub("", text).strip()
        if text == before:
            return text


def _forms(part: str) -> list[str]:
    """The texts an allow rule may match for one part: as written, whitespace collapsed, unwrapped."""
    return list(dict.fromkeys((part.strip(), " ".join(part.split()), _unwrap(part))))


def _strict_forms(command: str) -> list[str]:
    """The texts a deny or ask rule is tried on: the whole command, each part and fragment, each also without
    leading assignments, `sudo`-like prefixes and the program's folder."""
    pieces = [command, *(split_command(command) or []), *FRAGMENT_SPLIT.split(command)]
    out: dict[str, None] = {}
    for piece in pieces:
        for form in _forms(piece):
            while form:
                out.setdefault(form, None)
                bare = DENY_PREFIXES.sub("", ENV_ASSIGNMENT.sub("", _unwrap(form)))
                first, _, rest = bare.partition(" ")
                bare = (first.rsplit("/", 1)[-1] + (" " + rest if rest else "")) if "/" in first else bare
                if bare == form:
                    break
                form = bare
    return [f for f in out if f]


@lru_cache(maxsize=512)
def _bash_regex(spec: str) -> re.Pattern[str]:
    head, tail = spec, False
    if spec.endswith(":*"):
        head, tail = spec[:-2], True
    elif spec.endswith(" *") and spec.count("*") == 1:
        head, tail = spec[:-2], True
    body = ".*".join(re.escape(p) for p in head.split("*"))
    return re.compile(body + (r"(?:\s.*)?" if tail else ""), re.S)


def _under(path: str, folder: str) -> str | None:
    """`path` relative to `folder` ("" for the folder itself), or None if it is not inside it."""
    if path == folder:
        return ""
    prefix = folder if folder.endswith("/") else folder + "/"
    return path[len(prefix):] if path.startswith(prefix) else None


def _path_match(spec: str, base: str, cwd: str, home: str, path: str, strict: bool, folder: bool = False) -> bool:
    """Whether a Read/Edit pattern covers `path` (gitignore semantics, anchored as the module docstring says). A search
    of a `folder` (Glob, Grep, LS) also counts as reading what is in it: `Read(./secrets/**)` covers `Grep secrets`."""
    compiled = _path_pattern(spec, base, cwd, home, strict)
    if compiled is None:
        return False
    anchor, rx, anchored = compiled
    rel = _under(path, anchor)
    if rel is None:
        return False
    if rx is None:
        return True
    parts = (rel.split("/") if rel else []) + (["\x00"] if folder else [])  # \x00: any name inside the folder
    if anchored:  # the path, or a folder holding it
        return any(rx.fullmatch("/".join(parts[:i])) for i in range(1, len(parts) + 1))
    return any(rx.fullmatch(part) for part in parts)  # a name, at any depth


@lru_cache(maxsize=1024)
def _path_pattern(spec: str, base: str, cwd: str, home: str, strict: bool) -> tuple[str, Any, bool] | None:
    """(the folder a pattern starts from, its regex or None for everything in it, whether it holds a '/')."""
    if spec.startswith("//"):
        anchor, pattern = "/", spec[2:]
    elif spec == "~" or spec.startswith("~/"):
        if not home:
            return None
        anchor, pattern = home, spec[2:]
    elif spec.startswith("/"):
        anchor, pattern = base, spec[1:]
    else:
        anchor, pattern = cwd, spec[2:] if spec.startswith("./") else spec
    pattern = pattern.strip("/")
    if pattern in ("", "**", "**/*"):
        return posixpath.normpath(anchor), None, False
    return posixpath.normpath(anchor), _glob_regex(pattern, strict), "/" in pattern


@lru_cache(maxsize=512)
def _glob_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1:end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        elif pattern[i] == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out), re.S | (re.I if ignore_case else 0))
