"""The `ToolHost` port for DOS's built-in tools: one server, `builtin` (dos.core.tools.BUILTIN), whose tools the
model sees by Claude Code's bare names and argument shapes: Read, Write, Edit, Glob, Grep, Bash, and RunScript
(a script of the active skill; Claude Code's models run those through Bash).

Relative paths start in the user's folder (the client's, under the kernel: dos.context); so do commands. A call
that cannot be done is an error result for the model (`ToolResult.is_error`), never an exception.

Which calls may run is not decided here: the tool loop offers these tools only when a turn's request names
`builtin`, and checks each call before it reaches `call`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from dos.adapters.tools import file_tools, run_tools
from dos.adapters.tools.arguments import BadCall
from dos.context import cwd
from dos.core.tools import BUILTIN, ServerSpec, ServerTools, ToolResult, ToolSpec, one_line


def _schema(required: list[str], **properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


_PATH = "absolute, or relative to the user's folder"
_STR, _INT, _BOOL = "string", "integer", "boolean"

TOOLS = (
    ToolSpec(BUILTIN, "Read", "Read a text file. Lines come numbered like `cat -n`, up to 2000 from `offset`; "
             "a long file says where to read on.", _schema(
                 ["file_path"],
                 file_path={"type": _STR, "description": f"The file to read ({_PATH})"},
                 offset={"type": _INT, "description": "The line number to start at (1 = the first line)"},
                 limit={"type": _INT, "description": "How many lines to read (at most 2000)"})),
    ToolSpec(BUILTIN, "Write", "Write a file, creating it (and its folders) or replacing all its content. To "
             "change part of a file, use Edit.", _schema(
                 ["file_path", "content"],
                 file_path={"type": _STR, "description": f"The file to write ({_PATH})"},
                 content={"type": _STR, "description": "The whole new content"})),
    ToolSpec(BUILTIN, "Edit", "Replace exact text in a file. `old_string` must occur exactly once, unless "
             "`replace_all` is true.", _schema(
                 ["file_path", "old_string", "new_string"],
                 file_path={"type": _STR, "description": f"The file to change ({_PATH})"},
                 old_string={"type": _STR, "description": "The exact text to replace, whitespace included"},
                 new_string={"type": _STR, "description": "The text to put in its place"},
                 replace_all={"type": _BOOL, "description": "Replace every occurrence (default false)"})),
    ToolSpec(BUILTIN, "Glob", "Find files by name pattern (`**/*.py`, `src/**/*.{ts,tsx}`), most recently "
             "modified first.", _schema(
                 ["pattern"],
                 pattern={"type": _STR, "description": "The glob pattern, relative to `path`"},
                 path={"type": _STR, "description": f"The folder to search ({_PATH}; default: the user's folder)"})),
    ToolSpec(BUILTIN, "Grep", "Search file contents with a regular expression (Python syntax). Binary files and "
             ".git are skipped.", _schema(
                 ["pattern"],
                 pattern={"type": _STR, "description": "The regular expression"},
                 path={"type": _STR, "description": f"A file or folder to search ({_PATH}; default: the user's "
                                                    "folder)"},
                 glob={"type": _STR, "description": "Only files matching this glob, e.g. *.py or src/**/*.ts"},
                 type={"type": _STR, "description": "Only files of this type, e.g. py, js, md"},
                 output_mode={"type": _STR, "enum": list(file_tools.GREP_MODES),
                              "description": "files_with_matches (default): file paths; content: the matching "
                                             "lines; count: matches per file"},
                 **{"-i": {"type": _BOOL, "description": "Ignore case"},
                    "-n": {"type": _BOOL, "description": "Line numbers in content mode (default true)"},
                    "-A": {"type": _INT, "description": "Lines of context after each match (content mode)"},
                    "-B": {"type": _INT, "description": "Lines of context before each match (content mode)"},
                    "-C": {"type": _INT, "description": "Lines of context around each match (content mode)"}},
                 multiline={"type": _BOOL, "description": "Let a match span lines (`.` matches newlines)"},
                 head_limit={"type": _INT, "description": "Show only the first N lines or entries"},
                 offset={"type": _INT, "description": "Skip the first N lines or entries"})),
    ToolSpec(BUILTIN, "Bash", "Run a shell command (bash) in the user's folder and get its output. No API keys "
             "are in its environment; stdin is empty.", _schema(
                 ["command"],
                 command={"type": _STR, "description": "The command"},
                 timeout={"type": _INT, "description": "Time limit in milliseconds (default 120000, at most "
                                                       "600000)"},
                 description={"type": _STR, "description": "What the command does, in a few words"})),
    ToolSpec(BUILTIN, "RunScript", "Run a script bundled with the active skill (Python .py, shell .sh, Node "
             ".js) in the user's folder, e.g. script=scripts/extract.py args=[\"form.pdf\"].", _schema(
                 ["script"],
                 script={"type": _STR, "description": "The script's path inside the skill's folder"},
                 args={"type": "array", "items": {"type": _STR}, "description": "Its command-line arguments"},
                 timeout={"type": _INT, "description": "Time limit in milliseconds (default 120000, at most "
                                                       "600000)"})),
)
FILE_TOOLS: dict[str, Callable[[Path, dict[str, Any]], str]] = {
    "Read": file_tools.read, "Write": file_tools.write, "Edit": file_tools.edit, "Glob": file_tools.glob,
    "Grep": file_tools.grep}


class BuiltinTools:
    """The built-in tools as one server in the caller's folder (`folder`: where relative paths start)."""

    def __init__(self, folder: Callable[[], Path] = cwd):
        self._folder = folder

    def servers(self) -> list[ServerSpec]:
        return [ServerSpec(BUILTIN, "builtin", "dos", cwd=str(self._folder()))]

    def list_tools(self, servers: list[ServerSpec]) -> list[ServerTools]:
        """Every tool; RunScript only when the active skill's folder holds more than its SKILL.md."""
        return [ServerTools(s, tuple(t for t in TOOLS if t.name != "RunScript" or _has_files(s.skill)))
                for s in servers]

    def call(self, server: ServerSpec, tool: str, arguments: dict[str, Any]) -> ToolResult:
        started = time.monotonic()
        folder = Path(server.cwd) if server.cwd else self._folder()
        try:
            if tool in FILE_TOOLS:
                result = ToolResult(text=FILE_TOOLS[tool](folder, arguments))
            elif tool == "Bash":
                ran = run_tools.bash(folder, arguments)
                result = ToolResult(text=ran.text, is_error=ran.failed, structured=ran.data)
            elif tool == "RunScript":
                ran = run_tools.run_script(folder, server.skill, arguments)
                result = ToolResult(text=ran.text, is_error=ran.failed, structured=ran.data)
            else:
                raise BadCall(f"there is no built-in tool named '{tool}'")
        except BadCall as exc:
            result = ToolResult(text=str(exc), is_error=True)
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            result = ToolResult(text=f"{exc.strerror or exc}{where}", is_error=True)
        except Exception as exc:  # noqa: BLE001 - a tool's failure is the model's to read, not the turn's end
            result = ToolResult(text=one_line(f"{type(exc).__name__}: {exc}"), is_error=True)
        return replace(result, duration_s=round(time.monotonic() - started, 4))

    def close(self) -> None:
        pass


def _has_files(skill_file: str) -> bool:
    if not skill_file:
        return False
    try:
        return any(p.name != "SKILL.md" for p in Path(skill_file).parent.iterdir())
    except OSError:
        return False
