"""Real parts for the feed tests: audio made with ffmpeg, a district key and feed folder, a static HTTP server
on loopback with ETag/Range (and switchable faults), the real collector, and a commune station config.

Its fixtures (district, feed_server, collector) reach every test through tests/conftest.py.
"""

from __future__ import annotations

import socketserver
import subprocess
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from broadcaster.feed import publish, signing
from broadcaster.feed.collector import CollectorServer, add_token, load_tokens
from broadcaster.feed.state import FeedState
from broadcaster.feed.static import FeedFileHandler, FeedFileServer
from broadcaster.library.district_rules import district_rules
from broadcaster.station.config import Station, load_station

__all__ = ["district", "feed_server", "collector", "running", "serving", "collecting", "make_audio", "make_station",
           "snapshot", "District", "FaultyFeedHandler"]


def make_audio(path: Path, seconds: float = 2.0, freq: int = 440) -> Path:
    """A small real MP3 (or WAV, by suffix) made with ffmpeg."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency={freq}:duration={seconds}",
                    "-ac", "1", "-ar", "22050", str(path)], check=True)
    return path


@dataclass
class District:
    root: Path
    feed: Path
    key: Path
    pub: Path

    def publish(self, audio: Path, **kw):
        kw.setdefault("category", "bluezone")
        kw.setdefault("title", audio.stem)
        kw.setdefault("district", "cam-giang")
        return publish.publish(self.feed, self.key, audio, **kw)


@pytest.fixture
def district(tmp_path) -> District:
    keys = tmp_path / "district-keys"
    private, public = signing.generate(keys)
    return District(tmp_path / "district", tmp_path / "district" / "feed", private, public)


class FaultyFeedHandler(FeedFileHandler):
    """The static handler, with faults the tests switch on through the server's `faults` dict:
    html: answer every request with an HTML page; cut: {file name: n} send only n bytes of that file once.
    no_etag: send Last-Modified but no ETag. Paths under /moved/ are redirected (301) to the same path without it.
    """

    def do_GET(self) -> None:
        faults = self.server.faults
        self.server.seen.append((self.path, self.headers.get("Range"), self.headers.get("If-None-Match")))
        if self.path.startswith("/moved/"):  # the district moved its feed: permanent redirect to the new place
            self.send_response(301)
            self.send_header("Location", self.path[len("/moved"):])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if faults.get("html"):
            data = b"<!DOCTYPE html><html><body>Wi-Fi login</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()

    def send_header(self, keyword: str, value: str) -> None:
        if keyword == "ETag" and self.server.faults.get("no_etag"):
            return  # a server with Last-Modified only (many CDNs for some objects)
        super().send_header(keyword, value)

    def send_body(self, path: Path, start: int, length: int) -> int:
        cut = self.server.faults.get("cut", {})
        if path.name in cut:
            n = cut.pop(path.name)
            with open(path, "rb") as fh:
                fh.seek(start)
                self.wfile.write(fh.read(n))
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)  # the line drops mid-file
            return n
        return super().send_body(path, start, length)


@contextmanager
def running(server: socketserver.BaseServer):
    """`server` serving on a thread of its own until the block ends, then shut down and closed."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def serving(folder: Path, handler: type[FeedFileHandler] = FaultyFeedHandler, **limits):
    """`folder` on a loopback HTTP server (the station's own FeedFileServer) with `handler`, as a context manager;
    faults are switched through `server.faults` and the requests it saw are in `server.seen`."""
    folder.mkdir(parents=True, exist_ok=True)
    server = FeedFileServer(("127.0.0.1", 0), folder, handler, **limits)
    server.faults, server.seen = {}, []
    return running(server)


@pytest.fixture
def feed_server(district):
    with serving(district.feed) as server:
        yield server


@dataclass
class Collector:
    server: CollectorServer
    tokens: Path
    db: Path
    token: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"


def collecting(db: Path, tokens: Path, **limits):
    """The real collector on loopback, storing into `db`, taking the communes' tokens in `tokens`, as a context
    manager."""
    return running(CollectorServer(("127.0.0.1", 0), db, load_tokens(tokens), tokens, **limits))


@pytest.fixture
def collector(tmp_path):
    tokens = tmp_path / "district" / "tokens.yaml"
    tokens.parent.mkdir(parents=True, exist_ok=True)
    token = {c: add_token(tokens, c) for c in ("xa-a", "xa-b")}
    with collecting(tmp_path / "district" / "collector.sqlite", tokens) as server:
        yield Collector(server, tokens, server.db_path, token)


def make_station(folder: Path, *, station_id: str = "xa-a", feed: dict | None = None) -> Station:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"station: {{commune: Xã {station_id}, name: Đài {station_id}, id: {station_id}}}",
             "slots:", "  - {id: sang, start: 05:30, end: 06:30, playlist: p}"]
    if feed:
        feed = {"district": "cam-giang"} | feed
        lines.append("feed:")
        lines += [f"  {k}: {v}" for k, v in feed.items()]
    (folder / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_station(folder / "config.yaml")


def snapshot(station: Station) -> dict:
    """What a refused sync must leave as it was: the library's files, the accepted versions, the clip rules."""
    audio = station.paths.audio
    files = sorted(str(p.relative_to(audio)) for p in audio.rglob("*") if p.is_file()) if audio.exists() else []
    state = FeedState.of(station)
    try:
        accepted = state.db.execute("SELECT anchor, district, version FROM accepted_versions ORDER BY anchor, "
                                    "district").fetchall()
    finally:
        state.close()
    staging = station.paths.state / "feed-staging"
    staged = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file()) if staging.exists() else []
    return {"audio": files, "accepted": accepted, "rules": district_rules(station), "staged": staged}

