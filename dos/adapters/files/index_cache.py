"""A JSON cache of what was read from files, keyed by path and checked by mtime and size."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dos.adapters.files.private import private_dir, replace_private

VERSION = 4  # 2: problems carry the line of the nested key (metadata.dos.*); 3: text is printable (no controls);
# 4: skills keep the spec errors they load despite ("bends")


class IndexCache:
    """`get(path, build)` returns the record cached for `path` if the file is unchanged, else `build(path)`.
    `save()` writes it back atomically; a missing or corrupt cache is just rebuilt."""

    def __init__(self, file: Path | None):
        self.file = file
        self.dirty = False
        self.used: set[str] = set()
        self.entries: dict[str, list[Any]] = {}
        if file is not None:
            try:
                data = json.loads(file.read_bytes())
                if data.get("version") == VERSION and isinstance(data.get("entries"), dict):
                    self.entries = data["entries"]
            except (OSError, ValueError, AttributeError):
                self.dirty = True

    def get(self, path: Path, build: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
        key = str(path)
        self.used.add(key)
        try:
            st = path.stat()
            stamp = [st.st_mtime_ns, st.st_size]
        except OSError:
            return build(path)
        hit = self.entries.get(key)
        if isinstance(hit, list) and len(hit) == 3 and hit[:2] == stamp and isinstance(hit[2], dict):
            return hit[2]
        record = build(path)
        self.entries[key] = [*stamp, record]
        self.dirty = True
        return record

    def save(self, prune: bool = False) -> None:
        """Write the cache if it changed; `prune` drops entries not used since it was loaded."""
        if prune and set(self.entries) - self.used:
            self.entries = {k: v for k, v in self.entries.items() if k in self.used}
            self.dirty = True
        if self.file is None or not self.dirty:
            return
        try:
            private_dir(self.file.parent)
            replace_private(self.file, json.dumps({"version": VERSION, "entries": self.entries},
                                                  ensure_ascii=False).encode())
            self.dirty = False
        except OSError:
            pass  # a cache that cannot be written only costs speed
