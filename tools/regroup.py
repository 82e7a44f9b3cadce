#!/usr/bin/env python3
"""Regroup dos/core and dos/cli into rooms (issue 19, Measure: "no folder over about 12 modules").

Run it from anywhere inside a checkout of DOS (or pass the checkout's path), with the project's Python:

    .venv/bin/python tools/regroup.py [--dry-run] [--allow-dirty] [--no-checks] [REPO]

What it does, on whatever tree it finds:
1. refuses a tree already regrouped (a room of the plan exists) or, unless --allow-dirty, one with uncommitted changes
   (so `git checkout . && git clean -fd dos` undoes it all);
2. turns any relative import under dos/ into an absolute one (there are none today);
3. `git mv`s each module of PLAN into its room, creating the rooms with an empty `__init__.py` (a module missing
   from the tree is skipped and named; a module the plan does not know stays where it is and is named UNPLACED);
4. rewrites every reference in every tracked text file: dotted names (`from dos.core.turn import`, `import
   dos.cli.run`, "dos.core.routing.Routing" in strings, monkeypatch targets, import-linter contracts, the console
   script), `from dos.core import sync as s` / `from dos.cli import chat, run` statements (split by room, local names
   kept), and paths (`core/turn.py`, `dos/cli/run.py`; a path inside a longer one, a URL, is left alone);
5. appends import-linter contracts for the rooms to pyproject.toml, bumps the contract count the architecture test
   expects, and appends a test that no folder of dos/ holds more than 12 modules;
6. prints a summary (moves, files changed, modules per folder, anything left over) and, unless --no-checks, imports
   every module of dos.core and dos.cli and runs lint-imports. Exit code 0 when all is well, 2 when a check failed
   (the tree stays rewritten; read the message).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
from pathlib import Path

# ------------------------------------------------------------------------------------------------------------ plan
# old module (dotted, under dos.) -> new module. Rooms are named for what they hold; a module is renamed only where its
# room takes its old name (turn.py -> turn/runner.py, routing.py -> routing/policy.py) or where the room makes the
# prefix redundant (route_stats -> routing/stats, skill_rules -> skills/rules).
PLAN: dict[str, str] = {
    # core/turn/: one turn and what runs inside it: the use case, the tool loop, hooks, recall, tool permissions, and
    # what the turn shows the model of the skills (progressive disclosure: the catalog, the Skill tool; it budgets with
    # recall's token estimate, so it stands with the turn, above skills/)
    "core.skill_catalog": "core.turn.disclosure",
    "core.turn": "core.turn.runner",
    "core.tool_loop": "core.turn.tool_loop",
    "core.hooks": "core.turn.hooks",
    "core.recall": "core.turn.recall",
    "core.permissions": "core.turn.permissions",
    "core.tool_gate": "core.turn.tool_gate",
    "core.chat": "core.turn.chat",
    # core/routing/: which model a turn goes to, what it may spend, what actually routed where
    "core.routing": "core.routing.policy",
    "core.ledger": "core.routing.ledger",
    "core.route_stats": "core.routing.stats",
    # core/skills/: the rules of skills and packs, and the planning of their copies in other harnesses
    "core.skill_rules": "core.skills.rules",
    "core.sync": "core.skills.sync",
    # core/serve/: `dos serve`'s use case (the gateway) and its bearer tokens
    "core.gateway": "core.serve.gateway",
    "core.tokens": "core.serve.tokens",
    # cli/turn/: the commands that run turns, and the options they share
    "cli.run": "cli.turn.run",
    "cli.chat": "cli.turn.chat",
    "cli.model_options": "cli.turn.model_options",
    # cli/extensions/: what extends DOS and who may run it: skills, packs, hooks, MCP servers, their copies, trust
    "cli.skills": "cli.extensions.skills",
    "cli.packs": "cli.extensions.packs",
    "cli.hooks": "cli.extensions.hooks",
    "cli.mcp": "cli.extensions.mcp",
    "cli.sync": "cli.extensions.sync",
    "cli.trust": "cli.extensions.trust",
    # cli/routing/: the catalog, route explanations, stats, credits (mirrors core/routing/)
    "cli.models": "cli.routing.models",
    "cli.route": "cli.routing.route",
    "cli.stats": "cli.routing.stats",
    "cli.credits": "cli.routing.credits",
    # cli/system/: DOS's own machinery: settings, the warm kernel, the health check, the HTTP server and its tokens
    "cli.config": "cli.system.config",
    "cli.doctor": "cli.system.doctor",
    "cli.kernel": "cli.system.kernel",
    "cli.serve": "cli.system.serve",
    "cli.tokens": "cli.system.tokens",
}
# What stays at the root of each folder, on purpose. Core: the shared nouns, the ports, and the records the ports
# exchange (hook_records.py, tools.py: what the HookRunner and ToolHost ports and the adapters of four rooms speak),
# so that the root imports none of the rooms (bar one type annotation, see CONTRACTS). CLI: the
# console script, its typer-free fast paths (listing.py, memory_fast.py: at the root so a fast path imports no extra
# package), the memory commands beside their fast path, and the plumbing every command shares.
STAY = {
    "core": ["config", "domain", "errors", "hook_records", "ids", "memory_records", "ports", "printable", "redact",
             "tools"],
    "cli": ["app", "entry", "errors", "output", "complete", "listing", "memory_fast", "memory", "run_fast"],
}
ROOMS = {"core": ["turn", "routing", "skills", "serve"], "cli": ["turn", "extensions", "routing", "system"]}
MOVES = {f"dos.{old}": f"dos.{new}" for old, new in PLAN.items()}
LIMIT = 12

# Contracts appended to pyproject.toml ({core_root}/{cli_plumbing}: the STAY modules present in the tree).
CONTRACTS = '''
# Core's rooms (issue 19). The shared nouns at core's root import none of the rooms; ports.py names serve's Token in
# a type annotation only (under TYPE_CHECKING), the one exception, listed so that any other breaks the contract.
[[tool.importlinter.contracts]]
name = "Core's shared nouns (the modules at its root) import none of core's rooms"
type = "forbidden"
source_modules = [{core_root}]
forbidden_modules = ["dos.core.turn", "dos.core.routing", "dos.core.skills", "dos.core.serve"]
ignore_imports = ["dos.core.ports -> dos.core.serve.tokens"]
unmatched_ignore_imports_alerting = "warn"

# serve's use case runs turns; a turn discloses skills and routes; skill rules check route and budget keys. The
# ledger's one import of hooks.skill_pack (a pack's name from a skill's source label, imported inside a function) is
# the known exception, with ports' type annotation of Token (every room imports ports).
[[tool.importlinter.contracts]]
name = "Core's rooms in floors: serve above turn, above skills, above routing"
type = "layers"
containers = ["dos.core"]
layers = ["serve", "turn", "skills", "routing"]
ignore_imports = ["dos.core.routing.ledger -> dos.core.turn.hooks", "dos.core.ports -> dos.core.serve.tokens"]
unmatched_ignore_imports_alerting = "warn"

# The CLI's command groups stand apart: each uses the plumbing at cli/'s root, the core and the composition root,
# never another group; `dos chat` drives its REPL.
[[tool.importlinter.contracts]]
name = "CLI command groups stand apart (chat drives repl/)"
type = "independence"
modules = ["dos.cli.turn", "dos.cli.repl", "dos.cli.extensions", "dos.cli.routing", "dos.cli.system"]
ignore_imports = ["dos.cli.turn.chat -> dos.cli.repl.*"]
unmatched_ignore_imports_alerting = "warn"

[[tool.importlinter.contracts]]
name = "CLI plumbing (cli/'s root but the app) imports no command group"
type = "forbidden"
source_modules = [{cli_plumbing}]
forbidden_modules = ["dos.cli.turn", "dos.cli.repl", "dos.cli.extensions", "dos.cli.routing", "dos.cli.system"]
'''
N_CONTRACTS = CONTRACTS.count("[[tool.importlinter.contracts]]")

FOLDER_TEST = '''

def test_no_folder_of_the_package_holds_more_than_12_modules():
    """Issue 19: every folder of dos/ holds at most 12 modules besides its __init__.py, and the rooms of core/ and
    cli/ have empty __init__ files, so importing one module of a room costs no more than it did before the rooms."""
    root = REPO / "dos"
    for init in sorted(root.rglob("__init__.py")):
        assert len(list(init.parent.glob("*.py"))) - 1 <= 12, init.parent
    for room in [{rooms}]:
        assert (root / room / "__init__.py").read_text().strip() == "", room
'''

TEXT_SKIP = ("requirements/",)  # hash-pinned lock files: nothing of ours in them


# ------------------------------------------------------------------------------------------------------- helpers
def git(repo: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if check and proc.returncode != 0:
        sys.exit(f"regroup: git {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def rel(module: str) -> str:
    """dos.core.turn -> core/turn (the path under dos/, without .py)."""
    return module.split(".", 1)[1].replace(".", "/")


def wrapped(items: list[str], indent: str, width: int = 116) -> str:
    """items joined by ", ", broken onto lines of `indent` where a line would pass `width`."""
    lines, line = [], ""
    for item in items:
        if line and len(indent) + len(line) + len(item) + 2 > width:
            lines.append(line + ",")
            line = ""
        line = f"{line}, {item}" if line else item
    return ("\n" + indent).join([*lines, line])


def module_file(repo: Path, module: str) -> Path:
    return repo / "dos" / (rel(module) + ".py")


def modules_in(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.py") if p.name != "__init__.py")


# ------------------------------------------------------------------------------------------ rewriting references
DOTTED = re.compile(r"(?<![\w.])dos(?:\.\w+)+")
# a path of a moved module: dos/core/turn.py anywhere (not inside a longer word), or core/turn.py standing alone (not
# after a slash: a URL or another folder's core/ is not ours)
PATH = re.compile(r"(?:(?<![\w.-])(?P<dos>dos/)|(?<![\w./-]))(?P<path>(?:core|cli)(?:/\w+)+)\.py\b")


def rewrite_dotted(text: str, moves: dict[str, str]) -> str:
    def one(m: re.Match) -> str:
        parts = m.group(0).split(".")
        for i in range(len(parts), 1, -1):
            head = ".".join(parts[:i])
            if head in moves:
                return ".".join([moves[head], *parts[i:]])
        return m.group(0)

    return DOTTED.sub(one, text)


def rewrite_paths(text: str, moves: dict[str, str]) -> str:
    paths = {rel(old): rel(new) for old, new in moves.items()}

    def one(m: re.Match) -> str:
        new = paths.get(m.group("path"))
        return m.group(0) if new is None else f"{m.group('dos') or ''}{new}.py"

    return PATH.sub(one, text)


FROM_LINE = re.compile(r"^(?P<indent>[ \t]*)from[ \t]+(?P<pkg>dos(?:\.\w+)*)[ \t]+import[ \t]+(?P<rest>.*)$")
NAME = re.compile(r"^(\w+)(?:\s+as\s+(\w+))?$")


def parse_from(lines: list[str], i: int) -> tuple[int, str, str, list[tuple[str, str | None]], str] | None:
    """The `from dos.X import ...` statement starting at lines[i]: (next line index, indent, package, [(name,
    alias)], trailing comment), or None if it is not one this script can split (then it is left alone)."""
    m = FROM_LINE.match(lines[i])
    if not m:
        return None
    rest, j = m.group("rest"), i + 1
    comment = ""
    if rest.startswith("("):
        body = rest[1:]
        while ")" not in body:
            if j >= len(lines):
                return None
            body += "\n" + lines[j]
            j += 1
        body, _, after = body.partition(")")
        comment = after.strip()
        if comment and not comment.startswith("#"):
            return None
        chunks = [re.sub(r"#.*", "", line) for line in body.split("\n")]
        names_text = ",".join(chunks)
    else:
        names_text, _, tail = rest.partition("#")
        comment = "#" + tail if _ else ""
        if names_text.rstrip().endswith("\\"):
            return None
    names = []
    for chunk in names_text.split(","):
        chunk = " ".join(chunk.split())
        if not chunk:
            continue
        n = NAME.match(chunk)
        if not n:
            return None
        names.append((n.group(1), n.group(2)))
    return j, m.group("indent"), m.group("pkg"), names, comment.strip()


def rewrite_from_imports(text: str, moves: dict[str, str]) -> str:
    """`from dos.cli import chat, hooks as h` -> one statement per room, the local names kept; consecutive statements
    of the same packages are merged and sorted."""
    parents = {old.rsplit(".", 1)[0] for old in moves}
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        run: list[tuple[str, str, list, str]] = []
        j = i
        while j < len(lines):
            parsed = parse_from(lines, j)
            if parsed is None or parsed[2] not in parents:
                break
            if run and parsed[1] != run[0][0]:
                break
            run.append(parsed[1:])
            j = parsed[0]
        if not run or not any(f"{pkg}.{name}" in moves for _, pkg, names, _ in run for name, _ in names):
            out.append(lines[i])
            i += 1
            continue
        indent = run[0][0]
        groups: dict[str, list[str]] = collections.defaultdict(list)
        comments = [c for *_, c in run if c]
        for _, pkg, names, _ in run:
            for name, alias in names:
                full = f"{pkg}.{name}"
                if full in moves:
                    new_pkg, leaf = moves[full].rsplit(".", 1)
                    binding = alias or name
                    groups[new_pkg].append(leaf if leaf == binding else f"{leaf} as {binding}")
                else:
                    groups[pkg].append(name if alias is None else f"{name} as {alias}")
        for n, pkg in enumerate(sorted(groups)):
            items = sorted(dict.fromkeys(groups[pkg]), key=lambda s: s.split()[0])
            head = f"{indent}from {pkg} import "
            line = head + ", ".join(items)
            tail = f"  {comments[0]}" if n == 0 and comments else ""
            if len(line + tail) <= 120:
                out.append(line + tail)
                continue
            out.append(head + "(" + tail)
            current = indent + "   "
            for item in items:
                if len(current) + len(item) + 2 > 120:
                    out.append(current.rstrip())
                    current = indent + "   "
                current += f" {item},"
            out.append(current)
            out.append(indent + ")")
        i = j
    return "\n".join(out)


RELATIVE = re.compile(r"^(?P<indent>[ \t]*)from[ \t]+(?P<dots>\.+)(?P<mod>\w+(?:\.\w+)*)?[ \t]+import\b", re.M)


def absolutize(path: Path, repo: Path) -> bool:
    """Relative imports of a module under dos/ made absolute (before it moves). True if the file changed."""
    text = path.read_text()
    package = list(path.relative_to(repo).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package[:-1]
    else:
        package = package[:-1]

    def one(m: re.Match) -> str:
        up = len(m.group("dots")) - 1
        base = package[: len(package) - up] if up else package
        target = ".".join([*base, *([m.group("mod")] if m.group("mod") else [])])
        return f"{m.group('indent')}from {target} import"

    new = RELATIVE.sub(one, text)
    if new != text:
        path.write_text(new)
    return new != text


# ------------------------------------------------------------------------------------------------------------- run
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", nargs="?", default=".", help="a checkout of DOS (default: the current folder's)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and what it would touch; change nothing")
    parser.add_argument("--allow-dirty", action="store_true", help="run on a tree with uncommitted changes")
    parser.add_argument("--no-checks", action="store_true", help="skip the import and lint-imports checks at the end")
    args = parser.parse_args()
    repo = Path(git(Path(args.repo).resolve(), "rev-parse", "--show-toplevel").strip())
    if not (repo / "dos" / "core" / "ports.py").is_file():
        sys.exit(f"regroup: {repo} is not a DOS checkout (no dos/core/ports.py)")

    # 1. refuse twice, refuse a dirty tree
    for group, rooms in ROOMS.items():
        for room in rooms:
            if (repo / "dos" / group / room / "__init__.py").exists():
                sys.exit(f"regroup: dos/{group}/{room}/ is already a package: this tree is regrouped already; "
                         "nothing done")
    for old, new in MOVES.items():
        if module_file(repo, new).exists():
            sys.exit(f"regroup: {rel(new)}.py exists already: this tree is (partly) regrouped; nothing done")
    if not args.allow_dirty and not args.dry_run and git(repo, "status", "--porcelain", "--untracked-files=no").strip():
        sys.exit("regroup: the tree has uncommitted changes; commit or stash them (or pass --allow-dirty)")

    moves = {old: new for old, new in MOVES.items() if module_file(repo, old).is_file()}
    missing = sorted(set(MOVES) - set(moves))
    unplaced = {g: [m for m in modules_in(repo / "dos" / g) if f"dos.{g}.{m}" not in MOVES and m not in STAY[g]]
                for g in STAY}
    print(f"regroup: {len(moves)} modules to move in {repo}")
    for old, new in moves.items():
        print(f"  {rel(old)}.py -> {rel(new)}.py")
    if missing:
        print("  not in this tree (skipped): " + ", ".join(rel(m) + ".py" for m in missing))
    if args.dry_run:
        files = [f for f in git(repo, "ls-files").splitlines() if (repo / f).is_file() and not f.startswith(TEXT_SKIP)]
        touched = []
        for f in files:
            try:
                text = (repo / f).read_text()
            except (UnicodeDecodeError, OSError):
                continue
            new = rewrite_paths(rewrite_from_imports(rewrite_dotted(text, moves), moves), moves)
            if new != text:
                touched.append(f)
        print(f"  would rewrite {len(touched)} files: " + " ".join(touched))
        for g, mods in unplaced.items():
            if mods:
                print(f"  UNPLACED in dos/{g}/ (would stay at its root): {', '.join(mods)}")
        return 0

    # 2. relative imports -> absolute (resolved at the modules' old places)
    relative = [p for p in sorted((repo / "dos").rglob("*.py")) if absolutize(p, repo)]

    # 3. the moves
    tracked = set(git(repo, "ls-files", "dos").splitlines())
    for new in sorted({n.rsplit(".", 1)[0] for n in moves.values()}):
        folder = repo / "dos" / rel(new)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").write_text("")
        git(repo, "add", str(folder / "__init__.py"))
    for old, new in moves.items():
        src, dst = module_file(repo, old), module_file(repo, new)
        if str(src.relative_to(repo)) in tracked:
            git(repo, "mv", str(src), str(dst))
        else:
            src.rename(dst)
            git(repo, "add", str(dst))

    # 4. every reference
    changed: dict[str, list[str]] = collections.defaultdict(list)
    long_lines: list[str] = []  # lines the longer names pushed past 120 characters
    for f in git(repo, "ls-files").splitlines():
        path = repo / f
        if f.startswith(TEXT_SKIP) or not path.is_file():
            continue
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        step1 = rewrite_dotted(text, moves)
        step2 = rewrite_from_imports(step1, moves)
        step3 = rewrite_paths(step2, moves)
        if step3 != text:
            path.write_text(step3)
            before = {line for line in text.splitlines() if len(line) > 120}
            long_lines += [f"{f}:{n}" for n, line in enumerate(step3.splitlines(), 1)
                           if len(line) > 120 and line not in before]
            kinds = [k for k, a, b in (("dotted", text, step1), ("from-import", step1, step2), ("path", step2, step3))
                     if a != b]
            changed[f] = kinds

    # 5. contracts, their count, the folder test
    notes: list[str] = []
    pyproject = repo / "pyproject.toml"
    text = pyproject.read_text()
    quoted = lambda mods: wrapped([f'"{m}"' for m in mods], " " * 4)  # noqa: E731
    core_root = [f"dos.core.{m}" for m in STAY["core"] if (repo / "dos/core" / f"{m}.py").is_file()]
    cli_plumbing = [f"dos.cli.{m}" for m in STAY["cli"] if m not in ("app", "entry")
                    and (repo / "dos/cli" / f"{m}.py").is_file()]
    if "Core's rooms in floors" not in text:
        pyproject.write_text(text.rstrip("\n") + "\n" + CONTRACTS.format(core_root=quoted(core_root),
                                                                          cli_plumbing=quoted(cli_plumbing)))
        changed["pyproject.toml"].append("contracts")
        arch = [f for f in git(repo, "ls-files", "tests").splitlines()
                if f.endswith(".py") and "def test_import_contracts_hold" in (repo / f).read_text()]
        for f in arch:
            body = (repo / f).read_text()
            bumped = re.sub(r"Contracts: (\d+) kept", lambda m: f"Contracts: {int(m.group(1)) + N_CONTRACTS} kept",
                            body)
            if "def test_no_folder_of_the_package_holds_more_than_12_modules" not in bumped and "REPO" in bumped:
                rooms = wrapped([f'"{g}/{r}"' for g, rs in ROOMS.items() for r in rs
                                 if (repo / "dos" / g / r / "__init__.py").is_file()], " " * 17)
                bumped = bumped.rstrip("\n") + "\n" + FOLDER_TEST.format(rooms=rooms)
            if bumped != body:
                (repo / f).write_text(bumped)
                changed[f].append("architecture test")
        if not arch:
            notes.append(f"no test file holds test_import_contracts_hold: bump its contract count by {N_CONTRACTS}")

    # 6. summary
    print(f"\nmoved {len(moves)} modules into {len({n.rsplit('.', 1)[0] for n in moves.values()})} rooms; "
          f"relative imports made absolute in {len(relative)} files")
    by_kind = collections.Counter(k for kinds in changed.values() for k in kinds)
    print(f"rewrote {len(changed)} files ({', '.join(f'{k}: {n}' for k, n in sorted(by_kind.items()))}):")
    for f in sorted(changed):
        print(f"  {f}  [{', '.join(changed[f])}]")
    print("\nmodules per folder (besides __init__.py):")
    over = []
    for init in sorted((repo / "dos").rglob("__init__.py")):
        folder = init.parent
        n = len(modules_in(folder))
        flag = "  OVER" if n > LIMIT else ""
        if n > LIMIT:
            over.append(folder)
        print(f"  {str(folder.relative_to(repo)) + '/':28} {n:3}{flag}")
    for g, mods in unplaced.items():
        if mods:
            notes.append(f"UNPLACED in dos/{g}/ (not in the plan, left at the root; add them to PLAN or STAY): "
                         + ", ".join(mods))
    # references to a module that no longer exists (the renamed ones' old names are packages now, so not listed)
    gone = [old for old in moves if not module_file(repo, old).exists() and not (repo / "dos" / rel(old)).is_dir()]
    if gone:
        pattern = "|".join(re.escape(g) for g in gone) + "|" + "|".join(re.escape(rel(g) + ".py") for g in gone)
        left = git(repo, "grep", "-nE", pattern, "--", ".", ":!requirements", check=False).strip()
        left = "\n".join(line for line in left.splitlines() if not re.search(r"[\w/.-]/(core|cli)/", line)
                         or re.search(r"(?<![\w.-])dos/(core|cli)/", line))
        if left:
            notes.append("references to old module names or paths left (check by hand):\n" + left)
    if long_lines:
        notes.append("lines now longer than 120 characters (rewrap by hand if you like): " + " ".join(long_lines))
    for note in notes:
        print("\n" + note)

    failed = bool(over)
    if not args.no_checks:
        env = dict(os.environ, PYTHONPATH=str(repo))
        mods = sorted(".".join(p.relative_to(repo).with_suffix("").parts).removesuffix(".__init__")
                      for g in ("core", "cli") for p in (repo / "dos" / g).rglob("*.py"))
        probe = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"
        proc = subprocess.run([sys.executable, "-c", probe, *mods], cwd=repo, env=env, capture_output=True, text=True)
        print(f"\nimport check ({len(mods)} modules of dos.core and dos.cli): "
              + ("ok" if proc.returncode == 0 else "FAILED\n" + proc.stderr[-3000:]))
        failed |= proc.returncode != 0
        lint = Path(sys.executable).parent / "lint-imports"
        if lint.exists():
            proc = subprocess.run([str(lint), "--no-cache"], cwd=repo, env=env, capture_output=True, text=True)
            summary = [line for line in proc.stdout.splitlines() if "KEPT" in line or "BROKEN" in line
                       or line.startswith("Contracts:")]
            print("lint-imports: " + ("ok" if proc.returncode == 0 else "FAILED") + "\n  " + "\n  ".join(summary))
            if proc.returncode != 0:
                print(proc.stdout[-4000:])
            failed |= proc.returncode != 0
        else:
            print(f"lint-imports not found next to {sys.executable}: contracts not checked")
    if over:
        print("\nfolders over the limit of", LIMIT, ":", ", ".join(str(f.relative_to(repo)) for f in over))
    print("\nregroup: " + ("done, with problems above (exit 2)" if failed else "done") +
          ". Review with `git status` / `git diff --stat -M HEAD`; undo with `git reset --hard HEAD` on a clean tree.")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
