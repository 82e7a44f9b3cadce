"""The built-in tools (dos.adapters.tools) on real files and processes in a temporary folder, through the
`ToolHost` port as the tool loop calls them; their bare names in the loop; the combined host."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from dos.adapters.files.processes import alive
from dos.adapters.tools.builtin import BuiltinTools
from dos.adapters.tools.combined import CombinedTools
from dos.adapters.tools.file_tools import glob_regex
from dos.core.domain import Chunk, Skill, TurnRequest, Usage
from dos.core.turn.hooks import NO_HOOKS
from dos.core.redact import without_secrets
from dos.core.turn.tool_loop import ToolLoop, wanted_servers
from dos.adapters.hooks.command_hooks import HookProcessRunner
from dos.core.turn.hooks import Hooks
from dos.core.tools import (
    BUILTIN,
    MAX_RESULT_CHARS,
    ServerSpec,
    ServerTools,
    ToolCall,
    ToolResult,
    ToolSpec,
    name_problem,
)
from tests.support.hookfiles import cmd, script

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX processes")


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def tool(folder: Path, name: str, skill: str = "", **arguments):
    host = BuiltinTools(lambda: folder)
    spec = ServerSpec(BUILTIN, "builtin", "dos", cwd=str(folder), skill=skill)
    return host.call(spec, name, arguments)


# ---------------------------------------------------------------------------------------------- Read


def test_read_numbers_lines_like_cat_n_and_pages_with_offset_and_limit(work):
    (work / "notes.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    whole = tool(work, "Read", file_path="notes.txt")
    lines = whole.text.splitlines()
    assert whole.ok and lines[0] == "     1\tline 1" and lines[-1] == "    10\tline 10" and len(lines) == 10
    page = tool(work, "Read", file_path=str(work / "notes.txt"), offset=4, limit=3)
    assert page.text.splitlines() == ["     4\tline 4", "     5\tline 5", "     6\tline 6",
                                      "[more lines follow: read on with offset=7]"]
    past = tool(work, "Read", file_path="notes.txt", offset=50)
    assert past.is_error and "has 10 lines" in past.text


def test_read_is_bounded_and_says_where_to_read_on(work):
    (work / "big.txt").write_text("".join(f"{'x' * 300} {i}\n" for i in range(1000)) + "y" * 100_000 + "\n")
    first = tool(work, "Read", file_path="big.txt")
    assert len(first.text) <= MAX_RESULT_CHARS and not first.is_error
    next_at = int(first.text.rsplit("offset=", 1)[1].rstrip("]"))
    again = tool(work, "Read", file_path="big.txt", offset=next_at, limit=1)
    assert again.text.startswith(f"{next_at:>6}\t")
    last = tool(work, "Read", file_path="big.txt", offset=1001)
    assert last.text.endswith("[line cut]") and len(last.text) < 2_100


def test_read_refuses_what_it_cannot_show_as_a_result_not_an_exception(work):
    (work / "blob.bin").write_bytes(b"\x00\x01\x02" * 10)
    (work / "empty.txt").write_text("")
    assert "binary file" in tool(work, "Read", file_path="blob.bin").text
    assert tool(work, "Read", file_path="missing.txt").is_error
    assert "is a folder" in tool(work, "Read", file_path=".").text
    assert "empty" in tool(work, "Read", file_path="empty.txt").text
    bad = tool(work, "Read", file_path=7)
    assert bad.is_error and "'file_path' must be a string" in bad.for_model()
    assert tool(work, "Read").is_error


# ---------------------------------------------------------------------------------------------- Write, Edit


def test_write_creates_folders_and_overwrites(work):
    made = tool(work, "Write", file_path="out/deep/a.txt", content="one\r\ntwo\n")
    assert made.ok and "Created" in made.text
    assert (work / "out/deep/a.txt").read_bytes() == b"one\r\ntwo\n"
    again = tool(work, "Write", file_path=str(work / "out/deep/a.txt"), content="")
    assert "Overwrote" in again.text and (work / "out/deep/a.txt").read_text() == ""


def test_edit_needs_a_unique_old_string_unless_replace_all(work):
    path = work / "code.py"
    path.write_text("x = 1\ny = 1\nz = 2\r\n")
    ambiguous = tool(work, "Edit", file_path="code.py", old_string="= 1", new_string="= 9")
    assert ambiguous.is_error and "occurs 2 times" in ambiguous.text and "replace_all" in ambiguous.text
    assert path.read_bytes() == b"x = 1\ny = 1\nz = 2\r\n"
    unique = tool(work, "Edit", file_path="code.py", old_string="y = 1", new_string="y = 5")
    assert unique.ok and "1 replacement" in unique.text
    every = tool(work, "Edit", file_path="code.py", old_string=" = ", new_string="=", replace_all=True)
    assert every.ok and "3 replacement" in every.text
    assert path.read_bytes() == b"x=1\ny=5\nz=2\r\n"  # line ends kept as they were
    assert "was not found" in tool(work, "Edit", file_path="code.py", old_string="nope", new_string="n").text
    assert "the same" in tool(work, "Edit", file_path="code.py", old_string="x", new_string="x").text
    assert "use Write" in tool(work, "Edit", file_path="code.py", old_string="", new_string="x").text
    assert tool(work, "Edit", file_path="none.py", old_string="a", new_string="b").is_error


# ---------------------------------------------------------------------------------------------- Glob, Grep


def touch(path: Path, text: str, age_s: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    t = time.time() - age_s
    os.utime(path, (t, t))


def test_glob_lists_newest_first_and_skips_git(work):
    touch(work / "old.py", "", 300)
    touch(work / "src/new.py", "", 10)
    touch(work / "src/mid.ts", "", 100)
    touch(work / ".git/hooks/x.py", "", 1)
    touch(work / "notes.md", "", 5)
    assert tool(work, "Glob", pattern="**/*.py").text.splitlines() == [str(work / "src/new.py"), str(work / "old.py")]
    assert tool(work, "Glob", pattern="src/*.{py,ts}").text.splitlines() == [str(work / "src/new.py"),
                                                                            str(work / "src/mid.ts")]
    assert tool(work, "Glob", pattern="*.py").text.splitlines() == [str(work / "old.py")]
    assert tool(work, "Glob", pattern="*.py", path="src").text.splitlines() == [str(work / "src/new.py")]
    assert tool(work, "Glob", pattern=str(work / "**/*.ts")).text == str(work / "src/mid.ts")
    assert "No files match" in tool(work, "Glob", pattern="*.rs").text


def test_glob_shows_at_most_a_hundred(work):
    for i in range(130):
        (work / f"f{i:03}.txt").write_text("")
    lines = tool(work, "Glob", pattern="*.txt").text.splitlines()
    assert len(lines) == 101 and lines[-1].startswith("[30 more files match")


def test_glob_patterns():
    assert glob_regex("**/*.py").fullmatch("a.py") and glob_regex("**/*.py").fullmatch("a/b/c.py")
    assert not glob_regex("*.py").fullmatch("a/b.py")
    assert glob_regex("src/**").fullmatch("src/a/b") and glob_regex("[!a]?.md").fullmatch("bc.md")
    assert not glob_regex("[!a]?.md").fullmatch("ac.md")


def test_grep_modes(work):
    touch(work / "a.py", "import os\n\ndef main():\n    return os.getcwd()\n", 100)
    touch(work / "b.md", "Use OS calls.\n", 10)
    touch(work / "lib/c.py", "print('hi')\n", 50)
    touch(work / ".git/config", "os\n", 1)
    (work / "blob.bin").write_bytes(b"os\x00\x00")
    assert tool(work, "Grep", pattern="os").text.splitlines() == [str(work / "a.py")]
    assert tool(work, "Grep", pattern="os", **{"-i": True}).text.splitlines() == [str(work / "b.md"),
                                                                                  str(work / "a.py")]
    count = tool(work, "Grep", pattern="os", output_mode="count", **{"-i": True}).text.splitlines()
    assert count == [f"{work / 'a.py'}:2", f"{work / 'b.md'}:1"]
    content = tool(work, "Grep", pattern=r"def \w+", output_mode="content", **{"-A": 1}).text
    assert content.splitlines() == [f"{work / 'a.py'}:3:def main():", f"{work / 'a.py'}-4-    return os.getcwd()"]
    grouped = tool(work, "Grep", pattern="os", output_mode="content", glob="*.py").text.splitlines()
    assert grouped == [f"{work / 'a.py'}:1:import os", f"{work / 'a.py'}:4:    return os.getcwd()"]
    context = tool(work, "Grep", pattern="os", output_mode="content", type="py", **{"-C": 1, "-n": False}).text
    assert context.splitlines() == [f"{work / 'a.py'}:import os", f"{work / 'a.py'}-", f"{work / 'a.py'}-def main():",
                                    f"{work / 'a.py'}:    return os.getcwd()"]
    assert tool(work, "Grep", pattern="print", glob="lib/*.py").text == str(work / "lib/c.py")
    assert tool(work, "Grep", pattern="print", glob="*.md").text.startswith("No matches")
    paged = tool(work, "Grep", pattern=".", output_mode="content", glob="*.py", head_limit=2, offset=1).text
    assert paged.splitlines() == [f"{work / 'a.py'}:3:def main():", f"{work / 'a.py'}:4:    return os.getcwd()"]
    spanning = tool(work, "Grep", pattern=r"main\(\):\n\s+return", output_mode="content", multiline=True).text
    assert spanning.splitlines() == [f"{work / 'a.py'}:3:def main():", f"{work / 'a.py'}:4:    return os.getcwd()"]
    assert tool(work, "Grep", pattern="os", path="a.py", output_mode="count").text == f"{work / 'a.py'}:2"
    bad = tool(work, "Grep", pattern="(")
    assert bad.is_error and "invalid regular expression" in bad.text
    assert tool(work, "Grep", pattern="x", output_mode="lines").is_error


def test_grep_output_is_bounded(work):
    (work / "many.txt").write_text("match this line\n" * 5_000)
    out = tool(work, "Grep", pattern="match", output_mode="content").text
    assert len(out) <= MAX_RESULT_CHARS and "more lines: narrow the search, or page with offset=" in out


# ---------------------------------------------------------------------------------------------- Bash


def test_bash_runs_in_the_users_folder_and_reports_failures(work):
    ok = tool(work, "Bash", command="pwd; echo out; echo err >&2")
    assert ok.ok and ok.text == f"{work}\nout\n[stderr]\nerr" and ok.structured["exit_code"] == 0
    failed = tool(work, "Bash", command="exit 3")
    assert failed.is_error and "[exit code 3]" in failed.text and failed.structured["exit_code"] == 3


def test_bash_timeout_kills_the_command_and_what_it_started(work):
    started = time.monotonic()
    r = tool(work, "Bash", command="sleep 30 & echo $! > child.pid; sleep 30", timeout=500)
    assert time.monotonic() - started < 5
    assert r.is_error and "timed out after 500 ms" in r.text and r.structured["timed_out"]
    child = int((work / "child.pid").read_text())
    deadline = time.monotonic() + 3
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_bash_leaves_no_background_job_behind(work):
    r = tool(work, "Bash", command="sleep 30 > /dev/null 2>&1 & echo $!")
    child = int(r.text)
    deadline = time.monotonic() + 3
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert r.ok and not alive(child)


def test_bash_output_is_bounded(work):
    r = tool(work, "Bash", command="head -c 5000000 /dev/zero | tr '\\0' 'a'")
    assert r.structured["truncated"] and r.structured["output_bytes"] == 5_000_000
    assert r.text.endswith("[output cut: 5000000 bytes in all; send it to a file and Read or Grep that]")
    assert len(r.text) <= MAX_RESULT_CHARS and r.for_model() == r.text


def test_bash_gets_no_api_keys_or_secrets(work, monkeypatch):
    key = "sk-proj-" + "k" * 40
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-" + "a" * 30)
    monkeypatch.setenv("GITHUB_TOKEN", "x" * 10)
    monkeypatch.setenv("PGPASSWORD", "hunter2")
    monkeypatch.setenv("SOMETHING", key)  # a key under an innocent name
    monkeypatch.setenv("DATABASE_URL", "postgres://me:hunter2@db/x")
    monkeypatch.setenv("KEEP_ME", "plain")
    out = tool(work, "Bash", command="env").text
    for secret in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GITHUB_TOKEN", "PGPASSWORD", "SOMETHING", "DATABASE_URL",
                   key, "hunter2"):
        assert secret not in out
    assert "KEEP_ME=plain" in out and "PATH=" in out


def test_without_secrets_keeps_ordinary_variables():
    env = {"PATH": "/bin", "HOME": "/h", "LANG": "C.UTF-8", "TOKENIZERS_PARALLELISM": "false", "XKB_KEYMAP": "us",
           "AWS_SECRET_ACCESS_KEY": "a" * 40, "AWS_SESSION_TOKEN": "t", "LITELLM_MASTER_KEY": "m",
           "HF_TOKEN": "h", "GH_PAT": "p", "MY_SERVICE_APIKEY": "k", "CREDENTIALS_FILE": "/c"}
    assert without_secrets(env) == {"PATH": "/bin", "HOME": "/h", "LANG": "C.UTF-8",
                                    "TOKENIZERS_PARALLELISM": "false", "XKB_KEYMAP": "us"}


# ---------------------------------------------------------------------------------------------- RunScript


def skill_folder(root: Path) -> Path:
    skill = root / "skills" / "pdfish"
    (skill / "scripts").mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: pdfish\ndescription: d\n---\nbody\n")
    (skill / "scripts" / "where.py").write_text(
        "import os, sys\nprint(os.getcwd(), *sys.argv[1:], os.environ.get('DOS_SKILL_DIR'), "
        "'OPENAI_API_KEY' in os.environ)\n")
    (skill / "scripts" / "hello.sh").write_text('echo "hello $1"\n')
    (skill / "scripts" / "data.bin").write_text("")
    return skill


def test_run_script_runs_the_skills_script_in_the_users_folder(work, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-" + "k" * 40)
    skill = skill_folder(tmp_path)
    r = tool(work, "RunScript", skill=str(skill / "SKILL.md"), script="scripts/where.py", args=["form.pdf", "2"])
    assert r.ok and r.text == f"{work} form.pdf 2 {skill} False"
    sh = tool(work, "RunScript", skill=str(skill / "SKILL.md"), script="./scripts/hello.sh", args=["you"])
    assert sh.ok and sh.text == "hello you"


def test_run_script_refuses_paths_outside_the_skill(work, tmp_path):
    skill = skill_folder(tmp_path)
    (tmp_path / "skills" / "evil.py").write_text("print('ran')\n")
    (skill / "scripts" / "link.py").symlink_to(tmp_path / "skills" / "evil.py")
    at = str(skill / "SKILL.md")
    for script in ("../evil.py", str(tmp_path / "skills" / "evil.py"), "scripts/link.py", "scripts/../../evil.py"):
        r = tool(work, "RunScript", skill=at, script=script)
        assert r.is_error and "outside the skill's folder" in r.text and "ran" not in r.text, script
    assert "no script" in tool(work, "RunScript", skill=at, script="scripts/missing.py").text
    assert "cannot run .bin" in tool(work, "RunScript", skill=at, script="scripts/data.bin").text
    assert "no skill is active" in tool(work, "RunScript", script="scripts/where.py").text
    assert "list of strings" in tool(work, "RunScript", skill=at, script="scripts/where.py", args="a b").text


def test_run_script_is_offered_only_for_a_skill_with_files(tmp_path):
    skill = skill_folder(tmp_path)
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "SKILL.md").write_text("x")
    host = BuiltinTools(lambda: tmp_path)

    def names(skill_file: str) -> list[str]:
        spec = ServerSpec(BUILTIN, "builtin", "dos", skill=skill_file)
        return [t.name for t in host.list_tools([spec])[0].tools]

    assert names(str(skill / "SKILL.md")) == ["Read", "Write", "Edit", "Glob", "Grep", "Bash", "RunScript"]
    assert names(str(bare / "SKILL.md")) == names("") == ["Read", "Write", "Edit", "Glob", "Grep", "Bash"]


# ---------------------------------------------------------------------------------------------- names and the loop


def test_builtin_tools_keep_claude_codes_bare_names_and_the_name_is_reserved():
    assert ToolSpec(BUILTIN, "Read").qualified == "Read"
    assert ToolSpec(BUILTIN, "Read").for_model()["function"]["name"] == "Read"
    assert ToolSpec("time", "now").qualified == "time__now"
    assert "reserved" in name_problem("builtin")


def test_only_the_request_enables_builtin_tools_never_a_skill():
    declared = [ServerSpec(BUILTIN, "builtin", "dos"), ServerSpec("time", "stdio", "t", command="x")]
    skill = Skill("s", "d", "b", "/sk/SKILL.md", "user", {"allowed-tools": "* Read Bash", "dos": {"tools": "builtin"}})
    assert [s.name for s in wanted_servers(skill, TurnRequest("s", "hi"), declared)] == ["time"]
    chosen = wanted_servers(skill, TurnRequest("s", "hi", tools=("builtin",)), declared)
    assert [(s.name, s.skill) for s in chosen] == [("builtin", "/sk/SKILL.md"), ("time", "")]
    assert wanted_servers(skill, TurnRequest("s", "hi", tools=("*",)), declared)[0].name == "time"


class McpHost:
    def __init__(self):
        self.spec, self.calls, self.closed = ServerSpec("time", "stdio", "t", command="x"), [], False

    def servers(self):
        return [self.spec]

    def list_tools(self, servers):
        return [ServerTools(self.spec, (ToolSpec("time", "now"),))]

    def call(self, server, tool, arguments):
        self.calls.append(tool)
        return ToolResult(text="12:00")

    def close(self):
        self.closed = True


class Calls:
    """A model that makes the given calls, one round each, then answers."""

    def __init__(self, calls):
        self.calls, self.seen = list(calls), []

    def stream(self, model, messages, *, max_tokens, temperature, **options):
        self.seen.append((messages, options))
        if self.calls and options.get("tools"):
            name, arguments = self.calls.pop(0)
            yield Chunk(tool_calls=(ToolCall(f"c{len(self.seen)}", name, arguments),))
            yield Chunk(finish_reason="tool_calls", usage=Usage(1, 1), cost=0.0)
            return
        yield Chunk(text="done")
        yield Chunk(finish_reason="stop", usage=Usage(1, 1), cost=0.0)


class Memory:
    def __init__(self):
        self.events = []

    def append(self, event):
        self.events.append(event)
        return event


def run_loop(work: Path, calls, hooks=NO_HOOKS, mcp: McpHost | None = None) -> tuple[Calls, Memory]:
    host = CombinedTools(BuiltinTools(lambda: work), mcp or McpHost())
    model, memory = Calls(calls), Memory()
    session = hooks.session(session_id="S", turn_id="T", skill="s", pack=None, model="m")
    loop = ToolLoop(model, host, Skill("s", "d", "b", "", "user"), TurnRequest("s", "hi", tools=("builtin", "time")),
                    session, memory, {"session_id": "S", "turn_id": "T", "skill": "s"}, lambda _: None)
    assert loop.prepare()
    assert "".join(c.text for c in loop.stream("m", [], max_tokens=None, temperature=None)) == "done"
    return model, memory


def test_the_loop_offers_builtin_and_mcp_tools_side_by_side_and_runs_both(work):
    (work / "a.txt").write_text("hello\n")
    mcp = McpHost()
    model, memory = run_loop(work, [("Read", '{"file_path": "a.txt"}'), ("time__now", "{}"), ("builtin__Read", "{}")],
                             mcp=mcp)
    offered = [t["function"]["name"] for t in model.seen[0][1]["tools"]]
    assert offered == ["Read", "Write", "Edit", "Glob", "Grep", "Bash", "time__now"]
    results = [e for e in memory.events if e.kind == "tool_result"]
    assert [r.data["tool"] for r in results] == ["Read", "time__now", "builtin__Read"]
    assert results[0].text == "     1\thello" and results[0].data["ok"]
    assert mcp.calls == ["now"] and results[2].data["refused"]
    assert mcp.closed


def test_a_pretooluse_matcher_on_bash_blocks_bash_and_not_read(work, tmp_path):
    """A hook written for Claude Code (`matcher: Bash`) sees the same tool_name here."""
    (work / "a.txt").write_text("hello\n")
    block = script(tmp_path, "no-bash.sh", "echo 'no shell today' >&2\nexit 2\n")
    specs = [cmd("PreToolUse", block, matcher="Bash")]
    hooks = Hooks(HookProcessRunner(lambda: (specs, []), cwd=str(work)), lambda _: None, str(work))
    _, memory = run_loop(work, [("Bash", '{"command": "touch ran"}'), ("Read", '{"file_path": "a.txt"}')], hooks)
    results = [e for e in memory.events if e.kind == "tool_result"]
    assert results[0].data["refused"] and "no shell today" in results[0].data["error"]
    assert not (work / "ran").exists()
    assert results[1].data["ok"] and results[1].text == "     1\thello"
