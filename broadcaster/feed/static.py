"""A static file server for a feed folder, with the HTTP a commune's sync relies on: ETag / If-None-Match,
Last-Modified / If-Modified-Since and single byte ranges (Range → 206). The standard library's
SimpleHTTPRequestHandler has neither ETags nor ranges.

For a district without nginx (`python main.py district serve`), for the tests and for the benchmark. nginx,
a CDN or S3-compatible storage serve the same folder just as well.
"""

from __future__ import annotations

import email.utils
import os
import posixpath
import re
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from broadcaster.feed.serving import BoundedHTTPServer

_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
_CHUNK = 64 * 1024


class FeedFileServer(BoundedHTTPServer):
    # Bounded workers and read timeouts (serving.py). A clip to a commune on a slow line may take long, so the
    # whole-connection deadline is an hour; an idle keep-alive connection is closed after read_timeout.
    workers = 32
    read_timeout = 15.0
    request_deadline = 3600.0

    def __init__(self, address: tuple[str, int], root: Path, handler: type | None = None, **limits):
        self.root = Path(root).resolve()
        self.bytes_sent = 0
        self.statuses: dict[int, int] = {}
        self._count = threading.Lock()
        super().__init__(address, handler or FeedFileHandler, **limits)

    def count(self, status: int | None, sent: int) -> None:
        with self._count:
            if status is not None:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            self.bytes_sent += sent

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


class FeedFileHandler(BaseHTTPRequestHandler):
    server: FeedFileServer
    server_version = "broadcaster-feed/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass

    def send_response(self, code: int, message: str | None = None) -> None:
        self.server.count(code, 0)  # before the client can see the answer, so counts are never behind
        super().send_response(code, message)

    def resolve(self) -> Path | None:
        """The file for the request path, never outside the root (no '..', no hidden files)."""
        parts = [p for p in posixpath.normpath(unquote(urlsplit(self.path).path)).split("/") if p]
        if any(p.startswith(".") for p in parts):
            return None
        path = self.server.root.joinpath(*parts)
        return path if path.is_file() and path.resolve().is_relative_to(self.server.root) else None

    def _plain(self, status: int, text: str = "") -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.server.count(None, len(data))

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        path = self.resolve()
        if path is None:
            self._plain(404, "not found")
            return
        st = path.stat()
        etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
        modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        match = self.headers.get("If-None-Match")
        since = self.headers.get("If-Modified-Since")
        not_modified = (match is not None and etag in [t.strip() for t in match.split(",")]) or (
            match is None and since is not None and _not_after(st.st_mtime, since))
        if not_modified:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            self.end_headers()
            return
        start, end, status = 0, st.st_size - 1, 200
        wanted = self.headers.get("Range")
        if wanted:
            m = _RANGE.fullmatch(wanted.strip())
            if not m or int(m.group(1)) >= st.st_size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{st.st_size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start, status = int(m.group(1)), 206
            end = min(int(m.group(2)), st.st_size - 1) if m.group(2) else st.st_size - 1
        length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if path.suffix == ".json" else "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{st.st_size}")
        self.end_headers()
        if self.command == "HEAD":
            return
        self.server.count(None, self.send_body(path, start, length))

    def send_body(self, path: Path, start: int, length: int) -> int:
        sent = 0
        with open(path, "rb") as fh:
            fh.seek(start)
            while sent < length and (chunk := fh.read(min(_CHUNK, length - sent))):
                self.wfile.write(chunk)
                sent += len(chunk)
        return sent


def _not_after(mtime: float, header: str) -> bool:
    try:
        since = email.utils.parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return False
    return int(mtime) <= since


def serve_in_thread(root: Path, host: str = "127.0.0.1", port: int = 0, handler: type | None = None,
                    **limits) -> tuple[FeedFileServer, threading.Thread]:
    server = FeedFileServer((host, port), root, handler, **limits)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name=f"feed-server-{os.getpid()}")
    thread.start()
    return server, thread
