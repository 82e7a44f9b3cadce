"""Live reload: a watchdog observer on the skill, pack and hook folders marks the chat session stale; the next
turn rebuilds the Dos object (and so every cache) and says so in one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from dos.context import cwd

# Files in the config folder that change what a turn does.
CONFIG_FILES = {"hooks.yaml", "packs.json", "config.yaml", "models.yaml", "trusted.json"}  # `dos trust` elsewhere too
IGNORED_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal", ".pyc", ".swp", ".swx", "~", ".tmp")


def watched(dos: Any) -> list[tuple[Path, bool, str]]:
    """(folder, recursive, what) for each place whose files change skills, packs or hooks; existing only."""
    from dos.bootstrap import builtin_dir

    project = cwd()
    places = [
        (dos.paths.user_skills, True, "skills"),
        (dos.paths.user_packs, True, "packs"),
        (dos.paths.config, False, "settings"),
        (project / ".dos", True, "project"),
        (project / ".claude", True, "hooks"),
        (builtin_dir("packs"), True, "packs"),
    ]
    return [(p, r, w) for p, r, w in places if p.is_dir()]


def start_watcher(dos: Any, changed: Callable[[str], None]) -> Any:
    """A running watchdog Observer calling `changed("what: path")` for relevant changes; None if watchdog
    cannot watch here (e.g. no inotify left): live reload is a convenience, never a failure."""
    try:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer
    except ImportError:
        return None

    class Handler(FileSystemEventHandler):
        def __init__(self, root: Path, what: str):
            self.root, self.what = root, what

        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type in ("opened", "closed_no_write") or event.is_directory and event.event_type == "modified":
                return
            path = Path(str(getattr(event, "dest_path", "") or event.src_path))
            name = path.name
            if name.endswith(IGNORED_SUFFIXES) or name.startswith(".#") or "__pycache__" in path.parts:
                return
            if self.what == "settings" and name not in CONFIG_FILES:
                return
            try:
                shown = path.relative_to(self.root.parent)
            except ValueError:
                shown = path
            changed(str(shown))

    observer = Observer()
    observer.daemon = True
    try:
        for folder, recursive, what in watched(dos):
            observer.schedule(Handler(folder, what), str(folder), recursive=recursive)
        observer.start()
    except Exception:  # noqa: BLE001 - OSError from inotify limits, and watchdog's own errors
        return None
    return observer
