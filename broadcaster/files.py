"""Files that survive a power cut, and the small file helpers every stage shares.

A file the station writes for itself (plan cache, state markers, catalogue, station copies, feed clips, an
edited config) either appears whole under its name or not at all: write to a hidden temp file beside it, flush
it to disk, rename it over the name, then flush the folder, because the rename lives in the folder's entry.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHUNK = 1 << 20  # bytes read at a time when hashing: large files never sit in memory whole


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
    what only the station may read."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")  # hidden, unique per writer
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
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
