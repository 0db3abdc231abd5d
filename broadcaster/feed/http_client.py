"""HTTP for the feed, with a deadline on the whole exchange rather than on each read.

A per-read socket timeout does not bound a server that drips one byte every half second; a deadline does. Each
request gets a watchdog that shuts the socket down when its deadline passes (or when the sync is cancelled),
so a stalled connect, a dripping header or a dripping body all end on time. Built on http.client rather than
urllib so that redirects are a decision: GETs of the public feed follow them, authenticated posts never do (a
redirect must not carry the bearer token to another host).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5


class DeadlinePassed(TimeoutError):
    """The exchange took longer than its deadline (or the sync was cancelled)."""


class Deadline:
    """A point in monotonic time; `cancel` (a threading.Event) ends it early, e.g. on shutdown."""

    def __init__(self, seconds: float, cancel: threading.Event | None = None):
        self.end = time.monotonic() + seconds
        self.cancel = cancel

    def remaining(self) -> float:
        if self.cancel is not None and self.cancel.is_set():
            return 0.0
        return max(0.0, self.end - time.monotonic())

    @property
    def passed(self) -> bool:
        return self.remaining() <= 0.0

    def within(self, seconds: float) -> Deadline:
        """A deadline no later than this one, `seconds` from now at most (per file inside a sync)."""
        child = Deadline(min(seconds, self.remaining()), self.cancel)
        return child


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    url: str
    _conn: http.client.HTTPConnection
    _resp: http.client.HTTPResponse
    _deadline: Deadline
    _watchdog: _Watchdog | None

    def chunks(self, size: int = 64 * 1024) -> Iterator[bytes]:
        """The body as it arrives; raises DeadlinePassed once the deadline has passed."""
        while True:
            try:
                data = self._resp.read1(size)
            except (OSError, http.client.HTTPException):
                if self._deadline.passed:
                    raise DeadlinePassed(self.url) from None
                raise
            if self._deadline.passed:
                raise DeadlinePassed(self.url)
            if not data:
                return
            yield data

    def read(self, limit: int) -> bytes:
        """At most limit + 1 bytes (so a caller can tell 'over the limit' from 'exactly the limit')."""
        out = bytearray()
        for chunk in self.chunks():
            out += chunk
            if len(out) > limit:
                break
        return bytes(out[:limit + 1])

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._conn.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def request(method: str, url: str, *, headers: dict[str, str] | None = None, body: bytes | None = None,
            deadline: Deadline, timeout: float = 30.0, follow_redirects: bool = False) -> Response:
    """One HTTP exchange within `deadline`; each socket read also waits at most `timeout`.

    With follow_redirects (GET only) up to MAX_REDIRECTS redirects are followed, with the same headers. Without
    it a 3xx is returned to the caller like any other status. Raises DeadlinePassed, OSError or HTTPException."""
    for _ in range(MAX_REDIRECTS + 1):
        response = _once(method, url, headers or {}, body, deadline, timeout)
        location = response.headers.get("Location")
        if not (follow_redirects and response.status in REDIRECTS and location):
            return response
        response.close()
        url = urljoin(url, location)
    raise http.client.HTTPException(f"more than {MAX_REDIRECTS} redirects")


def _once(method: str, url: str, headers: dict[str, str], body: bytes | None, deadline: Deadline,
          timeout: float) -> Response:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise http.client.InvalidURL(f"not an http(s) URL: {url[:200]}")
    left = deadline.remaining()
    if left <= 0:
        raise DeadlinePassed(url)
    per_read = min(timeout, left)
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=per_read, context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=per_read)
    watchdog = None
    try:
        conn.connect()
        watchdog = _watch(conn.sock, deadline)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
    except (OSError, http.client.HTTPException):
        if watchdog is not None:
            watchdog.cancel()
        conn.close()
        if deadline.passed:
            raise DeadlinePassed(url) from None
        raise
    return Response(resp.status, resp.headers, url, conn, resp, deadline, watchdog)


def _watch(sock: socket.socket, deadline: Deadline) -> _Watchdog:
    return _Watchdog(sock, deadline)


class _Watchdog:
    """Shuts the socket down when the deadline passes; a cancel is noticed within a quarter second."""

    def __init__(self, sock: socket.socket, deadline: Deadline):
        self._done = threading.Event()
        self._sock, self._deadline = sock, deadline
        threading.Thread(target=self._run, daemon=True, name="feed-http-deadline").start()

    def _run(self) -> None:
        while not self._done.wait(min(0.25, self._deadline.remaining())):
            if self._deadline.passed:
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return

    def cancel(self) -> None:
        self._done.set()
