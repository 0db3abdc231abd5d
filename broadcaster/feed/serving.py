"""An HTTP server for the open internet: bounded threads, socket timeouts, a deadline per connection.

The standard ThreadingHTTPServer starts a thread per connection and waits on each without limit, so 50
connections that never send a request hold 50 threads for ever. Here a connection waits in a "waiting room"
(one thread with a selector) until its first bytes arrive, and only then goes to a fixed pool of workers; one
that sends nothing within `read_timeout` is closed there, costing no worker. A worker's socket reads wait at
most `read_timeout`, and a connection that drips (a byte every few seconds, each read within the timeout) is shut
at `request_deadline`. Both the collector and `district serve` use it; TLS goes in front (docs/deploy.md).
"""

from __future__ import annotations

import logging
import selectors
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import HTTPServer

logger = logging.getLogger(__name__)


class BoundedHTTPServer(HTTPServer):
    workers = 16
    read_timeout = 10.0
    request_deadline: float | None = 60.0
    max_waiting = 1024  # connections waiting for their first bytes; more are closed at once
    request_queue_size = 1024  # the kernel's backlog: hundreds of communes may connect at once
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, *, workers: int | None = None,
                 read_timeout: float | None = None, request_deadline: float | None = -1.0):
        self.workers = workers or self.workers
        self.read_timeout = read_timeout or self.read_timeout
        if request_deadline != -1.0:
            self.request_deadline = request_deadline
        super().__init__(address, handler)
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="http-worker")
        self._lock = threading.Lock()
        self._arrivals: list[tuple[socket.socket, tuple]] = []
        self._active: dict[socket.socket, float] = {}
        self._closed = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._watcher = threading.Thread(target=self._watch, daemon=True, name="http-waiting-room")
        self._watcher.start()

    # socketserver calls this for each accepted connection
    def process_request(self, request: socket.socket, client_address: tuple) -> None:
        with self._lock:
            self._arrivals.append((request, client_address))
        self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:
            pass

    def _watch(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._wake_r, selectors.EVENT_READ)
        waiting: dict[socket.socket, tuple[tuple, float]] = {}
        while not self._closed.is_set():
            for key, _ in selector.select(timeout=0.25):
                sock = key.fileobj
                if sock is self._wake_r:
                    try:
                        self._wake_r.recv(4096)
                    except OSError:
                        pass
                    continue
                selector.unregister(sock)
                address, _ = waiting.pop(sock)
                self._dispatch(sock, address)
            with self._lock:
                arrivals, self._arrivals = self._arrivals, []
            now = time.monotonic()
            for sock, address in arrivals:
                if len(waiting) >= self.max_waiting:
                    self.shutdown_request(sock)
                    continue
                waiting[sock] = (address, now + self.read_timeout)
                selector.register(sock, selectors.EVENT_READ)
            for sock, (_, until) in list(waiting.items()):
                if until <= now:  # connected and silent: closed without ever taking a worker
                    selector.unregister(sock)
                    del waiting[sock]
                    self.shutdown_request(sock)
            with self._lock:
                overdue = [s for s, until in self._active.items() if until <= now]
            for sock in overdue:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # the worker's read returns at once and it moves on
                except OSError:
                    pass
        for sock in waiting:
            self.shutdown_request(sock)
        selector.close()

    def _dispatch(self, sock: socket.socket, address: tuple) -> None:
        try:
            self._pool.submit(self._work, sock, address)
        except RuntimeError:  # the pool is shut down: the server is closing
            self.shutdown_request(sock)

    def _work(self, sock: socket.socket, address: tuple) -> None:
        with self._lock:
            self._active[sock] = time.monotonic() + (self.request_deadline or float("inf"))
        try:
            sock.settimeout(self.read_timeout)
            self.finish_request(sock, address)
        except Exception:
            self.handle_error(sock, address)
        finally:
            with self._lock:
                self._active.pop(sock, None)
            self.shutdown_request(sock)

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client that timed out or went away is not news
        logger.exception("request from %s failed", client_address[0] if client_address else "?")

    def server_close(self) -> None:
        super().server_close()
        self._closed.set()
        self._wake()
        self._watcher.join(2)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._wake_r.close()
        self._wake_w.close()
