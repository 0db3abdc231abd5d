"""Notice when the station's inputs change: config.yaml, playlists/, the library catalogue, audio/.

Polling mtimes every few seconds is simple, needs no inotify, and survives editors that replace files by rename.
The fingerprint is a sorted tuple of (path, mtime_ns, size); any difference means "re-plan".
"""

from __future__ import annotations

import os
from pathlib import Path

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(paths: list[Path]) -> Fingerprint:
    """Files (and, for folders, every file below) with their mtime and size; missing ones count too."""
    seen: list[tuple[str, int, int]] = []
    for path in paths:
        if path.is_dir():
            for folder, _dirs, files in os.walk(path):
                for name in files:
                    seen.append(_stat(Path(folder) / name))
        else:
            seen.append(_stat(path))
    return tuple(sorted(seen))


def _stat(path: Path) -> tuple[str, int, int]:
    try:
        st = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), st.st_mtime_ns, st.st_size)


class ChangeWatch:
    """`changed()` is True once after any of the watched files changes."""

    def __init__(self, paths: list[Path]):
        self.paths = paths
        self._last = fingerprint(paths)

    def retarget(self, paths: list[Path]) -> None:
        self.paths = paths
        self._last = fingerprint(paths)

    def changed(self) -> bool:
        now = fingerprint(self.paths)
        if now != self._last:
            self._last = now
            return True
        return False
