"""DOS's folders and files are readable by their owner alone: folders 0700, files (memory.db and its -wal/-shm, the
anchor, kernel.log, sockets, config, trust, caches) 0600.

New ones are born private: created with an explicit mode (os.open / os.mkdir), never chmod-ed after, so no other
user can open them in between. Folders and files made by older versions, or by a path that forgot, are tightened
once per process when DOS starts (`secure_home`), data kept, with one line on stderr naming what changed.

Imports only `os` and `stat`: the kernel's thin client may call it (see dos.kernel.client).
"""

from __future__ import annotations

import os
import stat

DIR_MODE = 0o700
FILE_MODE = 0o600
_OTHERS = 0o077  # group and other bits: none of them may be set
_secured: set[tuple[str, ...]] = set()


def private_dir(path: str | os.PathLike) -> None:
    """`mkdir -p path`, the folder itself born 0700 (parents that must be made too are left to the umask: they
    are the user's, e.g. ~/.local/share)."""
    os.makedirs(path, DIR_MODE, exist_ok=True)


def private_opener(path: str | os.PathLike, flags: int) -> int:
    """An `opener` for open(): a file it creates is born 0600. Example: open(log, "ab", opener=private_opener)."""
    return os.open(path, flags, FILE_MODE)


def write_private(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` (created 0600 if new, truncated if not)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def replace_private(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to a new 0600 file beside `path`, then rename it over `path`: a reader sees the old content
    or the new, never half of it. The temporary name is unique per process and thread."""
    import threading  # here, not at the top: the thin client imports this module and never writes this way

    tmp = f"{os.fspath(path)}.{os.getpid()}.{threading.get_ident()}.tmp"
    write_private(tmp, data)
    os.replace(tmp, path)


def create_private(path: str | os.PathLike) -> None:
    """Make `path` exist, born 0600 if new (e.g. a SQLite database before SQLite opens it: SQLite gives its -wal
    and -shm the database file's own mode)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))


def tighten(folders: list[str | os.PathLike]) -> list[str]:
    """Make each folder that exists 0700 and everything directly in it (files, sockets, sub-folders) private,
    keeping the owner's own bits; returns the paths it changed. Symbolic links are left alone:
    what they point to is not DOS's. Sub-folders' contents are not walked: the 0700 folders above keep them."""
    changed: list[str] = []

    def fix(path: str, mode: int, private: int) -> None:
        if stat.S_IMODE(mode) & _OTHERS:
            new = stat.S_IMODE(mode) & private
            try:
                os.chmod(path, new)
            except OSError:  # not ours (another user's file in our folder?): nothing we may do
                return
            changed.append(path)

    for folder in map(os.fspath, folders):
        try:
            info = os.lstat(folder)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode):
            continue
        fix(folder, info.st_mode, DIR_MODE)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                continue
            if stat.S_ISDIR(mode):
                fix(entry.path, mode, DIR_MODE)
            elif stat.S_ISREG(mode) or stat.S_ISSOCK(mode):
                fix(entry.path, mode, 0o700)  # an executable stays executable, for its owner alone
    return changed


def secure_home(folders: list[str | os.PathLike], notify=None) -> list[str]:  # notify: Callable[[str], None]
    """Once per process: create the DOS folders 0700 when missing and tighten what is there (see `tighten`);
    `notify` gets one line naming what was tightened, if anything was. Returns that list."""
    key = tuple(map(os.fspath, folders))
    if key in _secured:
        return []
    _secured.add(key)
    for folder in key:
        try:
            private_dir(folder)
        except OSError:  # an unusable DOS_HOME: the command that needs the folder says so, in its own words
            pass
    changed = tighten(list(key))
    if changed and notify:
        top = os.path.commonpath(changed) if len(changed) > 1 else os.path.dirname(changed[0])
        names = [os.path.relpath(path, top) for path in changed]
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        notify(f"made private (readable by you alone, data kept) in {top}: {shown}")
    return changed
