"""The file tools: Read, Write, Edit, Glob, Grep, with Claude Code's argument names. Each takes the user's folder
(relative paths start there) and the call's arguments, and returns the text the model reads; a call that cannot be
done raises `BadCall` with the reason. Output is bounded: what does not fit says how to get the rest.

Grep is Python's `re` over the files (no ripgrep needed): binary files, files over `GREP_FILE_BYTES` and version
control folders (.git, .hg, .svn) are skipped.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from dos.adapters.tools.arguments import BadCall, flag, number, path_in, text
from dos.core.tools import MAX_RESULT_CHARS

BUDGET = MAX_RESULT_CHARS - 200  # of one result, leaving room for the note on what was left out
READ_LINES = 2_000  # Read's default and largest `limit`, as Claude Code's
LINE_CHARS = 2_000  # a longer line is cut
LINE_BYTES = 64_000  # read of one line at most (a minified file is one huge line)
BINARY_PROBE = 8_192  # bytes looked at for a NUL
GLOB_SHOWN = 100  # paths a Glob shows
SCAN_ENTRIES = 200_000  # folder entries a Glob or Grep walks at most
SCAN_S = 20.0  # and seconds
GREP_FILE_BYTES = 10_000_000
SKIP_DIRS = frozenset({".git", ".hg", ".svn"})
GREP_MODES = ("files_with_matches", "content", "count")
# Grep's `type` (ripgrep's names for the common ones); another value is taken as an extension.
TYPES = {"py": (".py", ".pyi"), "js": (".js", ".mjs", ".cjs", ".jsx"), "ts": (".ts", ".tsx", ".mts", ".cts"),
         "md": (".md", ".markdown"), "markdown": (".md", ".markdown"), "yaml": (".yaml", ".yml"),
         "sh": (".sh", ".bash", ".zsh"), "rust": (".rs",), "go": (".go",), "c": (".c", ".h"),
         "cpp": (".cpp", ".cc", ".cxx", ".hpp", ".hh", ".h"), "java": (".java",), "html": (".html", ".htm"),
         "css": (".css", ".scss"), "json": (".json",), "toml": (".toml",), "txt": (".txt",), "ruby": (".rb",)}


# ---------------------------------------------------------------------------------------------- Read, Write, Edit


def read(folder: Path, args: dict[str, Any]) -> str:
    """Lines numbered as `cat -n` does, from `offset` (1-based), at most `limit` of them."""
    path = path_in(folder, text(args, "file_path"))
    start = max(1, number(args, "offset", 1, 0, 10**9))
    limit = number(args, "limit", READ_LINES, 1, READ_LINES)
    _must_be_file(path)
    shown: list[str] = []
    size, last, more_at = 0, 0, None
    with path.open("rb") as f:
        if b"\0" in f.read(BINARY_PROBE):
            raise BadCall(f"{path} is a binary file ({path.stat().st_size} bytes); Read shows text files only")
        f.seek(0)
        for last, line in enumerate(_lines(f), 1):
            if last < start:
                continue
            entry = f"{last:>6}\t{line}"
            if len(shown) >= limit or (shown and size + len(entry) + 1 > BUDGET):
                more_at = last
                break
            shown.append(entry)
            size += len(entry) + 1
    if not shown:
        if last == 0:
            return f"(file {path} is empty)"
        raise BadCall(f"{path} has {last} lines; offset {start} is past its end")
    note = f"\n[more lines follow: read on with offset={more_at}]" if more_at else ""
    return "\n".join(shown) + note


def _lines(f: BinaryIO) -> Iterator[str]:
    """The file's lines as text without their line ends; a line is read up to `LINE_BYTES` and cut at
    `LINE_CHARS`, the rest of it skipped."""
    while True:
        raw = f.readline(LINE_BYTES)
        if not raw:
            return
        if len(raw) == LINE_BYTES and not raw.endswith(b"\n"):
            while (rest := f.readline(LINE_BYTES)) and not rest.endswith(b"\n"):
                pass
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        yield line if len(line) <= LINE_CHARS else line[:LINE_CHARS] + " [line cut]"


def write(folder: Path, args: dict[str, Any]) -> str:
    path = path_in(folder, text(args, "file_path"))
    content = text(args, "content", empty=True)
    if path.is_dir():
        raise BadCall(f"{path} is a folder")
    existed = path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(content)
    return f"{'Overwrote' if existed else 'Created'} {path} ({len(content.encode('utf-8'))} bytes)"


def edit(folder: Path, args: dict[str, Any]) -> str:
    """Replace `old_string` with `new_string`: it must occur exactly once, unless `replace_all`."""
    path = path_in(folder, text(args, "file_path"))
    old = text(args, "old_string", empty=True)
    new = text(args, "new_string", empty=True)
    every = flag(args, "replace_all")
    if not old:
        raise BadCall("'old_string' must not be empty (to create a file, use Write)")
    if old == new:
        raise BadCall("'old_string' and 'new_string' are the same: nothing to change")
    _must_be_file(path)
    try:
        with path.open(encoding="utf-8", newline="") as f:
            content = f.read()
    except UnicodeDecodeError:
        raise BadCall(f"{path} is not UTF-8 text") from None
    count = content.count(old)
    if count == 0:
        raise BadCall(f"'old_string' was not found in {path} (it must match exactly, whitespace included)")
    if count > 1 and not every:
        raise BadCall(f"'old_string' occurs {count} times in {path}: include more of the text around it to make "
                      f"it unique, or set replace_all to change every one")
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(content.replace(old, new) if every else content.replace(old, new, 1))
    return f"Edited {path}: {count if every else 1} replacement(s)"


def _must_be_file(path: Path) -> None:
    if path.is_dir():
        raise BadCall(f"{path} is a folder, not a file (list it with Glob)")
    if not path.exists():
        raise BadCall(f"{path} does not exist")


# ---------------------------------------------------------------------------------------------- Glob, Grep


def glob(folder: Path, args: dict[str, Any]) -> str:
    """The files matching `pattern` under `path`, most recently modified first."""
    pattern = text(args, "pattern")
    root = path_in(folder, text(args, "path")) if args.get("path") else folder
    if os.path.isabs(pattern):
        root, pattern = _split_absolute(Path(pattern))
    if not root.is_dir():
        raise BadCall(f"{root} is not a folder")
    match = glob_regex(pattern).fullmatch
    walk = _Walk(root)
    found = [(p, m) for p, rel, m in walk.files() if match(rel)]
    if not found:
        return f"No files match {pattern} under {root}" + walk.note()
    found.sort(key=lambda pm: (-pm[1], str(pm[0])))
    out = "\n".join(str(p) for p, _ in found[:GLOB_SHOWN])
    if len(found) > GLOB_SHOWN:
        out += f"\n[{len(found) - GLOB_SHOWN} more files match: narrow the pattern or the path]"
    return out + walk.note()


def _split_absolute(pattern: Path) -> tuple[Path, str]:
    """/a/b/**/*.py -> (/a/b, **/*.py): the longest leading part without wildcards is the root."""
    parts = pattern.parts
    cut = next((i for i, p in enumerate(parts) if any(c in p for c in "*?[{")), len(parts) - 1)
    return Path(*parts[:cut]), "/".join(parts[cut:])


def grep(folder: Path, args: dict[str, Any]) -> str:
    pattern = text(args, "pattern")
    root = path_in(folder, text(args, "path")) if args.get("path") else folder
    mode = text(args, "output_mode", "files_with_matches")
    if mode not in GREP_MODES:
        raise BadCall(f"'output_mode' must be one of {', '.join(GREP_MODES)}")
    multiline = flag(args, "multiline")
    flags = (re.IGNORECASE if flag(args, "-i") else 0) | (re.MULTILINE | re.DOTALL if multiline else 0)
    try:
        rx = re.compile(pattern, flags)
    except re.error as exc:
        raise BadCall(f"invalid regular expression: {exc}") from None
    around = number(args, "-C", number(args, "context", 0, 0, 50), 0, 50)
    before, after = number(args, "-B", around, 0, 50), number(args, "-A", around, 0, 50)
    numbered = flag(args, "-n", True)
    head_limit, skip = number(args, "head_limit", 0, 0, 100_000), number(args, "offset", 0, 0, 10**9)
    wanted = _file_filter(args.get("glob"), args.get("type"))
    if not root.exists():
        raise BadCall(f"{root} does not exist")
    walk = _Walk(root)
    files = [(root, root.name, root.stat().st_mtime)] if root.is_file() else walk.files()
    entries: list[tuple[float, str]] = []  # (mtime, line) for files_with_matches; (0, line) else
    for path, rel, mtime in sorted(files, key=lambda f: f[1]):
        if not wanted(rel) or (content := _text_of(path)) is None:
            continue
        hits = _hit_lines(rx, content, multiline)
        if not hits:
            continue
        if mode == "files_with_matches":
            entries.append((mtime, str(path)))
        elif mode == "count":
            entries.append((0, f"{path}:{len(hits)}"))
        else:
            entries += [(0, line) for line in _content_lines(str(path), content, hits, before, after, numbered)]
    if mode == "files_with_matches":
        entries.sort(key=lambda e: -e[0])
    lines = [line for _, line in entries][skip:]
    if head_limit:
        lines = lines[:head_limit]
    if not lines:
        return f"No matches for {pattern} under {root}" + walk.note()
    shown, size = [], 0
    for line in lines:
        if shown and size + len(line) + 1 > BUDGET:
            break
        shown.append(line)
        size += len(line) + 1
    rest = len(lines) - len(shown)
    note = f"\n[{rest} more lines: narrow the search, or page with offset={skip + len(shown)}]" if rest else ""
    return "\n".join(shown) + note + walk.note()


def _file_filter(glob_value: Any, type_value: Any) -> Any:
    """Grep's `glob` (a name pattern, or a path pattern if it has a '/') and `type`, as a test on a relative path."""
    if glob_value is not None and not isinstance(glob_value, str) or type_value is not None and not isinstance(
            type_value, str):
        raise BadCall("'glob' and 'type' must be strings")
    name_rx = glob_regex(glob_value) if glob_value else None
    suffixes = TYPES.get(type_value, ("." + type_value.lstrip("."),)) if type_value else None

    def wanted(rel: str) -> bool:
        name = rel.rsplit("/", 1)[-1]
        if name_rx and not name_rx.fullmatch(rel if "/" in glob_value else name):
            return False
        return not suffixes or name.endswith(suffixes)

    return wanted


def _text_of(path: Path) -> str | None:
    """A file's text, or None for a binary, unreadable or too large one."""
    try:
        if path.stat().st_size > GREP_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:BINARY_PROBE]:
        return None
    return data.decode("utf-8", "replace")


def _hit_lines(rx: re.Pattern[str], content: str, multiline: bool) -> list[int]:
    """The 0-based numbers of the lines a match touches (a multiline match: every line it spans)."""
    if not multiline:
        return [i for i, line in enumerate(content.splitlines()) if rx.search(line)]
    starts = [0] + [m.end() for m in re.finditer("\n", content)]
    hits: set[int] = set()
    for m in rx.finditer(content):
        first = _line_at(starts, m.start())
        hits.update(range(first, _line_at(starts, max(m.start(), m.end() - 1)) + 1))
    return sorted(hits)


def _line_at(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _content_lines(path: str, content: str, hits: list[int], before: int, after: int, numbered: bool) -> list[str]:
    """ripgrep's layout: `path:N:line` for a match, `path-N-line` for context, `--` between groups of context."""
    lines = content.splitlines()
    hit_set = set(hits)
    keep = sorted({j for i in hits for j in range(max(0, i - before), min(len(lines), i + after + 1))})
    out: list[str] = []
    previous = None
    for i in keep:
        if previous is not None and i > previous + 1 and (before or after):
            out.append("--")
        sep = ":" if i in hit_set else "-"
        line = lines[i] if len(lines[i]) <= LINE_CHARS else lines[i][:LINE_CHARS] + " [line cut]"
        out.append(f"{path}{sep}{i + 1}{sep}{line}" if numbered else f"{path}{sep}{line}")
        previous = i
    return out


class _Walk:
    """The files under a folder (version control folders skipped, symlinked folders not followed), within
    `SCAN_ENTRIES` entries and `SCAN_S` seconds; `note()` says if it stopped early."""

    def __init__(self, root: Path):
        self.root, self.stopped = root, False

    def files(self) -> list[tuple[Path, str, float]]:
        out: list[tuple[Path, str, float]] = []
        seen, deadline = 0, time.monotonic() + SCAN_S
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            seen += len(dirs) + len(names)
            if seen > SCAN_ENTRIES or time.monotonic() > deadline:
                self.stopped = True
                break
            base = os.path.relpath(folder, self.root)
            for name in names:
                path = Path(folder, name)
                try:
                    mtime = path.stat().st_mtime
                except OSError:
                    continue
                out.append((path, name if base == "." else f"{base}/{name}".replace(os.sep, "/"), mtime))
        return out

    def note(self) -> str:
        return f"\n[the search stopped early ({SCAN_ENTRIES} entries or {SCAN_S:g} s): give a narrower path]" \
            if self.stopped else ""


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as a regular expression on a relative path with '/': `*` and `?` stay within a name, `**/` spans
    folders (none included), `[abc]` / `[!abc]` classes, `{a,b}` alternatives."""
    return re.compile(_glob_body(pattern))


def _glob_body(pattern: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1:end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
            continue
        elif c == "{" and (end := pattern.find("}", i)) != -1:
            out.append("(?:" + "|".join(_glob_body(alt) for alt in pattern[i + 1:end].split(",")) + ")")
            i = end + 1
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)
