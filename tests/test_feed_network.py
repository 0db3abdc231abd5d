"""A slow, hanging or redirecting server (issue 11, items 10 and 19), with real loopback servers: one that drips a
byte every half second, one that accepts and never answers, a collector URL that redirects to another host.
Deadlines are short here (configured in each test) so the tests take seconds."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from broadcaster.feed.outbox import OUTBOX_FILE, Outbox
from broadcaster.feed.sync import send_results, sync_http, sync_inbox, sync_once
from tests.support.daemon import NEEDS_PULSEAUDIO, DaemonProcess, station_dir
from tests.support.feed import (
    FaultyFeedHandler,
    make_audio,
    make_station,
    running,
    serving,
    snapshot,
)

FAST = {"timeout_seconds": 30, "file_deadline_seconds": 1.5, "deadline_seconds": 4}
SLACK = 4.0  # what a loaded 2-core machine adds to a sync around the transfer (ingest, SQLite, summaries)


class DrippingHandler(FaultyFeedHandler):
    """Sends the files named in server.drip one byte every half second (headers at once)."""

    def send_body(self, path: Path, start: int, length: int) -> int:
        if path.name not in self.server.drip:
            return super().send_body(path, start, length)
        self.server.dripping.set()
        sent = 0
        with open(path, "rb") as fh:
            fh.seek(start)
            try:
                while sent < length and not self.server.stopping.is_set():
                    self.wfile.write(fh.read(1))
                    self.wfile.flush()
                    sent += 1
                    time.sleep(0.5)
            except OSError:
                pass  # the client gave up: that is the point
        return sent


@pytest.fixture
def dripping(district):
    """The district's feed server (as feed_server), dripping the files named in its `drip` set."""
    with serving(district.feed, DrippingHandler) as server:
        server.drip, server.dripping, server.stopping = set(), threading.Event(), threading.Event()
        yield server
        server.stopping.set()  # a handler mid-drip ends, so the server can shut down


@pytest.fixture
def hanging():
    """Accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    for conn in held:
        conn.close()
    listener.close()


def station_for(tmp_path, district, url, **extra):
    return make_station(tmp_path / "xa-a", feed={"url": url, "public_key": str(district.pub), **FAST, **extra})


def test_dripping_manifest_ends_at_its_deadline_and_changes_nothing(tmp_path, district, dripping):
    district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    dripping.drip.add("manifest.json")
    station = station_for(tmp_path, district, dripping.url)
    before = snapshot(station)
    started = time.monotonic()
    source = sync_once(station).sources[0]
    took = time.monotonic() - started
    assert (source.status, source.code) == ("rejected", "too-slow") and " / " in source.message
    assert took < 1.5 + SLACK, took  # the file deadline, not 1 byte × 0.5 s × the manifest's size
    assert snapshot(station) == before


def test_dripping_clip_ends_at_its_deadline_and_resumes_next_sync(tmp_path, district, dripping):
    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    dripping.drip.add(Path(clip.file).name)
    station = station_for(tmp_path, district, dripping.url)
    started = time.monotonic()
    source = sync_once(station).sources[0]
    assert time.monotonic() - started < 1.5 + SLACK
    assert source.pending == {clip.sha256: "too-slow"}
    part = station.paths.state / "feed-staging" / "http" / f"{clip.sha256}.part"
    kept = part.stat().st_size
    assert 0 < kept < clip.size  # what arrived is kept for the next sync
    dripping.drip.clear()
    again = sync_once(station).sources[0]
    assert again.added == [clip.sha256] and again.bytes_downloaded == clip.size - kept


def test_whole_sync_has_a_deadline_across_files(tmp_path, district, dripping):
    clips = [district.publish(make_audio(tmp_path / "src" / f"{n}.mp3", freq=300 + 100 * n))[1] for n in range(4)]
    dripping.drip.update(Path(c.file).name for c in clips)
    station = station_for(tmp_path, district, dripping.url, deadline_seconds=2.5, file_deadline_seconds=5)
    started = time.monotonic()
    source = sync_once(station).sources[0]
    assert time.monotonic() - started < 2.5 + SLACK  # not 4 × the 5 s file deadline (nor 4 × 30 s per read)
    assert set(source.pending.values()) == {"too-slow"} and len(source.pending) == 4


def test_server_that_never_answers_ends_at_the_deadline(tmp_path, district, hanging):
    district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    station = station_for(tmp_path, district, hanging)
    started = time.monotonic()
    source = sync_once(station).sources[0]
    assert time.monotonic() - started < 1.5 + SLACK  # the file deadline, not the 30 s read timeout
    assert (source.status, source.code) == ("rejected", "too-slow")


def test_inbox_and_outbox_do_not_wait_on_a_dripping_feed_and_a_cancel_ends_it(tmp_path, district, dripping,
                                                                              collector):
    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    dripping.drip.add(Path(clip.file).name)
    station = station_for(tmp_path, district, dripping.url, file_deadline_seconds=60, deadline_seconds=60,
                          collector_url=collector.url, collector_token=collector.token["xa-a"])
    cancel = threading.Event()
    http_result = []
    worker = threading.Thread(target=lambda: http_result.append(sync_http(station, cancel=cancel)), daemon=True)
    worker.start()
    assert dripping.dripping.wait(10)  # the HTTP sync is inside the clip download now
    shutil.copytree(district.feed, station.paths.inbox / "usb")

    started = time.monotonic()
    inbox = sync_inbox(station)
    results = send_results(station)
    took = time.monotonic() - started

    assert worker.is_alive()  # the HTTP sync is still dripping...
    assert inbox.added == [clip.sha256] and not inbox.busy  # ...and the USB copy got in regardless
    assert results.sent >= 2 and not results.outbox_error  # receipts went up meanwhile
    assert took < 10, took
    cancel.set()  # what the daemon's stop does
    worker.join(2)
    assert not worker.is_alive()
    assert http_result[0].sources[0].pending == {clip.sha256: "too-slow"}


class RedirectHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        self.send_response(302 if self.server.target else 200)
        if self.server.target:
            self.send_header("Location", self.server.target + "messages")
        self.send_header("Content-Length", "0")
        self.end_headers()


def recording_server(target: str | None) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RedirectHandler)
    server.seen, server.target = [], target
    return server


def test_collector_redirect_is_an_error_and_the_token_never_leaves(tmp_path):
    other = recording_server(None)  # another host that would answer 200
    redirecting = recording_server(f"http://127.0.0.1:{other.server_address[1]}/")
    with running(other), running(redirecting):
        station = make_station(tmp_path / "xa-a")
        outbox = Outbox(station.paths.state / OUTBOX_FILE, "xa-a")
        outbox.receipt(sha256="a" * 64, status="ingested", district="cam-giang", version=1)
        result = outbox.flush(f"http://127.0.0.1:{redirecting.server_address[1]}/", "secret-token-" * 3, 5)
        assert result.sent == 0 and result.queued == 1  # the batch stays queued
        assert "redirect" in result.error and "chuyển hướng" in result.error
        assert len(redirecting.seen) == 1 and other.seen == []  # the token went nowhere else
        outbox.close()


@NEEDS_PULSEAUDIO
def test_daemon_sigterm_during_a_dripping_sync_stops_in_time(tmp_path, district, dripping, daemon_pulse):
    """The real daemon process, its HTTP sync stuck in a dripping clip with a 10-minute file deadline: SIGTERM
    ends it within seconds (systemd allows 90 s; the stop used to wait for the sync)."""
    env, _ = daemon_pulse
    _, clip = district.publish(make_audio(tmp_path / "src" / "a.mp3"))
    dripping.drip.add(Path(clip.file).name)
    config, _ = station_dir(tmp_path / "station", 600, 60)
    config.write_text(config.read_text(encoding="utf-8") + f"feed:\n  url: {dripping.url}\n"
                      f"  public_key: {district.pub}\n  district: cam-giang\n  interval_minutes: 0.5\n"
                      "  file_deadline_seconds: 600\n  deadline_seconds: 1800\n", encoding="utf-8")
    daemon = DaemonProcess(config, env)
    assert dripping.dripping.wait(60), daemon.text()  # the daemon's sync is inside the clip now
    time.sleep(1.0)
    started = time.monotonic()
    code = daemon.stop()
    took = time.monotonic() - started
    assert code == 0 and took < 10, (code, took, daemon.text())
