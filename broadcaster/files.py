"""Files that survive a power cut, and the small file helpers every stage shares.

A file the station writes for itself (plan cache, state markers, catalogue, station copies, feed clips, an
edited config) either appears whole under its name or not at all: write to a hidden temp file beside it, flush
it to disk, rename it over the name, then flush the folder, because the rename lives in the folder's entry.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

CHUNK = 1 << 20  # bytes read at a time when hashing: large files never sit in memory whole
# Modes of the library's files, whoever writes them (root at the terminal, or the service): the service's group
# reads audio, sidecars and station copies, writes the catalogue and its lock, and adds files to the folders (the
# feed ingests as the service). Others get nothing. Setgid folders keep the group on what is made inside.
GROUP_READABLE = 0o640
GROUP_WRITABLE = 0o660
SHARED_FOLDER = 0o2770


def fsync_dir(folder: Path) -> None:
    # A rename survives a power cut only once the folder holding the new name is flushed too.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(target: str | Path, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temp path beside `target` to write; when the block ends without an error, the temp file is
    synced, renamed over `target` and the folder synced. On an error `target` is untouched and the temp gone.

    `mode` defaults to that of the file replaced (an operator's 0640 config stays 0640), else 0644; 0o600 for
    what only the station may read. The new file keeps the owner and group of the file it replaces, or takes the
    group of its folder, so a file written by root (an operator at the terminal) stays readable by the service's
    group that owns the folder."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")  # hidden, unique per writer
    owner = _owner_for(target)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _give(fd, *owner)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)  # fsync needs a descriptor; the writer may have closed its own
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _owner_for(target: Path) -> tuple[int, int]:
    """Owner and group of the file about to be replaced, else the group of its folder (as a setgid folder does)."""
    try:
        st = target.stat()
        return st.st_uid, st.st_gid
    except FileNotFoundError:
        return -1, target.parent.stat().st_gid


def _give(fd: int, uid: int, gid: int) -> None:
    for owner in ((uid, gid), (-1, gid)):
        try:
            os.fchown(fd, *owner)
            return
        except PermissionError:  # only root gives a file away; anyone may pick a group they belong to
            continue


def create_for_group(path: str | Path, mode: int) -> None:
    """Create `path` empty, if it is missing, with `mode` and the group of its folder, whatever the umask: for
    files that grow in place (an SQLite database, a lock) and that root and the service both open."""
    path = Path(path)
    owner = _owner_for(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        _give(fd, *owner)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def make_folder(folder: str | Path, mode: int = SHARED_FOLDER) -> Path:
    """Create `folder` and missing parents, each with `mode` and the group of the folder above it, whatever the
    umask of whoever runs the command (root ingesting from a terminal must not lock the service out)."""
    folder = Path(folder)
    missing = []
    for path in (folder, *folder.parents):
        if path.is_dir():
            break
        missing.append(path)
    for path in reversed(missing):
        with suppress(FileExistsError):  # another writer made it meanwhile
            os.mkdir(path)
            with suppress(PermissionError):
                os.chown(path, -1, path.parent.stat().st_gid)
            os.chmod(path, mode)
    return folder


def free_bytes(path: str | Path) -> int:
    """Free bytes for an ordinary user on the file system that holds `path` (or would: the nearest folder)."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def write_atomic(path: str | Path, data: bytes | str, mode: int | None = None) -> Path:
    """Replace `path` with `data` (str as UTF-8), whole or not at all (see `replacing`). Returns the path."""
    with replacing(path, mode=mode) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes: an item's identity in the library, the feed and the as-run log."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def slug(text: str) -> str:
    """ASCII name from Vietnamese text, for file names and ids: 'Khai báo y tế' → 'khai-bao-y-te'."""
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()
    return "-".join("".join(ch if ch.isascii() and ch.isalnum() else " " for ch in plain).split())[:80]
