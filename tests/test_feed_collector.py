"""The district's servers facing the internet (issue 11, items 17 and 18): half-open and dripping connections
against the real collector and the real `district serve` file server on loopback; a commune's summary with
`"plays": "lots"` refused at receipt, and a stored one flagged by the report instead of breaking it."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from datetime import date

import pytest

from broadcaster.feed.collector import connect
from broadcaster.feed.report import build, render
from broadcaster.feed.static import FeedFileHandler
from tests.support.feed import collecting, serving

LIMITS = {"read_timeout": 1.0, "request_deadline": 2.0, "workers": 4}


@pytest.fixture
def strict_collector(tmp_path, collector):
    """The real collector with short limits (the defaults are 10 s and 30 s)."""
    with collecting(tmp_path / "strict.sqlite", collector.tokens, **LIMITS) as server:
        yield server, collector.token


@pytest.fixture
def file_server(tmp_path):
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "manifest.json").write_text("{}", encoding="utf-8")
    with serving(tmp_path / "feed", FeedFileHandler, **LIMITS) as server:
        yield server


def post(port: int, token: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/messages", data=json.dumps(payload).encode(),
                                     method="POST", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def half_open(port: int, n: int) -> list[socket.socket]:
    """Connections that say nothing (a scanner, a slowloris before its first byte)."""
    return [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]


def closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def summary(day: str = "2026-12-01", plays: object = 3) -> dict:
    return {"id": f"summary-{day}", "kind": "summary", "body": {"day": day, "items": [
        {"sha256": "a" * 64, "category": "bluezone", "title": "Bluezone", "plays": plays, "seconds": 60.0,
         "failed": 0}], "by_category": {}}}


def test_fifty_half_open_connections_hold_no_worker_and_are_closed(strict_collector):
    server, token = strict_collector
    port = server.server_address[1]
    before = threading.active_count()
    held = half_open(port, 50)
    try:
        time.sleep(0.3)
        assert threading.active_count() - before <= LIMITS["workers"], threading.active_count() - before
        started = time.monotonic()
        assert post(port, token["xa-a"], {"messages": [summary()]})[0] == 200  # a commune still gets through
        assert time.monotonic() - started < 1.0
        assert all(closed_by_server(s, 3.0) for s in held)  # silent ones closed after read_timeout
    finally:
        for sock in held:
            sock.close()


def test_a_dripping_client_is_cut_at_the_request_deadline(strict_collector):
    server, _ = strict_collector
    sock = socket.create_connection(("127.0.0.1", server.server_address[1]))
    started = time.monotonic()
    cut = False
    try:
        for byte in b"POST /messages HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            sock.send(bytes([byte]))  # each byte within read_timeout: only the deadline ends it
            time.sleep(0.3)
            if time.monotonic() - started > 6:
                break
    except OSError:
        cut = True
    if not cut:
        cut = closed_by_server(sock, 1.0)
    sock.close()
    assert cut and time.monotonic() - started < LIMITS["request_deadline"] + 2.0


def test_district_serve_bounds_threads_too(file_server):
    port = file_server.server_address[1]
    before = threading.active_count()
    held = half_open(port, 50)
    try:
        time.sleep(0.3)
        assert threading.active_count() - before <= LIMITS["workers"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/manifest.json", timeout=5) as resp:
            assert resp.status == 200 and resp.read() == b"{}"
        assert all(closed_by_server(s, 3.0) for s in held)
    finally:
        for sock in held:
            sock.close()


def test_summary_with_plays_lots_is_refused_at_receipt_with_the_reason(collector):
    port = collector.server.server_address[1]
    code, answer = post(port, collector.token["xa-a"], {"messages": [summary("2026-12-01"),
                                                                     summary("2026-12-02", "lots")]})
    assert code == 400 and "items[0].plays" in answer["error"] and "'lots'" in answer["error"]
    assert "messages[1]" in answer["error"]
    db = connect(collector.db)
    assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 0  # nothing of the batch stored
    db.close()


def test_report_flags_a_bad_stored_row_and_counts_the_others(collector):
    port = collector.server.server_address[1]
    assert post(port, collector.token["xa-a"], {"messages": [summary("2026-12-01")]})[0] == 200
    db = connect(collector.db)  # a row stored by an older collector, before messages were checked
    db.execute("INSERT INTO messages VALUES ('xa-b', 'old-1', 'summary', '', '2026-12-01T01:00:00+00:00', ?)",
               (json.dumps(summary("2026-12-01", "lots")["body"]),))
    db.close()
    report = build(collector.db, date(2026, 12, 1), date(2026, 12, 1), ["xa-a", "xa-b"])
    assert [c.all_plays for c in report.communes if c.commune == "xa-a"] == [3]
    assert len(report.bad_rows) == 1 and "xa-b" in report.bad_rows[0] and "plays" in report.bad_rows[0]
    assert "bad rows" in render(report, "text") and "bad_row" in render(report, "csv")
