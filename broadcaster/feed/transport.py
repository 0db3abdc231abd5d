"""Where a commune gets the feed from: the district's web server (HTTP/HTTPS) or a folder (USB stick, inbox).

Both give the same two things — the manifest envelope bytes and a clip's bytes into a `.part` file — and know
nothing about signatures; sync.py checks everything they return. HTTP uses conditional requests
(If-None-Match / If-Modified-Since) for the manifest and Range requests to resume clips. Redirects are followed
(urllib's default), since real feeds sit behind them.
"""

from __future__ import annotations

import http.client
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

from broadcaster.feed.errors import FeedError, feed_error
from broadcaster.feed.manifest import Clip

MANIFEST_NAME = "manifest.json"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
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

    def manifest(self, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        url = urljoin(self.base, MANIFEST_NAME)
        headers = {"User-Agent": USER_AGENT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=self.timeout) as resp:
                data = resp.read(MAX_MANIFEST_BYTES + 1)
                if len(data) > MAX_MANIFEST_BYTES:
                    raise feed_error("oversized", url, "danh mục tin bài quá lớn", "the manifest is too large")
                return Fetched(data, resp.headers.get("ETag"), resp.headers.get("Last-Modified"), len(data))
        except urllib.error.HTTPError as err:
            if err.code == 304:
                return Fetched(None, etag, last_modified)
            raise _http_error(url, err) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
            raise _unreachable(url, err) from None

    def download(self, clip: Clip, part: Path, max_bytes: int) -> int:
        """Fetch the clip into `part`, resuming from what is already there; returns bytes transferred."""
        url = urljoin(self.base, clip.file)
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
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=self.timeout) as resp:
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
                    while chunk := resp.read(_CHUNK):
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
        except urllib.error.HTTPError as err:
            if err.code == 416:
                part.unlink(missing_ok=True)  # our .part no longer fits the file: start over next time
            raise _http_error(url, err) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
            raise _interrupted(url, have, clip.size, err) from None
        if have < clip.size:
            raise _interrupted(url, have, clip.size, "connection closed early")
        return moved


class FolderSource:
    """A copy of the feed folder: on a USB stick, or copied into the station's inbox."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.name = str(self.folder)

    def manifest(self, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        path = self.folder / MANIFEST_NAME
        try:
            if path.stat().st_size > MAX_MANIFEST_BYTES:
                raise feed_error("oversized", str(path), "danh mục tin bài quá lớn", "the manifest is too large")
            data = path.read_bytes()
        except OSError as err:
            raise feed_error("unreachable", str(path), "không đọc được danh mục trong thư mục",
                             f"cannot read the manifest: {err.strerror or err}") from None
        return Fetched(data, bytes_read=len(data))

    def download(self, clip: Clip, part: Path, max_bytes: int) -> int:
        src = self.folder / clip.file  # clip.file is clips/<sha>.<ext>, checked in manifest.py
        try:
            size = src.stat().st_size
        except OSError:
            raise feed_error("missing", str(src), "thiếu tệp tin bài trong thư mục",
                             "the clip file is missing") from None
        if size > min(clip.size, max_bytes):
            raise feed_error("oversized", str(src), "tệp lớn hơn kích thước khai báo hoặc giới hạn",
                             f"the file is {size} bytes, more than the declared {clip.size} or the limit {max_bytes}")
        with open(src, "rb") as fin, open(part, "wb") as out:
            shutil.copyfileobj(fin, out, _CHUNK)
        return size


def _http_error(url: str, err: urllib.error.HTTPError) -> FeedError:
    return feed_error("http-error" if err.code != 404 else "not-found", url,
                      f"máy chủ huyện trả lỗi HTTP {err.code}", f"the district server answered HTTP {err.code}",
                      "thử lại sau; nếu kéo dài, báo đài huyện", "will retry; if it lasts, tell the district")


def _unreachable(url: str, err: object) -> FeedError:
    reason = getattr(err, "reason", err)
    return feed_error("unreachable", url, f"không kết nối được máy chủ huyện ({reason})",
                      f"cannot reach the district server ({reason})",
                      "kiểm tra mạng; sẽ tự thử lại", "check the network; sync will retry by itself")


def _interrupted(url: str, have: int, size: int, err: object) -> FeedError:
    return feed_error("interrupted", url, f"tải tệp bị ngắt ({have}/{size} byte), lần sau tải tiếp",
                      f"download interrupted at {have} of {size} bytes ({err}); the next sync resumes it")
