"""Where a commune gets the feed from: the district's web server (HTTP/HTTPS) or a folder (USB stick, inbox).

Both give the same two things — the manifest envelope bytes and a clip's bytes into a `.part` file — and know
nothing about signatures; sync.py checks everything they return. HTTP uses conditional requests
(If-None-Match / If-Modified-Since) for the manifest and Range requests to resume clips, each within a deadline
for the whole file (http_client.py). Redirects are followed, since real feeds sit behind them: every byte is
checked against the signed manifest anyway.

A folder is untrusted input from whoever plugged in the stick: only regular files are read (a symlink to
/dev/zero or a FIFO is refused without being opened for reading, so it can neither fill the disk nor block the
sync), and never more bytes than the manifest declares.
"""

from __future__ import annotations

import errno
import http.client
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from broadcaster.feed.errors import FeedError, feed_error
from broadcaster.feed.http_client import Deadline, DeadlinePassed, request
from broadcaster.feed.manifest import Clip

MANIFEST_NAME = "manifest.json"
# Far above a real manifest (a thousand clips is ~600 kB) and small enough to parse without worry.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_ROOT_BYTES = 256 * 1024  # a root names a few keys: a few kB
_CHUNK = 64 * 1024
USER_AGENT = "broadcaster-commune-sync/1"


@dataclass(frozen=True)
class Fetched:
    data: bytes | None  # None: not modified since the validators we sent
    etag: str | None = None
    last_modified: str | None = None
    bytes_read: int = 0


class HttpSource:
    def __init__(self, base_url: str, timeout: float = 30.0):
        self.base = base_url if base_url.endswith("/") else base_url + "/"
        self.name = self.base
        self.timeout = timeout

    def manifest(self, etag: str | None = None, last_modified: str | None = None, *,
                 deadline: Deadline | None = None) -> Fetched:
        url = urljoin(self.base, MANIFEST_NAME)
        deadline = deadline or Deadline(self.timeout)
        headers = {"User-Agent": USER_AGENT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with request("GET", url, headers=headers, deadline=deadline, timeout=self.timeout,
                         follow_redirects=True) as resp:
                if resp.status == 304:
                    return Fetched(None, etag, last_modified)
                if resp.status != 200:
                    raise _http_error(url, resp.status)
                length = resp.headers.get("Content-Length", "")
                if length.isdigit() and int(length) > MAX_MANIFEST_BYTES:
                    raise _too_large(url)
                data = resp.read(MAX_MANIFEST_BYTES)
                if len(data) > MAX_MANIFEST_BYTES:
                    raise _too_large(url)
                return Fetched(data, resp.headers.get("ETag"), resp.headers.get("Last-Modified"), len(data))
        except DeadlinePassed:
            raise _too_slow(url, "danh mục", "the manifest") from None
        except (http.client.HTTPException, OSError) as err:
            raise _unreachable(url, err) from None

    def root(self, version: int, *, deadline: Deadline | None = None) -> bytes | None:
        """root/<version>.root.json, or None when the server has no such file (the chain ends there)."""
        url = urljoin(self.base, f"root/{version}.root.json")
        try:
            with request("GET", url, headers={"User-Agent": USER_AGENT}, deadline=deadline or Deadline(self.timeout),
                         timeout=self.timeout, follow_redirects=True) as resp:
                if resp.status == 404:
                    return None
                if resp.status != 200:
                    raise _http_error(url, resp.status)
                data = resp.read(MAX_ROOT_BYTES)
        except DeadlinePassed:
            raise _too_slow(url, "root", "the root metadata") from None
        except (http.client.HTTPException, OSError) as err:
            raise _unreachable(url, err) from None
        if len(data) > MAX_ROOT_BYTES:
            raise _too_large(url)
        return data

    def download(self, clip: Clip, part: Path, max_bytes: int, *, deadline: Deadline | None = None) -> int:
        """Fetch the clip into `part`, resuming from what is already there; returns bytes transferred."""
        url = urljoin(self.base, clip.file)
        deadline = deadline or Deadline(self.timeout)
        have = part.stat().st_size if part.exists() else 0
        if have > clip.size:
            part.unlink()
            have = 0
        if have == clip.size:
            return 0
        headers = {"User-Agent": USER_AGENT}
        if have:
            headers["Range"] = f"bytes={have}-"
        moved = 0
        try:
            with request("GET", url, headers=headers, deadline=deadline, timeout=self.timeout,
                         follow_redirects=True) as resp:
                if resp.status == 416:
                    part.unlink(missing_ok=True)  # our .part no longer fits the file: start over next time
                if resp.status not in (200, 206):
                    raise _http_error(url, resp.status)
                if resp.status == 200 and have:
                    have = 0  # the server ignored our Range: start over
                elif resp.status == 206 and not (resp.headers.get("Content-Range") or "").startswith(
                        f"bytes {have}-"):
                    raise feed_error("bad-range", url, "máy chủ trả sai đoạn tệp", "the server sent the wrong range")
                length = resp.headers.get("Content-Length")
                if length and length.isdigit() and have + int(length) > min(clip.size, max_bytes):
                    raise feed_error("oversized", url, "tệp lớn hơn kích thước khai báo hoặc giới hạn",
                                     f"the server offers {have + int(length)} bytes, more than the declared "
                                     f"{clip.size} or the limit {max_bytes}")
                with open(part, "r+b" if have else "wb") as out:
                    out.seek(have)
                    out.truncate()
                    for chunk in resp.chunks(_CHUNK):
                        have += len(chunk)
                        moved += len(chunk)
                        if have > clip.size:
                            raise feed_error("oversized", url, "máy chủ gửi nhiều hơn kích thước khai báo",
                                             f"the server sent more than the declared {clip.size} bytes")
                        out.write(chunk)
        except FeedError as err:
            if err.code in ("oversized", "bad-range"):
                part.unlink(missing_ok=True)  # never resume from bytes we cannot trust
            raise
        except DeadlinePassed:
            # What arrived is kept: the next sync resumes it, so a slow line still gets the clip in the end.
            raise _too_slow(url, "tin bài", "the clip", have, clip.size) from None
        except OSError as err:
            if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
                part.unlink(missing_ok=True)  # our own disk: free what the half copy took
                raise _disk_error(part, err) from None
            raise _interrupted(url, have, clip.size, err) from None
        except http.client.HTTPException as err:
            raise _interrupted(url, have, clip.size, err) from None
        if have < clip.size:
            raise _interrupted(url, have, clip.size, "connection closed early")
        return moved


class FolderSource:
    """A copy of the feed folder: on a USB stick, or copied into the station's inbox."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.name = str(self.folder)

    def manifest(self, etag: str | None = None, last_modified: str | None = None, *,
                 deadline: Deadline | None = None) -> Fetched:
        path = self.folder / MANIFEST_NAME
        try:
            fd = open_regular(self.folder, MANIFEST_NAME)
        except FeedError:
            raise
        except OSError as err:
            raise feed_error("unreachable", str(path), "không đọc được danh mục trong thư mục",
                             f"cannot read the manifest: {err.strerror or err}",
                             "kiểm tra USB; sẽ tự thử lại", "check the USB stick; sync will try again") from None
        with os.fdopen(fd, "rb") as fh:
            if os.fstat(fh.fileno()).st_size > MAX_MANIFEST_BYTES:
                raise _too_large(str(path))
            try:
                data = fh.read(MAX_MANIFEST_BYTES + 1)
            except OSError as err:
                raise feed_error("unreachable", str(path), "không đọc được danh mục trong thư mục",
                                 f"cannot read the manifest: {err.strerror or err}") from None
        if len(data) > MAX_MANIFEST_BYTES:
            raise _too_large(str(path))
        return Fetched(data, bytes_read=len(data))

    def root(self, version: int, *, deadline: Deadline | None = None) -> bytes | None:
        where = self.folder / "root" / f"{version}.root.json"
        try:
            fd = open_regular(self.folder, "root", f"{version}.root.json")
        except FileNotFoundError:
            return None
        except OSError as err:
            raise feed_error("unreachable", str(where), "không đọc được root", f"cannot read the root file "
                             f"({err.strerror or err})") from None
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(MAX_ROOT_BYTES + 1)
        if len(data) > MAX_ROOT_BYTES:
            raise _too_large(str(where))
        return data

    def download(self, clip: Clip, part: Path, max_bytes: int, *, deadline: Deadline | None = None) -> int:
        """Copy the clip into `part`: a regular file only, at most its declared size. A failed copy leaves no
        .part behind (there is nothing to resume from a folder)."""
        src = self.folder / clip.file  # clip.file is clips/<sha>.<ext>, checked in manifest.py
        try:
            fd = open_regular(self.folder, *Path(clip.file).parts)
        except FeedError:
            raise
        except FileNotFoundError:
            raise feed_error("missing", str(src), "thiếu tệp tin bài trong thư mục",
                             "the clip file is missing") from None
        except OSError as err:
            raise feed_error("unreachable", str(src), f"không đọc được tệp tin bài ({err.strerror})",
                             f"cannot read the clip file ({err.strerror or err})",
                             "kiểm tra USB; sẽ tự thử lại", "check the USB stick; sync will try again") from None
        limit = min(clip.size, max_bytes)
        copied = 0
        try:
            with os.fdopen(fd, "rb") as fin:
                size = os.fstat(fin.fileno()).st_size
                if size > limit:
                    raise _oversized_file(src, size, clip.size, max_bytes)
                with open(part, "wb") as out:
                    # Never more than declared, even should the file grow while it is copied.
                    while copied <= limit and (chunk := fin.read(min(_CHUNK, limit + 1 - copied))):
                        copied += len(chunk)
                        if copied > limit:
                            raise _oversized_file(src, copied, clip.size, max_bytes)
                        out.write(chunk)
        except FeedError:
            part.unlink(missing_ok=True)
            raise
        except OSError as err:
            part.unlink(missing_ok=True)
            if err.errno in (errno.ENOSPC, errno.EDQUOT):
                raise _disk_error(part, err) from None
            raise feed_error("io-error", str(src), f"lỗi đọc/ghi khi chép tin bài ({err.strerror})",
                             f"read/write error while copying the clip ({err.strerror or err})",
                             "kiểm tra USB và ổ đĩa; sẽ tự thử lại",
                             "check the USB stick and the disk; sync will try again") from None
        return copied


def open_regular(folder: Path, *names: str) -> int:
    """A read-only descriptor for folder/names..., or FeedError "not-a-file" if any part is a symlink or the
    file is not a regular file. Each step is opened relative to the last with O_NOFOLLOW, and the file with
    O_NONBLOCK, so a FIFO cannot block us and nothing is read before fstat says it is a regular file."""
    where = str(Path(folder, *names))
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in names[:-1]:
            try:
                child = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
            except OSError as err:
                if err.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _not_a_file(where, "thư mục con là liên kết hoặc không phải thư mục",
                                      "a folder on the way is a symlink or not a folder") from None
                raise
            os.close(dir_fd)
            dir_fd = child
        try:
            fd = os.open(names[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
        except OSError as err:
            if err.errno == errno.ELOOP:
                raise _not_a_file(where, "là liên kết tượng trưng (symlink)", "it is a symbolic link") from None
            raise
    finally:
        os.close(dir_fd)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "FIFO" if stat.S_ISFIFO(mode) else "device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else \
            "socket" if stat.S_ISSOCK(mode) else "folder" if stat.S_ISDIR(mode) else "special file"
        raise _not_a_file(where, f"không phải tệp thường ({kind})", f"it is not a regular file ({kind})")
    os.set_blocking(fd, True)
    return fd


def _not_a_file(where: str, vi: str, en: str) -> FeedError:
    return feed_error("not-a-file", where, f"không nhận tệp này: {vi}", f"refused: {en}",
                      "chép lại thư mục feed từ đài huyện (chỉ tệp thường); sẽ tự thử lại",
                      "copy the district's feed folder again (plain files only); sync will try again")


def _too_large(where: str) -> FeedError:
    return feed_error("oversized", where, f"danh mục tin bài quá lớn (trên {MAX_MANIFEST_BYTES // 2**20} MB)",
                      f"the manifest is too large (over {MAX_MANIFEST_BYTES // 2**20} MB); not read",
                      "không dùng; báo đài huyện", "nothing was used; tell the district")


def _oversized_file(src: Path, size: int, declared: int, limit: int) -> FeedError:
    return feed_error("oversized", str(src), "tệp lớn hơn kích thước khai báo hoặc giới hạn",
                      f"the file is {size} bytes or more, more than the declared {declared} or the limit {limit}")


def _disk_error(part: Path, err: OSError) -> FeedError:
    return feed_error("disk-full", str(part.parent), f"không ghi được vào ổ đĩa của trạm ({err.strerror})",
                      f"cannot write to this station's disk ({err.strerror or err}); the partial copy was removed",
                      "giải phóng chỗ trống (audio/.retired) hoặc kiểm tra quyền; sẽ tự thử lại",
                      "free some space (audio/.retired) or check permissions; sync will try again")


def _too_slow(url: str, what_vi: str, what_en: str, have: int | None = None, size: int | None = None) -> FeedError:
    got = f" ({have}/{size} byte)" if have is not None else ""
    return feed_error("too-slow", url, f"tải {what_vi} quá chậm, quá thời hạn{got}; lần sau tải tiếp",
                      f"fetching {what_en} took longer than its deadline{got}; the next sync carries on",
                      "kiểm tra mạng hoặc tăng feed.file_deadline_seconds",
                      "check the network, or raise feed.file_deadline_seconds")


def _http_error(url: str, status: int) -> FeedError:
    return feed_error("http-error" if status != 404 else "not-found", url,
                      f"máy chủ huyện trả lỗi HTTP {status}", f"the district server answered HTTP {status}",
                      "thử lại sau; nếu kéo dài, báo đài huyện", "will retry; if it lasts, tell the district")


def _unreachable(url: str, err: object) -> FeedError:
    reason = str(getattr(err, "reason", err))[:200]
    return feed_error("unreachable", url, f"không kết nối được máy chủ huyện ({reason})",
                      f"cannot reach the district server ({reason})",
                      "kiểm tra mạng; sẽ tự thử lại", "check the network; sync will retry by itself")


def _interrupted(url: str, have: int, size: int, err: object) -> FeedError:
    return feed_error("interrupted", url, f"tải tệp bị ngắt ({have}/{size} byte), lần sau tải tiếp",
                      f"download interrupted at {have} of {size} bytes ({str(err)[:200]}); the next sync resumes it")
